import { asciiJson } from "../core/ascii-json";
import { ValidationError } from "../core/errors";
import { describe, type EventObject } from "../core/fields";
import { Prng } from "../core/prng";
import { didYouMean } from "../core/suggest";

/**
 * Dirty data on purpose: a pipeline's DLQ and data-quality checks are only tested by data that
 * trips them. Each kind is injected at its rate, decided by a PRNG of its own per file (so the
 * clean records stay exactly what they would be without it), and counted exactly.
 */
export const DIRTY_KINDS = ["malformed", "duplicate", "wrong_type", "missing_required", "out_of_range", "oversize", "late"] as const;
export type DirtyKind = (typeof DIRTY_KINDS)[number];
export type DirtyRates = Readonly<Partial<Record<DirtyKind, number>>>;
/** Broken relationships a scenario asked for (children without their parent, picks of nothing): counted with the dirt. */
export const LINK_KINDS = ["orphan", "dangling"] as const;
export type DirtyCounts = Partial<Record<DirtyKind | (typeof LINK_KINDS)[number], number>>;

/** An oversize record is padded past 1 MiB: over Kinesis' record limit and most ingest APIs'. */
export const OVERSIZE_BYTES = 1024 * 1024 + 1024;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The `dirty` event field: `{kind: rate}` with rates 0-1 adding up to at most 1. */
export function parseDirty(e: EventObject): DirtyRates | undefined {
  const value = e.dirty;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError("dirty", `dirty must be an object of kind: rate, kinds ${DIRTY_KINDS.join(", ")} (got ${describe(value)})`);
  }
  const rates: Partial<Record<DirtyKind, number>> = {};
  let sum = 0;
  for (const [kind, rate] of Object.entries(value)) {
    if (!(DIRTY_KINDS as readonly string[]).includes(kind)) {
      throw new ValidationError("dirty", `dirty: unknown kind "${kind}"${didYouMean(kind, DIRTY_KINDS)}; known: ${DIRTY_KINDS.join(", ")}`);
    }
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new ValidationError("dirty", `dirty.${kind} must be a rate from 0 to 1 (got ${describe(rate)})`);
    }
    rates[kind as DirtyKind] = rate;
    sum += rate;
  }
  if (sum > 1) throw new ValidationError("dirty", `dirty rates must add up to at most 1 (got ${sum})`);
  return Object.keys(rates).length ? Object.freeze(rates) : undefined;
}

type Json = Record<string, unknown>;

/** Depth-first leaves of a record: [holder, key] pairs. */
function leaves(o: unknown, out: [Json | unknown[], string | number][] = []): [Json | unknown[], string | number][] {
  if (Array.isArray(o)) {
    for (const [i, v] of o.entries()) {
      if (typeof v === "object" && v !== null) leaves(v, out);
      else out.push([o, i]);
    }
  } else if (typeof o === "object" && o !== null) {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "object" && v !== null) leaves(v, out);
      else out.push([o as Json, k]);
    }
  }
  return out;
}

const get = (h: Json | unknown[], k: string | number) => (h as Record<string | number, unknown>)[k];
const set = (h: Json | unknown[], k: string | number, v: unknown) => {
  (h as Record<string | number, unknown>)[k] = v;
};

/** Applies dirt to one file's (or stream's) records and counts what it did. */
/** How a record's JSON becomes one line of a text format, and how such a line is cut short. */
export interface LineEncoder {
  encode(json: string): string;
  cut(line: string, rng: Prng): string;
}

/** NDJSON: the JSON itself; cut anywhere, never valid JSON. */
export const NDJSON_LINES: LineEncoder = {
  encode: (json) => json,
  cut: (line, rng) => line.slice(0, 1 + rng.int(Math.max(1, line.length - 2))),
};

export class DirtInjector {
  readonly counts: DirtyCounts = {};
  /** The kind the last `apply` injected, or undefined when it left the record clean. */
  lastKind: DirtyKind | undefined;
  /** What the last `apply` wrote instead of the record: the changed JSON, or a malformed record's cut line; not for a duplicate. */
  lastJson: string | undefined;
  private readonly rng: Prng;
  private readonly kinds: [DirtyKind, number][];

  constructor(
    rates: DirtyRates,
    parts: readonly (string | number)[],
    private readonly required: readonly string[],
  ) {
    this.rng = Prng.fromParts("dirty", ...parts);
    this.kinds = DIRTY_KINDS.filter((k) => (rates[k] ?? 0) > 0).map((k) => [k, rates[k] as number]);
  }

  /**
   * The lines to emit for one clean record (its JSON text): itself, changed, or twice — each
   * written by `encoder` (NDJSON by default), so a malformed line is cut as that format's line.
   */
  apply(json: string, encoder: LineEncoder = NDJSON_LINES): string[] {
    // One draw per record picks at most one kind, so each kind lands at exactly its own rate.
    let x = this.rng.float();
    let kind: DirtyKind | undefined;
    for (const [k, rate] of this.kinds) {
      if (x < rate) {
        kind = k;
        break;
      }
      x -= rate;
    }
    this.lastKind = undefined;
    this.lastJson = undefined;
    if (!kind) return [encoder.encode(json)];
    const out = this.mutate(kind, json, encoder);
    if (out) {
      this.counts[kind] = (this.counts[kind] ?? 0) + 1;
      this.lastKind = kind;
    }
    return out ?? [encoder.encode(json)];
  }

  private mutate(kind: DirtyKind, json: string, encoder: LineEncoder): string[] | undefined {
    const rng = this.rng;
    switch (kind) {
      case "malformed":
        // Cut mid-record, as from a writer that died mid-line.
        this.lastJson = encoder.cut(encoder.encode(json), rng);
        return [this.lastJson];
      case "duplicate": {
        const line = encoder.encode(json);
        return [line, line];
      }
      case "oversize":
        this.lastJson = `${json.slice(0, -1)},"_oversize":"${"x".repeat(OVERSIZE_BYTES)}"}`;
        return [encoder.encode(this.lastJson)];
      default: {
        const record = JSON.parse(json) as Json;
        if (!this.change(kind, record)) return undefined;
        this.lastJson = asciiJson(record);
        return [encoder.encode(this.lastJson)];
      }
    }
  }

  private change(kind: DirtyKind, record: Json): boolean {
    const all = leaves(record);
    switch (kind) {
      case "missing_required": {
        const key = this.required.find((k) => k in record) ?? Object.keys(record)[0];
        if (key === undefined) return false;
        delete record[key];
        return true;
      }
      case "wrong_type": {
        const leaf = all.find(([h, k]) => typeof get(h, k) === "number") ?? all.find(([h, k]) => typeof get(h, k) === "boolean");
        if (leaf) {
          set(leaf[0], leaf[1], String(get(leaf[0], leaf[1])));
          return true;
        }
        const text = all.find(([h, k]) => typeof get(h, k) === "string");
        if (!text) return false;
        set(text[0], text[1], 12345);
        return true;
      }
      case "out_of_range": {
        const leaf = all.find(([h, k]) => typeof get(h, k) === "number");
        if (!leaf) return false;
        const v = get(leaf[0], leaf[1]) as number;
        set(leaf[0], leaf[1], -(Math.abs(v) + 1) * 1000);
        return true;
      }
      case "late": {
        const leaf = all.find(([h, k]) => typeof get(h, k) === "string" && ISO.test(get(h, k) as string));
        if (!leaf) return false;
        const text = get(leaf[0], leaf[1]) as string;
        const shifted = new Date(Date.parse(text) - (1 + this.rng.int(48)) * 3_600_000).toISOString();
        // Keep the original's precision (e.g. microseconds) so only the time is off.
        const fraction = /\.(\d+)Z$/.exec(text)?.[1];
        set(leaf[0], leaf[1], fraction ? `${shifted.slice(0, 19)}.${fraction}Z` : `${shifted.slice(0, 19)}Z`);
        return true;
      }
      default:
        return false;
    }
  }
}

/** Adds one file's counts into a total. */
export function addCounts(total: DirtyCounts, counts: DirtyCounts | undefined): DirtyCounts {
  for (const [k, n] of Object.entries(counts ?? {})) total[k as keyof DirtyCounts] = (total[k as keyof DirtyCounts] ?? 0) + (n as number);
  return total;
}
