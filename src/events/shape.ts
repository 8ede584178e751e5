import { ValidationError } from "../core/errors";
import { describe } from "../core/fields";
import { Prng } from "../core/prng";

/**
 * Load shapes: a run's target rate (events per second across all streams) as a function of the
 * time since it started, for a duration. Every shape is a list of linear segments, so the events
 * due by time t — the integral Λ(t) of the rate — and its inverse have closed forms.
 *
 * Written as text (the CLI's `--shape`, or the event's `shape`):
 *
 * | shape | text | rate |
 * |---|---|---|
 * | constant | `constant:500/2m` | 500/s for 2 minutes |
 * | ramp | `ramp:100..5000/10m` | 100/s rising evenly to 5,000/s over 10 minutes |
 * | steps | `steps:100/30s,500/1m,1000/30s` | each rate for its time, one after the other |
 * | spike | `spike:200,2000@60s+10s/5m` | 200/s, 2,000/s from 60 s for 10 s, 5 minutes in all |
 * | profile | `profile:R0,R1,…,R23/6h` (24 rates: hour of day) or 168 (hour of week, Monday 00:00 UTC first) | the rate of the wall-clock hour (UTC) |
 */

export const SHAPE_KINDS = ["constant", "ramp", "steps", "spike", "profile"] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];
export const ARRIVALS = ["paced", "poisson"] as const;
export type Arrivals = (typeof ARRIVALS)[number];

export const SHAPE_LIMITS = Object.freeze({
  /** Across a fan-out's emitters; one invocation carries at most EMIT_LIMITS.MAX_EVENTS_PER_SECOND. */
  MAX_RATE: 1_000_000,
  /** Longer than one invocation: a run past its time budget is refused before it starts. */
  MAX_DURATION_S: 24 * 3600,
  MAX_STEPS: 1000,
});

/** The rate goes linearly from `from` to `to` between `start` and `end` (seconds since the start). */
export interface Segment {
  readonly start: number;
  readonly end: number;
  readonly from: number;
  readonly to: number;
}

export interface RateShape {
  readonly kind: ShapeKind;
  /** The text it was given as, for summaries. */
  readonly text: string;
  readonly durationS: number;
  readonly segments: readonly Segment[];
}

const HELP =
  "a shape: constant:RATE/DURATION, ramp:FROM..TO/DURATION, steps:RATE/DURATION,RATE/DURATION,…, spike:BASE,PEAK@AT+WIDTH/DURATION or profile:R0,…,R23/DURATION (durations such as 90s, 10m, 1h)";

function fail(field: string, message: string): never {
  throw new ValidationError(field, `${field}: ${message}`);
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** A duration's text (`90s`, `10m`, `1h`, `500ms`) in seconds; the message names `field`. */
export function seconds(field: string, text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) fail(field, `"${text}" is not a duration such as 90s, 10m or 1h`);
  const s = Number(m[1]) * (UNIT_S[m[2] as string] as number);
  if (!(s > 0) || s > SHAPE_LIMITS.MAX_DURATION_S) fail(field, `durations must be above 0 and at most ${SHAPE_LIMITS.MAX_DURATION_S / 3600} h (got ${text})`);
  return s;
}

function rate(field: string, text: string, min = 0): number {
  const r = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(r) || r < min || r > SHAPE_LIMITS.MAX_RATE) fail(field, `"${text}" is not a rate from ${min} to ${SHAPE_LIMITS.MAX_RATE} events per second`);
  return r;
}

/** Splits `BODY/DURATION` at its last slash. */
function withDuration(field: string, body: string): [string, number] {
  const slash = body.lastIndexOf("/");
  if (slash < 0) fail(field, `needs a duration after "/" (${HELP})`);
  return [body.slice(0, slash), seconds(field, body.slice(slash + 1))];
}

/**
 * Parses a shape's text. `startedAt` (epoch ms) places a profile's hours on the wall clock; the
 * other shapes do not depend on it.
 */
export function parseShape(field: string, value: unknown, startedAt: number): RateShape {
  if (typeof value !== "string") fail(field, `must be ${HELP} (got ${describe(value)})`);
  const text = value.trim();
  const colon = text.indexOf(":");
  const kind = (colon < 0 ? text : text.slice(0, colon)) as ShapeKind;
  if (!(SHAPE_KINDS as readonly string[]).includes(kind)) fail(field, `unknown shape "${kind}"; must be ${HELP}`);
  const body = text.slice(colon + 1);
  const segments: Segment[] = [];
  const line = (start: number, end: number, from: number, to: number) => segments.push({ start, end, from, to });
  switch (kind) {
    case "constant": {
      const [r, d] = withDuration(field, body);
      line(0, d, rate(field, r, 0.001), rate(field, r, 0.001));
      break;
    }
    case "ramp": {
      const [range, d] = withDuration(field, body);
      const m = /^(.+)\.\.(.+)$/.exec(range);
      if (!m) fail(field, `a ramp is FROM..TO/DURATION, e.g. ramp:100..5000/10m (got "${text}")`);
      line(0, d, rate(field, m[1] as string), rate(field, m[2] as string));
      break;
    }
    case "steps": {
      const parts = body.split(",");
      if (parts.length > SHAPE_LIMITS.MAX_STEPS) fail(field, `at most ${SHAPE_LIMITS.MAX_STEPS} steps (got ${parts.length})`);
      let t = 0;
      for (const part of parts) {
        const [r, d] = withDuration(field, part);
        const x = rate(field, r);
        line(t, t + d, x, x);
        t += d;
      }
      break;
    }
    case "spike": {
      const [spec, d] = withDuration(field, body);
      const m = /^(.+),(.+)@(.+)\+(.+)$/.exec(spec);
      if (!m) fail(field, `a spike is BASE,PEAK@AT+WIDTH/DURATION, e.g. spike:200,2000@60s+10s/5m (got "${text}")`);
      const base = rate(field, m[1] as string);
      const peak = rate(field, m[2] as string);
      const at = m[3] === "0s" || m[3] === "0" ? 0 : seconds(field, m[3] as string);
      const width = seconds(field, m[4] as string);
      if (at + width > d) fail(field, `the spike (${at} s + ${width} s) must end within the duration (${d} s)`);
      if (at > 0) line(0, at, base, base);
      line(at, at + width, peak, peak);
      if (at + width < d) line(at + width, d, base, base);
      break;
    }
    case "profile": {
      const [list, d] = withDuration(field, body);
      const rates = list.split(",").map((r) => rate(field, r));
      if (rates.length !== 24 && rates.length !== 168) fail(field, `a profile has 24 rates (hour of day) or 168 (hour of week, Monday first), UTC (got ${rates.length})`);
      const HOUR = 3_600_000;
      const hourOf = (ms: number) => {
        const date = new Date(ms);
        const hour = date.getUTCHours();
        return rates.length === 24 ? hour : ((date.getUTCDay() + 6) % 7) * 24 + hour;
      };
      let t = 0;
      while (t < d) {
        const now = startedAt + t * 1000;
        const next = Math.min(d, ((Math.floor(now / HOUR) + 1) * HOUR) / 1000 - startedAt / 1000);
        const r = rates[hourOf(now)] as number;
        line(t, next, r, r);
        t = next;
      }
      break;
    }
  }
  const durationS = (segments[segments.length - 1] as Segment).end;
  if (durationS > SHAPE_LIMITS.MAX_DURATION_S) fail(field, `lasts ${durationS} s; at most ${SHAPE_LIMITS.MAX_DURATION_S}`);
  if (cumulative({ segments }, durationS) < 1) fail(field, "sends no event: every rate is 0");
  return { kind, text, durationS, segments };
}

/** The target rate at t seconds. */
export function rateAt(shape: Pick<RateShape, "segments">, t: number): number {
  for (const s of shape.segments) if (t < s.end) return t < s.start ? 0 : s.from + ((s.to - s.from) * (t - s.start)) / (s.end - s.start);
  return 0;
}

/** Λ(t): the events due by t seconds. */
export function cumulative(shape: Pick<RateShape, "segments">, t: number): number {
  let total = 0;
  for (const s of shape.segments) {
    if (t <= s.start) break;
    const u = Math.min(t, s.end) - s.start;
    const slope = (s.to - s.from) / (s.end - s.start);
    total += s.from * u + (slope * u * u) / 2;
  }
  return total;
}

/** The time at which Λ reaches `work` events, or Infinity past the shape's end. */
export function timeFor(shape: Pick<RateShape, "segments">, work: number): number {
  let before = 0;
  for (const s of shape.segments) {
    const len = s.end - s.start;
    const slope = (s.to - s.from) / len;
    const inSegment = s.from * len + (slope * len * len) / 2;
    if (inSegment <= 0) continue;
    if (before + inSegment >= work) {
      const w = work - before;
      // from·u + slope·u²/2 = w
      const u = Math.abs(slope) < 1e-12 ? w / s.from : (-s.from + Math.sqrt(s.from * s.from + 2 * slope * w)) / slope;
      return s.start + Math.max(0, Math.min(len, u));
    }
    before += inSegment;
  }
  return Infinity;
}

/**
 * The departure times of a run's events, in seconds since its start: paced — event k leaves when
 * Λ reaches k; Poisson — the gaps of a Poisson process with this rate (unit exponential steps of
 * Λ from a PRNG of the run's, so the same run identity arrives the same way). Only the count is
 * needed up front; the limiter draws the same sequence again as it goes.
 */
export class Arrival {
  private work = 0;
  private readonly rng: Prng | undefined;

  constructor(
    private readonly shape: RateShape,
    arrivals: Arrivals,
    seedParts: readonly (string | number)[],
  ) {
    this.rng = arrivals === "poisson" ? Prng.fromParts("arrivals", ...seedParts) : undefined;
  }

  /** The next event's time (seconds), or Infinity once the shape has ended. */
  next(): number {
    const t = timeFor(this.shape, this.work);
    this.work += this.rng ? -Math.log(1 - this.rng.float()) : 1;
    return t >= this.shape.durationS ? Infinity : t;
  }
}

/** How many events a shaped run sends: those due before its end. */
export function shapedTotal(shape: RateShape, arrivals: Arrivals, seedParts: readonly (string | number)[], limit: number): number {
  if (arrivals === "paced") return Math.min(limit + 1, Math.ceil(cumulative(shape, shape.durationS) - 1e-9));
  const a = new Arrival(shape, arrivals, seedParts);
  let n = 0;
  while (n <= limit && a.next() !== Infinity) n++;
  return n;
}

/** The highest rate the shape reaches. */
export function peakRate(shape: Pick<RateShape, "segments">): number {
  return shape.segments.reduce((m, s) => Math.max(m, s.from, s.to), 0);
}

/** A constant rate for a number of seconds (a count paced by events_per_second, as a shape). */
export function constantShape(rate: number, durationS: number): RateShape {
  return { kind: "constant", text: `constant:${rate}/${durationS}s`, durationS, segments: [{ start: 0, end: durationS, from: rate, to: rate }] };
}

/**
 * The part of a shape between `from` and `to` seconds, as a shape of its own starting at 0, its
 * rates multiplied by `factor` (an emitter's share).
 */
export function sliceShape(shape: RateShape, from: number, to: number, factor: number): RateShape {
  const segments: Segment[] = [];
  for (const s of shape.segments) {
    const a = Math.max(from, s.start);
    const b = Math.min(to, s.end);
    if (b <= a) continue;
    const at = (t: number) => s.from + ((s.to - s.from) * (t - s.start)) / (s.end - s.start);
    segments.push({ start: a - from, end: b - from, from: at(a) * factor, to: at(b) * factor });
  }
  return { kind: shape.kind, text: `${shape.text} [${from} s, ${to} s) × ${Math.round(factor * 1e6) / 1e6}`, durationS: to - from, segments };
}
