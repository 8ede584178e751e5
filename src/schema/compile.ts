import { asciiText } from "../core/ascii-json";
import { flatText } from "../core/flat-text";
import type { Column, ColumnType } from "../records/columns";
import { ValidationError } from "../core/errors";
import { Prng, WeightedTable } from "../core/prng";
import { describe } from "../core/fields";
import { fastFaker } from "./faker-fast";
import { fakerMethodNames, SeededFaker } from "./faker-methods";
import { jsonBytes, oversizeFakerArg, protoKeyPath, SCHEMA_LIMITS } from "./limits";
import { isoOfMs } from "../core/iso-time";
import { compileRecord, joinedAhead, KEYED_LIMITS, type KeyedBudget } from "./codegen";
import { didYouMean } from "../core/suggest";

/**
 * The declarative dataset language. A schema is plain data (JSON or YAML):
 *
 * ```yaml
 * name: orders
 * required: [order_id, amount]
 * fields:
 *   order_id: { sequence: { start: 1000, format: "ord_{file}_{n}" } }
 *   email:    { faker: internet.email }
 *   city:     { faker: { method: location.city, pool: 500 } }   # 500 values made once, drawn per record
 *   amount:   { number: { distribution: normal, mean: 60, stddev: 25, min: 1, max: 500, decimals: 2 } }
 *   status:   { choice: { paid: 80, pending: 15, refunded: 5 } }
 *   placed:   { timestamp: iso }
 *   items:    { array: { min: 1, max: 4, items: { object: { sku: { faker: commerce.isbn }, qty: { number: { min: 1, max: 3 } } } } } }
 *   note:     { template: "order {order_id} for {email}" }
 *   coupon:   { choice: [SPRING, WINTER], null_probability: 0.7 }
 *   contact:  { ref: email }
 * ```
 *
 * It is checked and compiled once into closures (per worker thread); records are produced by
 * calling them — nothing is interpreted per record, nothing is evaluated as code. Every error
 * names the path of the bad field and, for a misspelt name, the closest valid one.
 */

export const GENERATORS = ["const", "faker", "choice", "number", "boolean", "sequence", "timestamp", "template", "object", "array", "ref"] as const;
export const MODIFIERS = ["null_probability", "omit_probability"] as const;
export const DISTRIBUTIONS = ["uniform", "normal", "exponential"] as const;
export const TIMESTAMP_FORMATS = ["iso", "epoch_ms", "epoch_s", "date"] as const;
const SCHEMA_KEYS = ["name", "description", "required", "fields"];
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface DatasetSchema {
  readonly name: string;
  readonly description?: string;
  readonly required?: readonly string[];
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What a record's generators see. */
export interface RecordScope {
  rng: Prng;
  /** The record's position in its file (or stream), and the file's. */
  index: number;
  fileIndex: number;
  /** Top-level values computed so far, for `ref` and `template`. */
  values: Record<string, unknown>;
  /** A second of the run's day (UTC), as the run's time-of-day curve draws it. */
  secondOfDay: () => number;
  dayStartMs: number;
  /**
   * In a scenario: the values of a related entity (a parent dataset, or a named reference), by
   * the name the schema uses for it. Absent for a stand-alone dataset.
   */
  related?: (name: string) => Record<string, unknown>;
  /**
   * In a scenario: a PRNG of each top-level field's own (by its declared position), so any subset
   * of an entity's fields can be computed — a child that reads two of its parent's fields
   * computes those two (and what they depend on), not the whole parent.
   */
  fieldRng?: (field: number) => Prng;
}

/** A record's values being filled in, possibly a few fields at a time (see `CompiledSchema.fill`). */
export interface PartialValues {
  readonly values: Record<string, unknown>;
  readonly computed: Set<string>;
}

/** What a schema may read from outside its own record (a scenario's parents and references). */
export interface ExternalEntity {
  /** Its top-level fields: names, types, byte bounds, timestamp formats. */
  readonly schema: Pick<CompiledSchema, "columns" | "fieldBytes" | "timeFormats">;
}

/** Options for schemas compiled as part of a scenario. */
export interface CompileOptions {
  /** Names a `ref`, `template` or `timestamp.after` may start with to read another entity's fields. */
  readonly externals?: ReadonlyMap<string, ExternalEntity>;
  /** Refuse what depends on how a run is split (`{file}` in a sequence): a scenario's entities may not. */
  readonly scenario?: boolean;
}

type Gen = (scope: RecordScope) => unknown;

/**
 * A compiled field: its generator, and bounds checked before any record is made — the most JSON
 * bytes it can add to a record (lazy: a `ref` or `template` takes its bound from the fields it
 * names) and the array items it can hold.
 */
interface Compiled {
  readonly gen: Gen;
  readonly bytes: () => number;
  readonly items: number;
  /** The column type of its values (lazy, like `bytes`: a `ref` has the type of what it names). */
  readonly type: () => ColumnType;
  /** A `timestamp` field's format, so a later timestamp can be set after it. */
  readonly time?: TimestampFormat;
  /** A `timestamp` after another: the field it follows (`signup_at`, `users.signup_at`) and by at most how long. */
  readonly timeRule?: TimeRule;
  /**
   * Its values' JSON text, exactly `valueText` of each value this generator can make, written
   * without asking what the value is (see WRITERS); absent: `valueText`.
   */
  readonly text?: Writer;
  /** Its string values are what `text` gives them as, in quotes (see WRITERS.plainString): null is written by `text`. */
  readonly plain?: boolean;
  /** Plain (as `plain`) when each of these top-level fields is: a template of plain text and such fields. */
  readonly plainWith?: readonly string[];
  /** Its values' texts when they come from a small fixed set (see `Pieces`). */
  readonly pieces?: Pieces;
}

/**
 * A field whose values come from a small fixed set (a choice, a small pool, a boolean): each
 * value's text, and which of them a value is (-1: none, and its writer writes it). A record's
 * text then takes the field's key and value as one piece made once (see codegen.ts).
 */
interface Pieces {
  readonly texts: readonly string[];
  readonly index: (value: unknown) => number;
}

/** The largest set whose key-and-value pieces are made ahead: three strings a value. */
const MAX_PIECES = 1024;

type Writer = (value: unknown) => string | undefined;

/** How a timestamp field is made: after another timestamp, by at most `withinMs`; without `after`, in its day. */
export interface TimeRule {
  readonly after?: string;
  readonly withinMs: number;
}

export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];

/** `30d`, `12h`, `90m`, `45s` or a number of seconds, as milliseconds. */
const DURATION = /^(\d+(?:\.\d+)?)\s*(d|h|m|s)$/;
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
const MAX_WITHIN_MS = 3650 * 86_400_000;
function durationMs(path: string, v: unknown): number {
  const ms =
    typeof v === "number" ? v * 1000 : typeof v === "string" && DURATION.test(v.trim()) ? Number(DURATION.exec(v.trim())?.[1]) * (UNIT_MS[DURATION.exec(v.trim())?.[2] as string] as number) : NaN;
  if (!Number.isFinite(ms) || ms < 1 || ms > MAX_WITHIN_MS) fail(path, `must be a duration such as 30d, 12h, 90m, 45s or a number of seconds, from 1 ms to 3650 days (got ${describe(v)})`);
  return Math.round(ms);
}

/** A timestamp field's value as epoch milliseconds; undefined when it is null or absent. */
export function timeMs(value: unknown, format: TimestampFormat): number | undefined {
  if (typeof value === "number") return format === "epoch_s" ? value * 1000 : value;
  if (typeof value === "string") {
    const ms = Date.parse(format === "date" ? `${value}T00:00:00Z` : value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

const fixed = (gen: Gen, bytes: number, type: ColumnType, text?: Writer): Compiled => ({
  gen,
  bytes: () => bytes,
  items: 0,
  type: () => type,
  ...(text ? { text } : {}),
  ...(text === WRITERS.plainString ? { plain: true } : {}),
});

/** The type of a field inside a struct type, by path; JSON when the path leads out of known structs. */
function typeAt(type: ColumnType, path: readonly string[]): ColumnType {
  let t = type;
  for (const k of path) {
    if (typeof t !== "object") return "json";
    const next = t.struct.find((c) => c.name === k);
    if (!next) return "json";
    t = next.type;
  }
  return t;
}

/** The column type that holds every one of these values (nulls aside): mixed kinds become JSON. */
function typeOfValues(values: readonly unknown[]): ColumnType {
  const kinds = new Set<ColumnType>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === "string") kinds.add("string");
    else if (typeof v === "boolean") kinds.add("boolean");
    else if (typeof v === "number") kinds.add(Number.isInteger(v) ? "int" : "double");
    else kinds.add("json");
  }
  if (kinds.size === 2 && kinds.has("int") && kinds.has("double")) return "double";
  if (kinds.size === 1) return [...kinds][0] as ColumnType;
  return kinds.size === 0 ? "string" : "json";
}
/** A field's value, or OMIT when the field is left out of this record. */
const OMIT = Symbol("omit");

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new ValidationError(path, `${path}: ${message}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function num(path: string, v: unknown, fallback: number | undefined, min = -Number.MAX_VALUE, max = Number.MAX_VALUE): number {
  const value = v ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    fail(path, `must be a number${min > -Number.MAX_VALUE ? ` from ${min}` : ""}${max < Number.MAX_VALUE ? ` to ${max}` : ""} (got ${describe(value)})`);
  }
  return value;
}

function keysOnly(path: string, o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown setting "${k}"${didYouMean(k, allowed)}; allowed: ${allowed.join(", ")}`);
}

/** Compiles one field spec. `top` lists the record's top-level field names, for refs and templates. */
class Compiler {
  readonly faker = new SeededFaker();
  /** Top-level fields each top-level field depends on. */
  readonly deps = new Map<string, Set<string>>();
  /** The fields read from each external entity (scenario parents and references). */
  readonly externalReads = new Map<string, Set<string>>();
  private currentTop = "";
  /** What the schema's fields may still spend on keys joined ahead with their values (see KEYED_LIMITS). */
  readonly keyedBudget: KeyedBudget = { left: KEYED_LIMITS.SCHEMA_CHARS };

  constructor(
    private readonly top: readonly string[],
    private readonly options: CompileOptions = {},
  ) {}

  /** The external entity a dotted name starts with, if it starts with one. */
  private external(name: string): ExternalEntity | undefined {
    const root = name.split(".")[0] as string;
    return this.top.includes(root) ? undefined : this.options.externals?.get(root);
  }

  field(path: string, spec: unknown, topName?: string, depth = 0): Compiled {
    if (topName !== undefined) this.currentTop = topName;
    if (depth > SCHEMA_LIMITS.MAX_DEPTH) fail(path, `nests objects and arrays more than ${SCHEMA_LIMITS.MAX_DEPTH} deep`);
    if (!isObj(spec)) fail(path, `must be an object with one generator (${GENERATORS.join(", ")}) (got ${describe(spec)})`);
    const kinds = Object.keys(spec).filter((k) => !(MODIFIERS as readonly string[]).includes(k));
    if (kinds.length !== 1) {
      const unknown = kinds.find((k) => !(GENERATORS as readonly string[]).includes(k));
      if (unknown !== undefined) fail(`${path}.${unknown}`, `unknown generator "${unknown}"${didYouMean(unknown, GENERATORS)}; known: ${GENERATORS.join(", ")}`);
      fail(path, `needs exactly one generator (${GENERATORS.join(", ")}) (got ${kinds.length ? kinds.join(", ") : "none"})`);
    }
    const kind = kinds[0] as string;
    if (!(GENERATORS as readonly string[]).includes(kind)) {
      fail(`${path}.${kind}`, `unknown generator "${kind}"${didYouMean(kind, GENERATORS)}; known: ${GENERATORS.join(", ")}`);
    }
    const compiled = this.generator(`${path}.${kind}`, kind as (typeof GENERATORS)[number], spec[kind], depth);
    const nullP = spec.null_probability === undefined ? 0 : num(`${path}.null_probability`, spec.null_probability, 0, 0, 1);
    const omitP = spec.omit_probability === undefined ? 0 : num(`${path}.omit_probability`, spec.omit_probability, 0, 0, 1);
    if (nullP === 0 && omitP === 0) return compiled;
    const gen = compiled.gen;
    return {
      gen: (s) => {
        if (omitP > 0 && s.rng.float() < omitP) return OMIT;
        if (nullP > 0 && s.rng.float() < nullP) return null;
        return gen(s);
      },
      bytes: () => Math.max(4, compiled.bytes()),
      items: compiled.items,
      type: compiled.type,
      ...(compiled.time ? { time: compiled.time } : {}),
      ...(compiled.timeRule ? { timeRule: compiled.timeRule } : {}),
      ...(compiled.text ? { text: orNull(compiled.text) } : {}),
      ...(compiled.plain ? { plain: true } : {}),
      ...(compiled.plainWith ? { plainWith: compiled.plainWith } : {}),
      // A null is none of the pieces (unless one of them is null: the same text either way).
      ...(compiled.pieces ? { pieces: compiled.pieces } : {}),
    };
  }

  /** The byte bound of a top-level field, once every field is compiled (for `ref` and `template`). */
  topBytes: (name: string) => number = () => 0;
  topType: (name: string) => ColumnType = () => "json";
  topTime: (name: string) => TimestampFormat | undefined = () => undefined;

  private dependOn(path: string, name: string): void {
    const root = name.split(".")[0] as string;
    const external = this.external(name);
    if (external) {
      const field = name.split(".")[1];
      const fields = external.schema.columns.map((c) => c.name);
      if (field === undefined || !fields.includes(field)) fail(path, `refers to "${name}": ${root} has no field "${field ?? ""}"${didYouMean(field ?? "", fields)}; its fields: ${fields.join(", ")}`);
      let reads = this.externalReads.get(root);
      if (!reads) this.externalReads.set(root, (reads = new Set()));
      reads.add(field);
      return;
    }
    if (!this.top.includes(root)) {
      const known = [...this.top, ...(this.options.externals?.keys() ?? [])];
      fail(
        path,
        `refers to "${name}", which is not a field of the record${this.options.externals?.size ? ` or of a related dataset (${[...this.options.externals.keys()].join(", ")})` : ""}${didYouMean(root, known)}`,
      );
    }
    if (root === this.currentTop) fail(path, `refers to its own field "${root}"`);
    let set = this.deps.get(this.currentTop);
    if (!set) this.deps.set(this.currentTop, (set = new Set()));
    set.add(root);
  }

  /** Reads a dotted name from the record, or from the related entity it starts with. */
  private reader(keys: readonly string[]): Gen {
    const root = keys[0] as string;
    if (!this.external(root)) return (s) => lookup(s.values, keys);
    const rest = keys.slice(1);
    return (s) => lookup((s.related as NonNullable<RecordScope["related"]>)(root), rest);
  }

  private refBytes(keys: readonly string[]): number {
    const external = this.external(keys[0] as string);
    return external ? (external.schema.fieldBytes.get(keys[1] as string) ?? 0) : this.topBytes(keys[0] as string);
  }

  private refType(keys: readonly string[]): ColumnType {
    const external = this.external(keys[0] as string);
    if (!external) return typeAt(this.topType(keys[0] as string), keys.slice(1));
    const column = external.schema.columns.find((c) => c.name === keys[1]);
    return column ? typeAt(column.type, keys.slice(2)) : "json";
  }

  private generator(path: string, kind: (typeof GENERATORS)[number], arg: unknown, depth: number): Compiled {
    switch (kind) {
      case "const": {
        const value = arg;
        const bytes = jsonBytes(value);
        if (bytes > SCHEMA_LIMITS.MAX_CONST_BYTES) fail(path, `is ${bytes} bytes as JSON; a const may be at most ${SCHEMA_LIMITS.MAX_CONST_BYTES}`);
        return fixed(() => value, bytes, typeOfValues([value]));
      }
      case "faker": {
        const o = isObj(arg) ? arg : { method: arg };
        keysOnly(path, o, ["method", "args", "pool"]);
        const name = o.method;
        if (typeof name !== "string") fail(path, `must name a faker method such as "internet.email" (got ${describe(name)})`);
        const known = fakerMethodNames();
        if (!known.includes(name)) fail(path, `unknown faker method "${name}"${didYouMean(name, known)}`);
        const args = o.args ?? [];
        if (!Array.isArray(args)) fail(`${path}.args`, `must be a list of arguments (got ${describe(args)})`);
        // Sizes first: a call such as string.alpha(1e9) must not be made even once.
        const oversize = oversizeFakerArg(name, args);
        if (oversize) fail(`${path}.${oversize[0]}`, `${oversize[1]} is over the limit of ${SCHEMA_LIMITS.MAX_FAKER_SIZE_ARG} for a length or count`);
        const method = this.faker.method(name);
        const faker = this.faker;
        const plain = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === "bigint" ? Number(v) : v);
        // Call it now with the middle and the largest draws: a bad argument is a schema error rather
        // than a failed run, and the larger value bounds what the field adds to a record.
        let probeBytes = 0;
        const probes: unknown[] = [];
        for (const draw of [0.5, 0.999999]) {
          let value: unknown;
          try {
            faker.use({ float: () => draw } as Prng);
            value = plain(method(...args));
          } catch (err) {
            fail(path, `faker ${name} rejects these args: ${(err as Error).message}`);
          }
          probeBytes = Math.max(probeBytes, jsonBytes(value));
          probes.push(value);
        }
        // A faker number may be whole on both probes and not on the next call: numbers are doubles.
        const probed = typeOfValues(probes);
        const fakerType: ColumnType = probed === "int" ? "double" : probed;
        if (probeBytes > SCHEMA_LIMITS.MAX_VALUE_BYTES) fail(path, `makes values of ${probeBytes} bytes; a faker value may be at most ${SCHEMA_LIMITS.MAX_VALUE_BYTES}`);
        if (o.pool !== undefined) {
          // A pool: `pool` values made once from a fixed seed, then drawn per record. Faker calls
          // cost microseconds each; a draw costs nanoseconds. For fields where repeats are fine.
          const size = num(`${path}.pool`, o.pool, undefined, 1, SCHEMA_LIMITS.MAX_POOL_SIZE);
          if (!Number.isInteger(size)) fail(`${path}.pool`, `must be a whole number from 1 to ${SCHEMA_LIMITS.MAX_POOL_SIZE} (got ${size})`);
          const tooBig = () => fail(`${path}.pool`, `${size} values of up to ${probeBytes} bytes are more than the ${SCHEMA_LIMITS.MAX_POOL_BYTES} bytes a pool may hold: use a smaller pool`);
          if (size * probeBytes > SCHEMA_LIMITS.MAX_POOL_BYTES) tooBig();
          faker.use(Prng.fromParts("schema pool", path));
          const values: unknown[] = [];
          let total = 0;
          let largest = 0;
          for (let i = 0; i < size; i++) {
            const value = plain(method(...args));
            const bytes = jsonBytes(value);
            total += bytes;
            largest = Math.max(largest, bytes);
            if (total > SCHEMA_LIMITS.MAX_POOL_BYTES) tooBig();
            values.push(value);
          }
          const pool = drawnFrom(values);
          return { ...fixed((s) => pool.drawn(s.rng.int(size)), largest, fakerType, pool.text), ...(pool.pieces ? { pieces: pool.pieces } : {}) };
        }
        // faker's string methods that draw from a fixed table, straight from the PRNG (faker-fast.ts).
        const fast = fastFaker(name, args);
        if (fast) {
          const draw = fast.draw;
          return fixed((s) => draw(s.rng), probeBytes, fakerType, PLAIN_STRING.test(fast.prefix) ? WRITERS.plainString : undefined);
        }
        return fixed(
          (s) => {
            faker.use(s.rng, s.dayStartMs);
            return plain(method(...args));
          },
          probeBytes,
          fakerType,
        );
      }
      case "choice": {
        let entries: [unknown, number][];
        if (Array.isArray(arg)) entries = arg.map((v) => [v, 1]);
        else if (isObj(arg)) entries = Object.entries(arg).map(([k, w], i) => [k, num(`${path}.${Object.keys(arg)[i]}`, w, undefined, 0)]);
        else fail(path, `must be a list of values, or an object of value: weight (got ${describe(arg)})`);
        if (entries.length === 0 || !entries.some(([, w]) => w > 0)) fail(path, "needs at least one value with a weight above 0");
        if (entries.some(([v]) => v === "__proto__")) fail(path, `"__proto__" is not allowed as a value`);
        const bytes = Math.max(...entries.map(([v]) => jsonBytes(v)));
        if (bytes > SCHEMA_LIMITS.MAX_CONST_BYTES) fail(path, `has a value of ${bytes} bytes as JSON; a value may be at most ${SCHEMA_LIMITS.MAX_CONST_BYTES}`);
        const weighted = entries.filter(([, w]) => w > 0);
        const choices = drawnFrom(weighted.map(([v]) => v));
        const table = new WeightedTable(weighted.map(([, w], i) => [i, w] as const));
        return {
          ...fixed((s) => choices.drawn(table.draw(s.rng)), bytes, typeOfValues(entries.map(([v]) => v)), choices.text),
          ...(choices.pieces ? { pieces: choices.pieces } : {}),
        };
      }
      case "number": {
        const o = isObj(arg) ? arg : {};
        if (!isObj(arg) && arg !== null && arg !== undefined) fail(path, `must be an object (got ${describe(arg)})`);
        keysOnly(path, o, ["min", "max", "distribution", "mean", "stddev", "rate", "decimals"]);
        const distribution = (o.distribution ?? "uniform") as string;
        if (!(DISTRIBUTIONS as readonly string[]).includes(distribution)) {
          fail(`${path}.distribution`, `unknown distribution "${distribution}"${didYouMean(distribution, DISTRIBUTIONS)}; known: ${DISTRIBUTIONS.join(", ")}`);
        }
        const decimals = num(`${path}.decimals`, o.decimals, 0, 0, 6);
        if (!Number.isInteger(decimals)) fail(`${path}.decimals`, `must be a whole number from 0 to 6 (got ${decimals})`);
        const min = num(`${path}.min`, o.min, distribution === "uniform" ? 0 : -Number.MAX_VALUE);
        const max = num(`${path}.max`, o.max, distribution === "uniform" ? 100 : Number.MAX_VALUE);
        if (min > max) fail(`${path}.min`, `must not exceed max (${min} > ${max})`);
        const NUMBER_BYTES = 24;
        const numberType: ColumnType = decimals === 0 ? "int" : "double";
        const scale = 10 ** decimals;
        const round = (x: number) => Math.min(max, Math.max(min, Math.round(x * scale) / scale));
        if (distribution === "uniform") {
          // max - min must be a number: min -1e308 and max 1e308 would make every value Infinity.
          if (!Number.isFinite(max - min)) fail(path, `min ${min} to max ${max} is a range too wide to draw from`);
          if (decimals === 0) {
            const lo = Math.ceil(min);
            const hi = Math.floor(max);
            if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) fail(path, `whole numbers must lie within ±${Number.MAX_SAFE_INTEGER} (got ${min} to ${max})`);
            const whole = fixed((s) => s.rng.range(lo, hi), NUMBER_BYTES, "int", WRITERS.number);
            // A small range is a small fixed set: each number's text made once (see Pieces).
            if (hi - lo + 1 > MAX_PIECES) return whole;
            const texts = Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i));
            return { ...whole, pieces: { texts, index: (v) => (typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi ? v - lo : -1) } };
          }
          return fixed((s) => round(min + s.rng.float() * (max - min)), NUMBER_BYTES, numberType, WRITERS.number);
        }
        if (distribution === "normal") {
          const mean = num(`${path}.mean`, o.mean, undefined);
          const sd = num(`${path}.stddev`, o.stddev, undefined, 0);
          if (!Number.isFinite(Math.abs(mean) + 40 * sd)) fail(path, `mean ${mean} and stddev ${sd} would overflow to Infinity`);
          return fixed((s) => round(mean + s.rng.normal() * sd), NUMBER_BYTES, numberType, WRITERS.number);
        }
        const rate = num(`${path}.rate`, o.rate, undefined, Number.MIN_VALUE);
        const offset = o.min === undefined ? 0 : min;
        if (!Number.isFinite(Math.abs(offset) + 50 / rate)) fail(`${path}.rate`, `rate ${rate} is so small its values would overflow to Infinity`);
        return fixed((s) => round(offset - Math.log(1 - s.rng.float()) / rate), NUMBER_BYTES, numberType, WRITERS.number);
      }
      case "boolean": {
        const p = arg === true || arg === null || arg === undefined ? 0.5 : num(path, isObj(arg) ? arg.probability : arg, 0.5, 0, 1);
        return { ...fixed((s) => s.rng.float() < p, 5, "boolean", WRITERS.boolean), pieces: BOOLEAN_PIECES };
      }
      case "sequence": {
        const o = isObj(arg) ? arg : {};
        keysOnly(path, o, ["start", "step", "format"]);
        const start = num(`${path}.start`, o.start, 1);
        const step = num(`${path}.step`, o.step, 1);
        const format = o.format;
        if (format !== undefined && (typeof format !== "string" || !format.includes("{n}"))) fail(`${path}.format`, `must be text containing {n} (and optionally {file}) (got ${describe(format)})`);
        if (!Number.isFinite(Math.abs(start) + Math.abs(step) * SCHEMA_LIMITS.MAX_RECORDS_PER_FILE)) {
          fail(path, `start ${start} and step ${step} would overflow to Infinity within a file's records`);
        }
        if (this.options.scenario && format?.includes("{file}")) fail(`${path}.format`, `{file} depends on how a run is split into files; in a scenario use {n}, the entity's number`);
        if (format === undefined) return fixed((s) => start + step * s.index, 24, Number.isInteger(start) && Number.isInteger(step) ? "int" : "double", WRITERS.number);
        if (format.length > SCHEMA_LIMITS.MAX_CONST_BYTES) fail(`${path}.format`, `is ${format.length} characters; at most ${SCHEMA_LIMITS.MAX_CONST_BYTES}`);
        const occurrences = format.split("{").length - 1;
        // Cut once at its placeholders (what replacing {file}, then {n}, everywhere gives: a file
        // index is digits, so it never makes a new {n}); each record joins the pieces.
        const pieces = format.split(/(\{file\}|\{n\})/);
        return fixed(
          (s) => {
            let out = "";
            for (let i = 0; i < pieces.length; i++) {
              const piece = pieces[i] as string;
              out += i % 2 === 0 ? piece : piece === "{n}" ? String(start + step * s.index) : String(s.fileIndex);
            }
            return out;
          },
          2 * format.length + 24 * occurrences,
          "string",
          // Placeholders become digits (and a minus sign, a point, an exponent): plain if the rest is.
          pieces.every((piece, i) => i % 2 === 1 || PLAIN_STRING.test(piece)) ? WRITERS.plainString : undefined,
        );
      }
      case "timestamp": {
        // `timestamp: iso`, or `timestamp: { format, after, within }`: a time after another timestamp.
        const o = isObj(arg) ? arg : { format: arg };
        keysOnly(path, o, ["format", "after", "within"]);
        const format = (o.format ?? "iso") as TimestampFormat;
        if (!(TIMESTAMP_FORMATS as readonly string[]).includes(format))
          fail(isObj(arg) ? `${path}.format` : path, `unknown format "${String(format)}"${didYouMean(String(format), TIMESTAMP_FORMATS)}; known: ${TIMESTAMP_FORMATS.join(", ")}`);
        const render = (ms: number): unknown => {
          if (format === "epoch_ms") return ms;
          if (format === "epoch_s") return Math.floor(ms / 1000);
          const iso = isoOfMs(ms);
          return format === "date" ? iso.slice(0, 10) : iso;
        };
        const type: ColumnType = format === "iso" ? "timestamp" : format === "date" ? "string" : "int";
        // An ISO time or date (digits, "-", ":", "T", ".", "Z"; "+" for a year past 9999) is a plain string.
        const timeWriter: Writer = format === "iso" || format === "date" ? WRITERS.plainString : WRITERS.number;
        const inDay = (s: RecordScope) => s.dayStartMs + s.secondOfDay() * 1000 + s.rng.int(1000);
        if (o.after === undefined) {
          if (o.within !== undefined) fail(`${path}.within`, "applies with after (a time within this long after another timestamp)");
          return { ...fixed((s) => render(inDay(s)), 26, type, timeWriter), time: format };
        }
        if (typeof o.after !== "string") fail(`${path}.after`, `must name a timestamp field, e.g. created_at or users.signup_at (got ${describe(o.after)})`);
        const after = o.after;
        this.dependOn(`${path}.after`, after);
        const keys = after.split(".");
        const external = this.external(after);
        if (keys.length !== (external ? 2 : 1)) fail(`${path}.after`, `must name a top-level timestamp field (got "${after}")`);
        const within = durationMs(`${path}.within`, o.within ?? "1d");
        // Resolved once every field is compiled: the named field must be a timestamp.
        let baseFormat: TimestampFormat | undefined;
        const formatOf = (): TimestampFormat => {
          if (baseFormat) return baseFormat;
          const f = external ? external.schema.timeFormats.get(keys[1] as string) : this.topTime(after);
          if (!f) fail(`${path}.after`, `"${after}" is not a timestamp field (after needs one made by the timestamp generator)`);
          return (baseFormat = f);
        };
        const root = keys[0] as string;
        const field = keys[1] as string;
        const read = external ? (s: RecordScope) => (s.related as NonNullable<RecordScope["related"]>)(root)[field] : (s: RecordScope) => s.values[root];
        // Strictly after: at least 1 ms, at most `within`. A date or whole-second format rounds
        // down, so the step starts a unit further on to stay after its base.
        const unit = format === "date" ? 86_400_000 : format === "epoch_s" ? 1000 : 1;
        return {
          timeRule: { after, withinMs: within },
          gen: (s) => {
            const base = timeMs(read(s), formatOf());
            if (base === undefined) return render(inDay(s));
            return render(base + unit + s.rng.int(Math.max(1, within - unit + 1)));
          },
          bytes: () => 26,
          items: 0,
          type: () => {
            formatOf();
            return type;
          },
          time: format,
          text: timeWriter,
          ...(timeWriter === WRITERS.plainString ? { plain: true } : {}),
        };
      }
      case "template": {
        if (typeof arg !== "string") fail(path, `must be text with {field} placeholders (got ${describe(arg)})`);
        if (arg.length > SCHEMA_LIMITS.MAX_CONST_BYTES) fail(path, `is ${arg.length} characters; a template may be at most ${SCHEMA_LIMITS.MAX_CONST_BYTES}`);
        const parts = arg.split(/(\{[A-Za-z0-9_.]+\})/);
        const pieces = parts.map((p) => {
          const m = /^\{([A-Za-z0-9_.]+)\}$/.exec(p);
          if (!m) return p;
          const ref = m[1] as string;
          this.dependOn(path, ref);
          return ref.split(".");
        });
        const literal = pieces.reduce((n, p) => n + (typeof p === "string" ? jsonBytes(p) : 0), 2);
        const refs = pieces.filter((p): p is string[] => typeof p !== "string");
        const readers = pieces.map((p) => (typeof p === "string" ? p : this.reader(p)));
        // Plain text around top-level fields whose strings are plain (their other values show as
        // digits, words or nothing): a plain string, once those fields are known to be plain.
        const plainWith = pieces.every((p) => (typeof p === "string" ? PLAIN_STRING.test(p) : p.length === 1 && !this.external(p[0] as string))) ? refs.map((r) => r[0] as string) : undefined;
        return {
          gen: (s) => {
            let out = "";
            for (let i = 0; i < readers.length; i++) {
              const r = readers[i] as string | Gen;
              out += typeof r === "string" ? r : String(r(s) ?? "");
            }
            return out;
          },
          // A value shown as text can escape to twice its JSON size (quotes inside a nested object).
          bytes: () => literal + refs.reduce((n, r) => n + 2 * this.refBytes(r), 0),
          items: 0,
          type: () => "string",
          ...(plainWith ? { plainWith } : {}),
        };
      }
      case "ref": {
        if (typeof arg !== "string") fail(path, `must name another field of the record (got ${describe(arg)})`);
        this.dependOn(path, arg);
        const keys = arg.split(".");
        const read = this.reader(keys);
        return { gen: (s) => read(s) ?? null, bytes: () => this.refBytes(keys), items: 0, type: () => this.refType(keys) };
      }
      case "object": {
        if (!isObj(arg) || Object.keys(arg).length === 0) fail(path, `must be an object of fields (got ${describe(arg)})`);
        const fields = Object.entries(arg).map(([k, v]) => [k, this.field(`${path}.${k}`, v, undefined, depth + 1)] as const);
        const gens = fields.map(([k, c]) => [k, c.gen] as const);
        return {
          gen: (s) => {
            const out: Obj = {};
            for (const [k, g] of gens) {
              const v = g(s);
              if (v !== OMIT) out[k] = v;
            }
            return out;
          },
          bytes: () => fields.reduce((n, [k, c]) => n + jsonBytes(k) + 2 + c.bytes(), 2),
          items: fields.reduce((n, [, c]) => n + c.items, 0),
          type: () => ({ struct: fields.map(([k, c]) => ({ name: k, type: c.type() })) }),
          ...objectWriter(fields, this.keyedBudget),
        };
      }
      case "array": {
        if (!isObj(arg)) fail(path, `must be an object with items, min and max (got ${describe(arg)})`);
        keysOnly(path, arg, ["items", "min", "max"]);
        const min = num(`${path}.min`, arg.min, 0, 0, SCHEMA_LIMITS.MAX_ARRAY_ITEMS);
        const max = num(`${path}.max`, arg.max, Math.max(min, 3), min, SCHEMA_LIMITS.MAX_ARRAY_ITEMS);
        const item = this.field(`${path}.items`, arg.items, undefined, depth + 1);
        // Nested arrays multiply: 1,000 × 1,000 × 1,000 items would be a billion per record.
        const items = max * (1 + item.items);
        if (items > SCHEMA_LIMITS.MAX_ITEMS_PER_RECORD) {
          fail(path, `can hold up to ${items} items with the arrays inside it; a record may hold at most ${SCHEMA_LIMITS.MAX_ITEMS_PER_RECORD} array items in all`);
        }
        const gen = item.gen;
        // Each item by its own writer: what JSON.stringify makes of the list (an item it leaves out is null).
        const itemText = item.text ?? valueText;
        return {
          gen: (s) => {
            const n = s.rng.range(min, max);
            const out: unknown[] = [];
            for (let i = 0; i < n; i++) {
              const v = gen(s);
              if (v !== OMIT) out.push(v);
            }
            return out;
          },
          bytes: () => 2 + max * (item.bytes() + 1),
          items,
          type: () => "json",
          text: (v) => {
            const list = v as readonly unknown[];
            if (list.length === 0) return "[]";
            let t = "[";
            for (let i = 0; i < list.length; i++) t += (i === 0 ? "" : ",") + (itemText(list[i]) ?? "null");
            return `${t}]`;
          },
        };
      }
    }
  }
}

function lookup(values: Obj, keys: readonly string[]): unknown {
  let v: unknown = values;
  for (const k of keys) v = isObj(v) ? v[k] : undefined;
  return v;
}

/** A compiled schema: one record's JSON text from a scope. */
export interface CompiledSchema {
  readonly schema: DatasetSchema;
  readonly required: readonly string[];
  /** The most bytes one record can take (an upper bound from the generators' bounds). */
  readonly maxRecordBytes: number;
  /** The top-level fields as columns, in declared order. */
  readonly columns: readonly Column[];
  /** Each top-level field's byte bound, and the formats of its timestamp fields (for scenarios). */
  readonly fieldBytes: ReadonlyMap<string, number>;
  readonly timeFormats: ReadonlyMap<string, TimestampFormat>;
  /** Each timestamp field's rule (in declared order, as `timeFormats`). */
  readonly timeRules: ReadonlyMap<string, TimeRule>;
  /** A record's values, computed in dependency order (left out: omitted fields). */
  values(scope: RecordScope): Record<string, unknown>;
  /** Computes the `wanted` fields (all when absent) not computed yet; `wanted` must hold what they depend on (see `closure`). */
  fill(scope: RecordScope, target: PartialValues, wanted?: ReadonlySet<string>): void;
  /** These fields and every field they depend on. */
  closure(fields: Iterable<string>): Set<string>;
  /** The fields it reads from each related entity, by the name it uses for it. */
  readonly externalReads: ReadonlyMap<string, ReadonlySet<string>>;
  /** The JSON text of a record's values, keys in declared order. */
  text(values: Record<string, unknown>): string;
  record(scope: RecordScope): string;
  /** `record` less its closing brace, made without a copy. */
  recordHead(scope: RecordScope): string;
  /** The values of the record `recordHead` last made, by declared position (undefined: omitted); reused. */
  lastRow(): unknown[];
}

export { isoOfMs } from "../core/iso-time";

/** A string JSON.stringify would write as itself in quotes, and asciiText leave alone: printable ASCII but `"` and `\\`. */
const PLAIN_STRING = /^[ !#-[\]-~]*$/;

/**
 * One value's JSON text with non-ASCII characters escaped: exactly asciiText(JSON.stringify(v))
 * (asciiText works character by character, so a record's text is its values' texts joined), with
 * the common values written directly: a string without quotes, backslashes, control or non-ASCII
 * characters in quotes as it is, a finite number as String does (JSON's own form), a boolean, null.
 */
function valueText(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return PLAIN_STRING.test(v) ? `"${v}"` : asciiText(JSON.stringify(v));
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return undefined;
    default: {
      if (v === null) return "null";
      const json = JSON.stringify(v) as string | undefined;
      return json === undefined ? undefined : asciiText(json);
    }
  }
}

/**
 * Writers for generators whose values are known to be of one kind — each gives exactly what
 * `valueText` gives for such a value, without its questions: a number as `String` writes it (null
 * when not finite), a boolean as a word, a string made only of printable ASCII without `"` or `\\`
 * (an ISO time, a sequence format of such characters) in quotes as it is.
 */
const WRITERS = {
  number: (v: unknown): string => (Number.isFinite(v) ? String(v) : "null"),
  boolean: (v: unknown): string => (v ? "true" : "false"),
  plainString: (v: unknown): string => `"${v as string}"`,
} as const;

/** A writer that also takes null (a field with `null_probability`). */
const orNull =
  (writer: Writer): Writer =>
  (v) =>
    v === null ? "null" : writer(v);

/**
 * Values drawn from a fixed list, each one's text made once: the writer takes the last drawn
 * value's text without a lookup, and looks any other up by value (equal values, equal texts).
 */
function drawnFrom(values: readonly unknown[]): { drawn: (i: number) => unknown; text: Writer; pieces?: Pieces } {
  // Flat: each is one piece of a record's text (see flatText).
  const texts = values.map((v) => {
    const text = valueText(v);
    return text === undefined ? undefined : flatText(text);
  });
  const byValue = new Map(values.map((v, i) => [v, texts[i]]));
  let last = 0;
  const all = texts.every((t) => t !== undefined) && texts.length <= MAX_PIECES;
  return {
    drawn: (i) => {
      last = i;
      return values[i];
    },
    text: (v) => (v === values[last] ? texts[last] : byValue.get(v)),
    // The last value drawn is the one a record holds (a null or a copy is looked up by its writer).
    ...(all ? { pieces: { texts: texts as string[], index: (v: unknown) => (v === values[last] ? last : -1) } } : {}),
  };
}

const BOOLEAN_PIECES: Pieces = { texts: ["false", "true"], index: (v) => (v === true ? 1 : v === false ? 0 : -1) };

/**
 * The writer of an object field's values: each child by its own writer, after its `"name":` made
 * once — exactly asciiText(JSON.stringify(object)). The children come in the order JSON.stringify
 * writes them: the schema's object is a JavaScript object too, its index-like names already first.
 */
function objectWriter(fields: readonly (readonly [string, Compiled])[], budget: KeyedBudget): { text: Writer } {
  const keys = fields.map(([k]) => k);
  const prefixes = keys.map((k) => flatText(`${asciiText(JSON.stringify(k))}:`));
  const afterComma = prefixes.map((prefix) => flatText(`,${prefix}`));
  const writers = fields.map(([, c]) => c.text ?? valueText);
  // A child from a small fixed set: its key and value as one piece, first or after a comma (see Pieces).
  const keyed = fields.map(([, c], j) => {
    const joined = c.pieces && joinedAhead([prefixes[j] as string, afterComma[j] as string], c.pieces.texts, budget);
    return c.pieces && joined ? { index: c.pieces.index, first: joined[0] as string[], after: joined[1] as string[] } : undefined;
  });
  return {
    text: (value) => {
      const o = value as Obj;
      let t = "{";
      for (let j = 0; j < keys.length; j++) {
        // Own fields only, as JSON.stringify reads them (a left-out `constructor` is not Object's).
        const key = keys[j] as string;
        const v = Object.hasOwn(o, key) ? o[key] : undefined;
        if (v === undefined) continue;
        const piece = keyed[j];
        if (piece) {
          const k = piece.index(v);
          if (k >= 0) {
            t += (t.length === 1 ? piece.first : piece.after)[k] as string;
            continue;
          }
        }
        const w = (writers[j] as Writer)(v);
        if (w === undefined) continue;
        t += t.length === 1 ? (prefixes[j] as string) : (afterComma[j] as string);
        t += w;
      }
      return `${t}}`;
    },
  };
}

/** Checks a schema (parsed JSON or YAML) and compiles it; throws a ValidationError naming the path. */
export function compileSchema(input: unknown, where = "dataset", options: CompileOptions = {}): CompiledSchema {
  if (!isObj(input)) fail(where, `a dataset schema must be an object with name and fields (got ${describe(input)})`);
  // A plain object drops a "__proto__" key silently (it sets the prototype): refuse it anywhere.
  const proto = protoKeyPath(input, where);
  if (proto !== undefined) fail(proto, `"__proto__" is not allowed as a name`);
  for (const k of Object.keys(input)) if (!SCHEMA_KEYS.includes(k)) fail(`${where}.${k}`, `unknown key "${k}"${didYouMean(k, SCHEMA_KEYS)}; allowed: ${SCHEMA_KEYS.join(", ")}`);
  const name = input.name;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) fail(`${where}.name`, `must be 1-64 letters, digits, ". _ -" (got ${describe(name)})`);
  const fields = input.fields;
  if (!isObj(fields) || Object.keys(fields).length === 0) fail(`${where}.fields`, `must be an object with at least one field (got ${describe(fields)})`);
  const top = Object.keys(fields);
  const required = input.required ?? [];
  if (!Array.isArray(required)) fail(`${where}.required`, `must be a list of field names (got ${describe(required)})`);
  for (const r of required) if (typeof r !== "string" || !top.includes(r)) fail(`${where}.required`, `"${String(r)}" is not a field${didYouMean(String(r), top)}`);

  for (const k of top) if (options.externals?.has(k)) fail(`${where}.fields.${k}`, `"${k}" is both a field and a related dataset: rename the field`);
  const compiler = new Compiler(top, options);
  const compiledFields = new Map(top.map((k) => [k, compiler.field(`${where}.fields.${k}`, fields[k], k)]));
  const gens = new Map([...compiledFields].map(([k, c]) => [k, c.gen]));
  // Evaluate fields after those they refer to; emit them in the declared order.
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (k: string, trail: string[]) => {
    if (state.get(k) === "done") return;
    if (state.get(k) === "visiting") fail(`${where}.fields.${k}`, `refers back to itself through ${[...trail, k].join(" → ")}`);
    state.set(k, "visiting");
    for (const d of compiler.deps.get(k) ?? []) visit(d, [...trail, k]);
    state.set(k, "done");
    order.push(k);
  };
  for (const k of top) visit(k, []);
  const steps = order.map((k) => [k, gens.get(k) as Gen] as const);

  // Bounds, in dependency order so a ref's bound is its target's.
  const bound = new Map<string, number>();
  compiler.topBytes = (k) => bound.get(k) ?? 0;
  compiler.topType = (k) => compiledFields.get(k)?.type() ?? "json";
  compiler.topTime = (k) => compiledFields.get(k)?.time;
  for (const k of order) bound.set(k, (compiledFields.get(k) as Compiled).bytes());
  const items = top.reduce((n, k) => n + (compiledFields.get(k) as Compiled).items, 0);
  if (items > SCHEMA_LIMITS.MAX_ITEMS_PER_RECORD) fail(`${where}.fields`, `can hold up to ${items} array items per record; at most ${SCHEMA_LIMITS.MAX_ITEMS_PER_RECORD}`);
  const maxRecordBytes = top.reduce((n, k) => n + jsonBytes(k) + 2 + (bound.get(k) as number), 2);
  if (maxRecordBytes > SCHEMA_LIMITS.MAX_RECORD_BYTES) {
    const largest = [...bound].sort((a, b) => b[1] - a[1])[0] as [string, number];
    fail(`${where}.fields`, `records can reach ${maxRecordBytes} bytes (${largest[0]}: up to ${largest[1]}); a record may be at most ${SCHEMA_LIMITS.MAX_RECORD_BYTES} bytes`);
  }
  const schema: DatasetSchema = { name, fields, ...(typeof input.description === "string" ? { description: input.description } : {}), ...(required.length ? { required: required as string[] } : {}) };
  const prefixes = top.map((k) => flatText(`${asciiText(JSON.stringify(k))}:`));
  const timeFormats = new Map<string, TimestampFormat>();
  const timeRules = new Map<string, TimeRule>();
  for (const [k, c] of compiledFields) {
    if (!c.time) continue;
    timeFormats.set(k, c.time);
    timeRules.set(k, c.timeRule ?? { withinMs: 0 });
  }
  const position = new Map(top.map((k, i) => [k, i]));
  const orderedSteps = steps.map(([k, g]) => [k, g, position.get(k) as number] as const);
  /** The last record's values by declared position (undefined: omitted), filled by `values`: read by index, not by name. */
  const row: unknown[] = new Array(top.length).fill(undefined);
  // The record as straight-line code (see codegen.ts: the source holds positions only, never the schema's text).
  const code = compileRecord<RecordScope>({
    order: orderedSteps.map(([, , i]) => i),
    keys: top,
    gens: top.map((k) => (compiledFields.get(k) as Compiled).gen),
    writers: top.map((k) => (compiledFields.get(k) as Compiled).text ?? valueText),
    quoting: top.map((k) => {
      const c = compiledFields.get(k) as Compiled;
      const plain = c.plain || c.plainWith?.every((f) => compiledFields.get(f)?.plain === true);
      return plain ? "plain" : c.text === undefined ? "check" : "writer";
    }),
    isPlain: (v) => PLAIN_STRING.test(v),
    pieces: top.map((k) => (compiledFields.get(k) as Compiled).pieces),
    keyedBudget: compiler.keyedBudget,
    prefixes,
    omit: OMIT,
    maxRecordBytes: SCHEMA_LIMITS.MAX_RECORD_BYTES,
    // The bound above is computed, faker's part of it from probes: a last guard, never silent.
    tooLarge: (length) => {
      throw new Error(`${where}: a record of ${length} bytes is over the ${SCHEMA_LIMITS.MAX_RECORD_BYTES}-byte limit`);
    },
  });
  const values = (scope: RecordScope): Obj => code.values(scope, row);
  const fill = (scope: RecordScope, target: PartialValues, wanted?: ReadonlySet<string>): void => {
    scope.values = target.values;
    for (const [k, g, i] of orderedSteps) {
      if (target.computed.has(k) || (wanted !== undefined && !wanted.has(k))) continue;
      if (scope.fieldRng) scope.rng = scope.fieldRng(i);
      const v = g(scope);
      if (v !== OMIT) target.values[k] = v;
      target.computed.add(k);
    }
  };
  const closure = (fields: Iterable<string>): Set<string> => {
    const out = new Set<string>();
    const add = (k: string) => {
      if (out.has(k)) return;
      out.add(k);
      for (const d of compiler.deps.get(k) ?? []) add(d);
    };
    for (const k of fields) add(k);
    return out;
  };
  /** A record's text from its values: each key's `"name":` made once per schema, each value by its field's writer (see valueText), ASCII already. */
  const text = (values: Obj): string => `${code.head(top.map((k) => values[k]))}}`;
  return {
    schema,
    required: required as string[],
    maxRecordBytes,
    columns: top.map((k) => ({ name: k, type: (compiledFields.get(k) as Compiled).type() })),
    fieldBytes: bound,
    timeFormats,
    timeRules,
    values,
    fill,
    closure,
    externalReads: compiler.externalReads,
    text,
    record: (scope) => text(values(scope)),
    recordHead: (scope) => {
      // `values` leaves the record's values by position in `row`: read from there, not by name.
      code.values(scope, row);
      return code.head(row);
    },
    lastRow: () => row,
  };
}
