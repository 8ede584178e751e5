import type { Leaf } from "../records/columns";

/**
 * A Parquet TIMESTAMP as its reader hands it to verify: microseconds since the epoch, kept whole
 * (a JavaScript Date would drop the last three digits the records carry).
 */
export class Micros {
  constructor(readonly value: bigint) {}
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-]\d{2})(?::?(\d{2}))?)?$/;

/**
 * An ISO-8601 instant as microseconds since the epoch, or undefined when the text is not one.
 * Also the SQL form engines write (`2026-01-15 17:06:57.331707`, `…+00`); without a zone, UTC.
 */
export function isoMicros(text: string): bigint | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const zone = m[5] !== undefined ? `${m[5]}:${m[6] ?? "00"}` : "Z";
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1000n + BigInt((m[3] ?? "").padEnd(6, "0").slice(0, 6));
}

/** JSON with object keys sorted, so two equal values print the same whatever their key order. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? String(value) : (JSON.stringify(value) ?? "null");
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Micros) return String(value.value);
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(",")}}`;
}

const NUMBER_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * A value as verify compares it, the same whichever format carried it: an ISO string and a
 * Parquet TIMESTAMP of the same instant are equal (to the microsecond), 3 and 3.0 are equal, null
 * and a missing field are equal (`null`). A value of another type than its column's compares as
 * itself (`?string:12`), so a number written as a string is a change. `textual` says the value is
 * a CSV cell, whose text stands for the column's type.
 */
export function canonical(type: Leaf["type"], value: unknown, textual = false): string | null {
  if (value === null || value === undefined) return null;
  if (textual && typeof value === "string") return canonicalText(type, value);
  switch (type) {
    case "timestamp": {
      if (value instanceof Micros) return `t:${value.value}`;
      if (value instanceof Date) return `t:${BigInt(value.getTime()) * 1000n}`;
      if (typeof value === "string") {
        const us = isoMicros(value);
        if (us !== undefined) return `t:${us}`;
      }
      break;
    }
    case "int":
    case "double":
      if (typeof value === "number" && Number.isFinite(value)) return `n:${value}`;
      if (typeof value === "bigint") return `n:${Number(value)}`;
      break;
    case "boolean":
      if (typeof value === "boolean") return `b:${value}`;
      break;
    case "string":
      if (typeof value === "string") return `s:${value}`;
      break;
    case "json":
      return `j:${stableJson(value)}`;
  }
  return `?${typeof value}:${typeof value === "string" ? value : stableJson(value)}`;
}

/** A CSV cell's text read as its column's type (as docs/formats.md maps each type to text). */
function canonicalText(type: Leaf["type"], text: string): string | null {
  switch (type) {
    case "timestamp": {
      const us = isoMicros(text);
      return us === undefined ? `?string:${text}` : `t:${us}`;
    }
    case "int":
    case "double":
      return NUMBER_TEXT.test(text) ? `n:${Number(text)}` : `?string:${text}`;
    case "boolean":
      return text === "true" || text === "false" ? `b:${text}` : `?string:${text}`;
    case "json":
      try {
        return `j:${stableJson(JSON.parse(text))}`;
      } catch {
        return `?string:${text}`;
      }
    default:
      return `s:${text}`;
  }
}

/** What a canonical value says to a reader of the report: the value itself, without its type tag. */
export function shown(value: string | null): unknown {
  if (value === null) return null;
  const tag = value.slice(0, 2);
  const body = value.slice(2);
  if (tag === "t:") {
    const us = BigInt(body);
    const ms = us / 1000n;
    const iso = new Date(Number(ms)).toISOString();
    return `${iso.slice(0, 19)}.${String(us - (us / 1_000_000n) * 1_000_000n).padStart(6, "0")}Z`;
  }
  if (tag === "n:") return Number(body);
  if (tag === "b:") return body === "true";
  if (tag === "s:") return body;
  if (tag === "j:") return JSON.parse(body) as unknown;
  return value.slice(1);
}

/** FNV-1a over a canonical value: 32 bits per field and record is what verify keeps of what a run wrote. */
export function hashCanonical(value: string | null): number {
  if (value === null) return 0x9e3779b9;
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The value at a leaf's path in a record (nested objects), or undefined. */
export function valueAt(record: unknown, path: readonly string[]): unknown {
  let v: unknown = record;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}
