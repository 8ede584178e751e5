import { describe } from "../core/fields";
import { ValidationError } from "../core/errors";
import { WeightedTable, type Prng } from "../core/prng";
import { didYouMean } from "../core/suggest";

/**
 * How many children a parent has, and which entity a reference picks: deterministic draws from a
 * PRNG the caller derives from the entity, so any thread or shard draws the same number.
 */

export const COUNT_DISTRIBUTIONS = ["fixed", "uniform", "poisson", "zipf"] as const;
export type CountDistribution = (typeof COUNT_DISTRIBUTIONS)[number];

/** The most children one parent may have (a bound on any file that holds that parent). */
export const MAX_CHILDREN_PER_PARENT = 100_000;
/** Poisson means are limited so the table of its probabilities stays small. */
export const MAX_POISSON_MEAN = 10_000;

/** Children per parent: a sampler with the figures the planner and the tests need. */
export interface ChildCount {
  readonly spec: Readonly<Record<string, unknown>>;
  /** The largest count a parent can get. */
  readonly max: number;
  readonly mean: number;
  /** P(count = k), for goodness-of-fit checks. */
  pmf(k: number): number;
  sample(rng: Prng): number;
}

function fail(path: string, message: string): never {
  throw new ValidationError(path, `${path}: ${message}`);
}

function whole(path: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(path, `must be a whole number from ${min} to ${max} (got ${describe(v)})`);
  return v;
}

function positive(path: string, v: unknown, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > max) fail(path, `must be a number above 0 and at most ${max} (got ${describe(v)})`);
  return v;
}

/** A distribution over 0..max from unnormalised weights: exact draws by table, O(log max). */
function tabled(spec: Record<string, unknown>, weights: number[]): ChildCount {
  const total = weights.reduce((a, b) => a + b, 0);
  const probabilities = weights.map((w) => w / total);
  const table = new WeightedTable(probabilities.map((p, k) => [k, p] as const).filter(([, p]) => p > 0));
  return {
    spec,
    max: weights.length - 1,
    mean: probabilities.reduce((m, p, k) => m + p * k, 0),
    pmf: (k) => probabilities[k] ?? 0,
    sample: (rng) => table.draw(rng),
  };
}

/**
 * `per_parent`: a whole number (fixed), or `{ distribution, ... }`:
 * - `fixed`: `count`
 * - `uniform`: `min`, `max` (every count equally likely)
 * - `poisson`: `mean`, optional `max` (default mean + 10·√mean + 10; the tail beyond it is cut)
 * - `zipf`: `s` (exponent > 0), `max`, optional `min` (default 1): P(k) ∝ k^-s — a few parents with many
 */
export function parseChildCount(path: string, value: unknown): ChildCount {
  if (typeof value === "number") value = { distribution: "fixed", count: value };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, `must be a whole number of children, or { distribution: ${COUNT_DISTRIBUTIONS.join(" | ")}, ... } (got ${describe(value)})`);
  }
  const o = value as Record<string, unknown>;
  const distribution = o.distribution;
  if (typeof distribution !== "string" || !(COUNT_DISTRIBUTIONS as readonly string[]).includes(distribution)) {
    fail(`${path}.distribution`, `unknown distribution ${describe(distribution)}${didYouMean(String(distribution), COUNT_DISTRIBUTIONS)}; known: ${COUNT_DISTRIBUTIONS.join(", ")}`);
  }
  const allowed: Record<CountDistribution, string[]> = { fixed: ["count"], uniform: ["min", "max"], poisson: ["mean", "max"], zipf: ["s", "min", "max"] };
  const keys = ["distribution", ...allowed[distribution as CountDistribution]];
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${path}.${k}`, `unknown setting "${k}" for ${distribution}${didYouMean(k, keys)}; allowed: ${keys.join(", ")}`);
  const M = MAX_CHILDREN_PER_PARENT;
  switch (distribution as CountDistribution) {
    case "fixed": {
      const n = whole(`${path}.count`, o.count, 0, M);
      return { spec: o, max: n, mean: n, pmf: (k) => (k === n ? 1 : 0), sample: () => n };
    }
    case "uniform": {
      const min = whole(`${path}.min`, o.min ?? 0, 0, M);
      const max = whole(`${path}.max`, o.max, min, M);
      const span = max - min + 1;
      return { spec: o, max, mean: (min + max) / 2, pmf: (k) => (k >= min && k <= max ? 1 / span : 0), sample: (rng) => min + rng.int(span) };
    }
    case "poisson": {
      const mean = positive(`${path}.mean`, o.mean, MAX_POISSON_MEAN);
      const max = o.max === undefined ? Math.min(M, Math.ceil(mean + 10 * Math.sqrt(mean) + 10)) : whole(`${path}.max`, o.max, 1, M);
      // Log-space recurrence: exp(-mean) underflows for large means.
      const logs: number[] = [-mean];
      for (let k = 1; k <= max; k++) logs.push((logs[k - 1] as number) + Math.log(mean) - Math.log(k));
      const top = Math.max(...logs);
      return tabled(
        o,
        logs.map((l) => Math.exp(l - top)),
      );
    }
    case "zipf": {
      const s = positive(`${path}.s`, o.s, 10);
      const max = whole(`${path}.max`, o.max, 1, M);
      const min = whole(`${path}.min`, o.min ?? 1, 1, max);
      return tabled(
        o,
        Array.from({ length: max + 1 }, (_, k) => (k < min ? 0 : k ** -s)),
      );
    }
  }
}

/**
 * Zipf ranks 1..n with P(k) ∝ k^-s, in O(1) per draw and O(1) memory for any n: rejection-inversion
 * (Hörmann & Derflinger 1996, as in Apache Commons RNG's RejectionInversionZipfSampler).
 */
export class ZipfSampler {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly squeeze: number;

  constructor(
    private readonly n: number,
    private readonly exponent: number,
  ) {
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.squeeze = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank from 1 (the most frequent) to n. */
  sample(rng: Prng): number {
    for (;;) {
      const u = this.hN + rng.float() * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.squeeze || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.exponent * Math.log(x));
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.exponent) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.exponent);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

const helper1 = (x: number) => (Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x)));
const helper2 = (x: number) => (Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x)));
