import { WeightedTable, type Prng } from "../core/prng";

/**
 * Share of a day's events per UTC hour when a run asks for a daily curve: quiet at night, a
 * morning rise, busiest in the afternoon — the shape of consumer web traffic. Relative weights.
 */
export const DAILY_CURVE = [18, 12, 9, 8, 9, 14, 25, 42, 60, 74, 85, 93, 97, 100, 98, 95, 92, 90, 86, 78, 66, 52, 38, 26];

const hours = new WeightedTable(DAILY_CURVE.map((w, h) => [h, w] as const));

/** A second of the day drawn along the curve: the hour by weight, the second uniformly inside it. */
export function curvedSecondOfDay(rng: Prng): number {
  return hours.draw(rng) * 3600 + rng.int(3600);
}
