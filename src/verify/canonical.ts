import type { Leaf } from "../records/columns";
import { murmurStep } from "./key-table";

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
  const us = isoMicrosNumber(text);
  return us === undefined ? undefined : BigInt(us);
}

/** Epoch milliseconds of each day seen (`YYYY-MM-DD` → ms, NaN for no such day): a run's timestamps share few days. */
const DAYS = new Map<string, number>();

/** `c` as a digit, or -1. */
const digit = (text: string, i: number): number => {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/**
 * The common form, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (or `.fffZ`, or none), read without a regular
 * expression: the day through a cache of `Date.parse`, the time of day by its digits. Undefined
 * for anything else, which the general reader then takes, so both agree on every text.
 */
function fastIsoMicros(text: string): number | undefined {
  const n = text.length;
  if (n < 20 || text.charCodeAt(10) !== 84 || text.charCodeAt(n - 1) !== 90 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  for (const i of [11, 12, 14, 15, 17, 18]) if (digit(text, i) < 0) return undefined;
  const h = digit(text, 11) * 10 + digit(text, 12);
  const m = digit(text, 14) * 10 + digit(text, 15);
  const sec = digit(text, 17) * 10 + digit(text, 18);
  if (h > 23 || m > 59 || sec > 59) return undefined;
  let fraction = 0;
  if (n === 20) {
    // No fraction: `…:SSZ`.
  } else {
    const digits = n - 21;
    if (text.charCodeAt(19) !== 46 || digits < 1 || digits > 9) return undefined;
    for (let i = 20; i < n - 1; i++) {
      const d = digit(text, i);
      if (d < 0) return undefined;
      if (i < 26) fraction = fraction * 10 + d;
    }
    for (let i = Math.min(digits, 6); i < 6; i++) fraction *= 10;
  }
  const day = text.slice(0, 10);
  let ms = DAYS.get(day);
  if (ms === undefined) {
    ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
    if (DAYS.size > 4096) DAYS.clear();
    DAYS.set(day, ms);
  }
  if (Number.isNaN(ms)) return undefined;
  return (ms + ((h * 60 + m) * 60 + sec) * 1000) * 1000 + fraction;
}

/** The same as a number: exact, since any instant of this era is under 2^53 µs. */
function isoMicrosNumber(text: string): number | undefined {
  const fast = fastIsoMicros(text);
  if (fast !== undefined) return fast;
  const m = ISO.exec(text);
  if (!m) return undefined;
  const zone = m[5] !== undefined ? `${m[5]}:${m[6] ?? "00"}` : "Z";
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return ms * 1000 + Number((m[3] ?? "").padEnd(6, "0").slice(0, 6));
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
export function canonical(type: Leaf["type"], value: unknown, textual = false, unit = 1): string | null {
  if (value === null || value === undefined) return null;
  if (textual && typeof value === "string") return canonicalText(type, value, unit);
  switch (type) {
    case "timestamp": {
      if (value instanceof Micros) return `t:${cutTo(Number(value.value), unit)}`;
      if (value instanceof Date) return `t:${cutTo(value.getTime() * 1000, unit)}`;
      if (typeof value === "string") {
        const us = isoMicrosNumber(value);
        if (us !== undefined) return `t:${cutTo(us, unit)}`;
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

/**
 * An instant in microseconds, cut down to a whole `unit` as a pipeline that stores less precision
 * does: `unit` > 0 truncates to a multiple of it (1: microseconds, 1000: milliseconds, 1e6:
 * seconds — Spark, Java, MariaDB), `unit` < 0 rounds half away from zero to a multiple of `-unit`
 * (DuckDB, a MySQL server). Exact: any instant of this era is under 2^53 µs.
 */
export function cutTo(us: number, unit: number): number {
  if (unit === 1) return us;
  if (unit > 0) return Math.floor(us / unit) * unit;
  const step = -unit;
  return Math.sign(us) * Math.round(Math.abs(us) / step) * step;
}

/** A CSV cell's text read as its column's type (as docs/formats.md maps each type to text). */
function canonicalText(type: Leaf["type"], text: string, unit: number): string | null {
  switch (type) {
    case "timestamp": {
      const us = isoMicrosNumber(text);
      return us === undefined ? `?string:${text}` : `t:${cutTo(us, unit)}`;
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

/** The value at a leaf's path in a record (nested objects), or undefined; own fields only (a missing `constructor` is missing, not Object's). */
export function valueAt(record: unknown, path: readonly string[]): unknown {
  let v: unknown = record;
  for (const p of path) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const TAG = { null: 0x9e3779b9, timestamp: 0x1b873593, number: 0xcc9e2d51, boolean: 0x85ebca6b, string: 0xc2b2ae35, json: 0x27d4eb2f, other: 0x165667b1 } as const;

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashNumber(tag: number, v: number): number {
  F64[0] = v === 0 ? 0 : v;
  return mix(Math.imul((U32[0] as number) ^ tag, 0x01000193) ^ (U32[1] as number));
}

/** Strings this long or longer are hashed from their bytes when they are ASCII (`longText` grows to hold them). */
const LONG_TEXT = 48;
let longText = Buffer.allocUnsafe(1 << 16);
let longView = new DataView(longText.buffer, longText.byteOffset, longText.byteLength);

function hashString(tag: number, s: string): number {
  if (s.length >= LONG_TEXT) {
    if (s.length * 3 > longText.length) {
      longText = Buffer.allocUnsafe(Math.max(s.length * 3, longText.length * 2));
      longView = new DataView(longText.buffer, longText.byteOffset, longText.byteLength);
    }
    // Encoded natively and hashed four bytes at a time: cheaper than a loop over the characters (a padding field is a kilobyte).
    const n = longText.write(s, 0, "utf8");
    if (n === s.length) return hashAscii(tag, longView, n);
  }
  let h = (0x811c9dc5 ^ tag) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix(h);
}

/** An ASCII string's hash from its bytes `buf[0, n)` (a byte a character): MurmurHash3 seeded by the tag, its length mixed in. */
function hashAscii(tag: number, view: DataView, n: number): number {
  let h = tag | 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) h = murmurStep(h, view.getInt32(i, true));
  if (i < n) {
    let w = 0;
    for (let s = 0; i < n; i++, s += 8) w |= view.getUint8(i) << s;
    h = murmurStep(h, w);
  }
  return mix(h ^ n);
}

/**
 * The 32-bit hash of a value's canonical form, computed without making that form: two values
 * hash alike exactly when `canonical` makes them equal (but for a 2^-32 chance). What verify keeps
 * of each field, and compares each output field by; `canonical` is only made for a report's examples.
 */
export function fieldHash(type: Leaf["type"], value: unknown, textual = false, unit = 1): number {
  if (value === null || value === undefined) return TAG.null;
  if (textual && typeof value === "string") {
    switch (type) {
      case "timestamp": {
        const us = isoMicrosNumber(value);
        return us === undefined ? hashString(TAG.other, `string:${value}`) : hashNumber(TAG.timestamp, cutTo(us, unit));
      }
      case "int":
      case "double":
        return NUMBER_TEXT.test(value) ? hashNumber(TAG.number, Number(value)) : hashString(TAG.other, `string:${value}`);
      case "boolean":
        return value === "true" ? TAG.boolean : value === "false" ? (TAG.boolean ^ 1) >>> 0 : hashString(TAG.other, `string:${value}`);
      case "json":
        try {
          return hashString(TAG.json, stableJson(JSON.parse(value)));
        } catch {
          return hashString(TAG.other, `string:${value}`);
        }
      default:
        return hashString(TAG.string, value);
    }
  }
  switch (type) {
    case "timestamp":
      if (value instanceof Micros) return hashNumber(TAG.timestamp, cutTo(Number(value.value), unit));
      if (value instanceof Date) return hashNumber(TAG.timestamp, cutTo(value.getTime() * 1000, unit));
      if (typeof value === "string") {
        const us = isoMicrosNumber(value);
        if (us !== undefined) return hashNumber(TAG.timestamp, cutTo(us, unit));
      }
      break;
    case "int":
    case "double":
      if (typeof value === "number" && Number.isFinite(value)) return hashNumber(TAG.number, value);
      if (typeof value === "bigint") return hashNumber(TAG.number, Number(value));
      break;
    case "boolean":
      if (typeof value === "boolean") return value ? TAG.boolean : (TAG.boolean ^ 1) >>> 0;
      break;
    case "string":
      if (typeof value === "string") return hashString(TAG.string, value);
      break;
    case "json":
      return hashString(TAG.json, stableJson(value));
  }
  // A value of another type than its column's: a string "12" in an int column is not the number 12.
  return hashString(TAG.other, `${typeof value}:${typeof value === "string" ? value : stableJson(value)}`);
}
