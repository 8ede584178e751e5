import { createHash } from "node:crypto";

/**
 * A small, fast, seedable PRNG (sfc32). Every random value in a generated file comes from one of
 * these, seeded from the file's identity, so output never depends on thread, timing or clock.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = 0;
    this.b = 0;
    this.c = 0;
    this.d = 0;
    this.reseed(a, b, c, d);
  }

  /** Starts over from a new seed, exactly as `new Prng(a, b, c, d)` would (without allocating one). */
  reseed(a: number, b: number, c: number, d: number): this {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    // Discard the first outputs: sfc32 mixes poorly for a few rounds after seeding.
    for (let i = 0; i < 12; i++) this.next();
    return this;
  }

  /** A PRNG seeded from the SHA-256 of the given parts (joined unambiguously). */
  static fromParts(...parts: (string | number)[]): Prng {
    const digest = createHash("sha256").update(JSON.stringify(parts)).digest();
    return new Prng(digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12));
  }

  /** Next unsigned 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max] inclusive. */
  range(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Approximately normal (Irwin–Hall of 4 uniforms): cheap and bounded, mean 0, sd 1. */
  normal(): number {
    return (this.float() + this.float() + this.float() + this.float() - 2) * 1.7320508;
  }
}

/** Picks from a fixed list by weight in O(log n) per draw; weights are normalised once. */
export class WeightedTable<T> {
  private readonly cumulative: Float64Array;
  private readonly items: readonly T[];

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new Error("WeightedTable needs at least one entry");
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let running = 0;
    entries.forEach(([, w], i) => {
      running += w / total;
      this.cumulative[i] = running;
    });
    this.cumulative[entries.length - 1] = 1;
  }

  draw(rng: Prng): T {
    const x = rng.float();
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x < (this.cumulative[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo] as T;
  }
}
