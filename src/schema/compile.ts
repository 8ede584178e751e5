import { asciiJson } from "../ascii-json";
import { ValidationError } from "../errors";
import { Prng, WeightedTable } from "../prng";
import { describe } from "../fields";
import { fakerMethodNames, SeededFaker } from "./faker-methods";
import { didYouMean } from "./suggest";

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
const MAX_ARRAY = 1000;

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
}

type Gen = (scope: RecordScope) => unknown;
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
  private currentTop = "";

  constructor(private readonly top: readonly string[]) {}

  field(path: string, spec: unknown, topName?: string): Gen {
    if (topName !== undefined) this.currentTop = topName;
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
    const gen = this.generator(`${path}.${kind}`, kind as (typeof GENERATORS)[number], spec[kind]);
    const nullP = spec.null_probability === undefined ? 0 : num(`${path}.null_probability`, spec.null_probability, 0, 0, 1);
    const omitP = spec.omit_probability === undefined ? 0 : num(`${path}.omit_probability`, spec.omit_probability, 0, 0, 1);
    if (nullP === 0 && omitP === 0) return gen;
    return (s) => {
      if (omitP > 0 && s.rng.float() < omitP) return OMIT;
      if (nullP > 0 && s.rng.float() < nullP) return null;
      return gen(s);
    };
  }

  private dependOn(path: string, name: string): void {
    const root = name.split(".")[0] as string;
    if (!this.top.includes(root)) fail(path, `refers to "${name}", which is not a field of the record${didYouMean(root, this.top)}`);
    if (root === this.currentTop) fail(path, `refers to its own field "${root}"`);
    let set = this.deps.get(this.currentTop);
    if (!set) this.deps.set(this.currentTop, (set = new Set()));
    set.add(root);
  }

  private generator(path: string, kind: (typeof GENERATORS)[number], arg: unknown): Gen {
    switch (kind) {
      case "const": {
        const value = arg;
        return () => value;
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
        const method = this.faker.method(name);
        const faker = this.faker;
        // Check the arguments once, now, so a bad one is a schema error rather than a failed run.
        try {
          faker.use({ float: () => 0.5 } as Prng);
          method(...args);
        } catch (err) {
          fail(path, `faker ${name} rejects these args: ${(err as Error).message}`);
        }
        const plain = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === "bigint" ? Number(v) : v);
        if (o.pool !== undefined) {
          // A pool: `pool` values made once from a fixed seed, then drawn per record. Faker calls
          // cost microseconds each; a draw costs nanoseconds. For fields where repeats are fine.
          const size = num(`${path}.pool`, o.pool, undefined, 1, 100_000);
          if (!Number.isInteger(size)) fail(`${path}.pool`, `must be a whole number from 1 to 100000 (got ${size})`);
          const seed = Prng.fromParts("schema pool", path);
          faker.use(seed);
          const values = Array.from({ length: size }, () => plain(method(...args)));
          return (s) => values[s.rng.int(size)];
        }
        return (s) => {
          faker.use(s.rng);
          return plain(method(...args));
        };
      }
      case "choice": {
        let entries: [unknown, number][];
        if (Array.isArray(arg)) entries = arg.map((v) => [v, 1]);
        else if (isObj(arg)) entries = Object.entries(arg).map(([k, w], i) => [k, num(`${path}.${Object.keys(arg)[i]}`, w, undefined, 0)]);
        else fail(path, `must be a list of values, or an object of value: weight (got ${describe(arg)})`);
        if (entries.length === 0 || !entries.some(([, w]) => w > 0)) fail(path, "needs at least one value with a weight above 0");
        const table = new WeightedTable(entries.filter(([, w]) => w > 0));
        return (s) => table.draw(s.rng);
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
        const scale = 10 ** decimals;
        const round = (x: number) => Math.min(max, Math.max(min, Math.round(x * scale) / scale));
        if (distribution === "uniform") {
          if (decimals === 0) {
            const lo = Math.ceil(min);
            const hi = Math.floor(max);
            return (s) => s.rng.range(lo, hi);
          }
          return (s) => round(min + s.rng.float() * (max - min));
        }
        if (distribution === "normal") {
          const mean = num(`${path}.mean`, o.mean, undefined);
          const sd = num(`${path}.stddev`, o.stddev, undefined, 0);
          return (s) => round(mean + s.rng.normal() * sd);
        }
        const rate = num(`${path}.rate`, o.rate, undefined, Number.MIN_VALUE);
        const offset = o.min === undefined ? 0 : min;
        return (s) => round(offset - Math.log(1 - s.rng.float()) / rate);
      }
      case "boolean": {
        const p = arg === true || arg === null || arg === undefined ? 0.5 : num(path, isObj(arg) ? arg.probability : arg, 0.5, 0, 1);
        return (s) => s.rng.float() < p;
      }
      case "sequence": {
        const o = isObj(arg) ? arg : {};
        keysOnly(path, o, ["start", "step", "format"]);
        const start = num(`${path}.start`, o.start, 1);
        const step = num(`${path}.step`, o.step, 1);
        const format = o.format;
        if (format !== undefined && (typeof format !== "string" || !format.includes("{n}"))) fail(`${path}.format`, `must be text containing {n} (and optionally {file}) (got ${describe(format)})`);
        if (format === undefined) return (s) => start + step * s.index;
        return (s) => (format as string).replaceAll("{file}", String(s.fileIndex)).replaceAll("{n}", String(start + step * s.index));
      }
      case "timestamp": {
        const format = (arg ?? "iso") as string;
        if (!(TIMESTAMP_FORMATS as readonly string[]).includes(format)) fail(path, `unknown format "${format}"${didYouMean(String(format), TIMESTAMP_FORMATS)}; known: ${TIMESTAMP_FORMATS.join(", ")}`);
        return (s) => {
          const ms = s.dayStartMs + s.secondOfDay() * 1000 + s.rng.int(1000);
          if (format === "epoch_ms") return ms;
          if (format === "epoch_s") return Math.floor(ms / 1000);
          const iso = new Date(ms).toISOString();
          return format === "date" ? iso.slice(0, 10) : iso;
        };
      }
      case "template": {
        if (typeof arg !== "string") fail(path, `must be text with {field} placeholders (got ${describe(arg)})`);
        const parts = arg.split(/(\{[A-Za-z0-9_.]+\})/);
        const pieces = parts.map((p) => {
          const m = /^\{([A-Za-z0-9_.]+)\}$/.exec(p);
          if (!m) return p;
          const ref = m[1] as string;
          this.dependOn(path, ref);
          return ref.split(".");
        });
        return (s) => pieces.map((p) => (typeof p === "string" ? p : String(lookup(s.values, p) ?? ""))).join("");
      }
      case "ref": {
        if (typeof arg !== "string") fail(path, `must name another field of the record (got ${describe(arg)})`);
        this.dependOn(path, arg);
        const keys = arg.split(".");
        return (s) => lookup(s.values, keys) ?? null;
      }
      case "object": {
        if (!isObj(arg) || Object.keys(arg).length === 0) fail(path, `must be an object of fields (got ${describe(arg)})`);
        const fields = Object.entries(arg).map(([k, v]) => [k, this.field(`${path}.${k}`, v)] as const);
        return (s) => {
          const out: Obj = {};
          for (const [k, g] of fields) {
            const v = g(s);
            if (v !== OMIT) out[k] = v;
          }
          return out;
        };
      }
      case "array": {
        if (!isObj(arg)) fail(path, `must be an object with items, min and max (got ${describe(arg)})`);
        keysOnly(path, arg, ["items", "min", "max"]);
        const min = num(`${path}.min`, arg.min, 0, 0, MAX_ARRAY);
        const max = num(`${path}.max`, arg.max, Math.max(min, 3), min, MAX_ARRAY);
        const item = this.field(`${path}.items`, arg.items);
        return (s) => {
          const n = s.rng.range(min, max);
          const out: unknown[] = [];
          for (let i = 0; i < n; i++) {
            const v = item(s);
            if (v !== OMIT) out.push(v);
          }
          return out;
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
  record(scope: RecordScope): string;
}


/** Checks a schema (parsed JSON or YAML) and compiles it; throws a ValidationError naming the path. */
export function compileSchema(input: unknown, where = "dataset"): CompiledSchema {
  if (!isObj(input)) fail(where, `a dataset schema must be an object with name and fields (got ${describe(input)})`);
  for (const k of Object.keys(input)) if (!SCHEMA_KEYS.includes(k)) fail(`${where}.${k}`, `unknown key "${k}"${didYouMean(k, SCHEMA_KEYS)}; allowed: ${SCHEMA_KEYS.join(", ")}`);
  const name = input.name;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) fail(`${where}.name`, `must be 1-64 letters, digits, ". _ -" (got ${describe(name)})`);
  const fields = input.fields;
  if (!isObj(fields) || Object.keys(fields).length === 0) fail(`${where}.fields`, `must be an object with at least one field (got ${describe(fields)})`);
  const top = Object.keys(fields);
  const required = input.required ?? [];
  if (!Array.isArray(required)) fail(`${where}.required`, `must be a list of field names (got ${describe(required)})`);
  for (const r of required) if (typeof r !== "string" || !top.includes(r)) fail(`${where}.required`, `"${String(r)}" is not a field${didYouMean(String(r), top)}`);

  const compiler = new Compiler(top);
  const gens = new Map(top.map((k) => [k, compiler.field(`${where}.fields.${k}`, fields[k], k)]));
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
  const schema: DatasetSchema = { name, fields, ...(typeof input.description === "string" ? { description: input.description } : {}), ...(required.length ? { required: required as string[] } : {}) };
  return {
    schema,
    required: required as string[],
    record(scope) {
      const values: Obj = {};
      scope.values = values;
      for (const [k, g] of steps) {
        const v = g(scope);
        if (v !== OMIT) values[k] = v;
      }
      const out: Obj = {};
      for (const k of top) if (k in values) out[k] = values[k];
      return asciiJson(out);
    },
  };
}
