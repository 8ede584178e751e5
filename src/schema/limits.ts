/**
 * The schema language's limits. A schema is user input that a Lambda function compiles in its
 * main thread, so a schema that asks for a billion-character string, a pool of huge values or
 * arrays nested a thousand wide must be refused when it is checked — by `validate`, `preview`,
 * `generate` and the functions alike — in well under a second, with the path and the limit,
 * before anything is generated. docs/datasets.md lists them for users.
 */
export const SCHEMA_LIMITS = Object.freeze({
  /** A schema's text (YAML or JSON). */
  MAX_SCHEMA_BYTES: 256 * 1024,
  /** Objects and arrays nested inside one another, in field specs. */
  MAX_DEPTH: 16,
  /**
   * A faker argument that sets a length or a count (`string.alpha(n)`, `lorem.paragraphs(n)`,
   * `{ length: n }`, `{ count: n }`, …). Methods whose numbers are values (`number.int`'s min and
   * max, dates) are not bound by it, except in their `length`/`count` options.
   */
  MAX_FAKER_SIZE_ARG: 1000,
  /** One value a faker call makes (JSON bytes), probed at compile time with the largest draws. */
  MAX_VALUE_BYTES: 64 * 1024,
  /** Values in one pool, and their bytes together. */
  MAX_POOL_SIZE: 100_000,
  MAX_POOL_BYTES: 16 * 1024 * 1024,
  /** A `const` value (JSON bytes). */
  MAX_CONST_BYTES: 64 * 1024,
  /** Items of one array, and of every array in a record together (nested arrays multiply). */
  MAX_ARRAY_ITEMS: 1000,
  MAX_ITEMS_PER_RECORD: 10_000,
  /** The largest record a schema can make (an upper bound computed at compile time); never more than a file's target either. */
  MAX_RECORD_BYTES: 1024 * 1024,
  /** Records a file may hold, for the bound on `sequence` values. */
  MAX_RECORDS_PER_FILE: 1e9,
});

/** faker methods whose plain numbers are values, not sizes. */
const VALUE_METHODS = new Set([
  "number.int",
  "number.float",
  "number.bigInt",
  "number.binary",
  "number.octal",
  "number.hex",
  "number.romanNumeral",
  "finance.amount",
  "commerce.price",
  "location.latitude",
  "location.longitude",
  "location.nearbyGPSCoordinate",
  "datatype.boolean",
]);
const VALUE_MODULES = new Set(["date"]);
/** Option names that set a length or a count in faker's API. */
const SIZE_KEYS = new Set(["length", "count", "wordCount", "sentenceCount", "paragraphCount", "lineCount", "extensionCount", "min", "max"]);

/**
 * The first size argument of a faker call over the limit, as `[path, value]`: every number in the
 * arguments of a method that makes text, and numbers under size options of any method.
 */
export function oversizeFakerArg(method: string, args: readonly unknown[]): [string, number] | undefined {
  const numbersAreValues = VALUE_METHODS.has(method) || VALUE_MODULES.has(method.split(".")[0] as string);
  const visit = (value: unknown, path: string, underSizeKey: boolean): [string, number] | undefined => {
    if (typeof value === "number" || typeof value === "bigint") {
      const n = Math.abs(Number(value));
      if ((underSizeKey || !numbersAreValues) && !(n <= SCHEMA_LIMITS.MAX_FAKER_SIZE_ARG)) return [path, Number(value)];
      return undefined;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const hit = visit(value[i], `${path}[${i}]`, underSizeKey);
        if (hit) return hit;
      }
      return undefined;
    }
    if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        // `min`/`max` count as sizes only inside a size option (`length: { min, max }`) or for text methods.
        const sizeKey = SIZE_KEYS.has(k) && (k !== "min" && k !== "max" ? true : underSizeKey || !numbersAreValues);
        const hit = visit(v, `${path}.${k}`, underSizeKey || sizeKey);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  for (let i = 0; i < args.length; i++) {
    const hit = visit(args[i], `args[${i}]`, false);
    if (hit) return hit;
  }
  return undefined;
}

/** Bytes of a value as JSON (what it adds to a record). */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 4 : Buffer.byteLength(text);
}

/** The path of the first `__proto__` key anywhere in parsed input, which plain objects would silently drop. */
export function protoKeyPath(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > 64 || typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = protoKeyPath(value[i], `${path}[${i}]`, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  }
  for (const k of Object.keys(value)) {
    if (k === "__proto__") return `${path}.${k}`;
    const hit = protoKeyPath((value as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
    if (hit) return hit;
  }
  return undefined;
}
