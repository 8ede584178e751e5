import { flatText } from "../core/flat-text";
import type { Prng } from "../core/prng";
import { isPlainOptions } from "./faker-core";

/**
 * Faker's string methods that draw each character from a fixed table, made straight from the
 * PRNG: the same characters from the same draws, without faker's per-call machinery (options,
 * `helpers.multiple`, an array per value, a join). `string.hexadecimal`'s default took about
 * 400 ns a call through faker, `string.uuid` 2 µs; each is tens of nanoseconds here.
 *
 * What faker does, per character (v10, `string.fromCharacters`): `helpers.arrayElement(table)`,
 * that is `number.int({ max: table.length - 1 })`, one draw `c` of the randomizer and the
 * character at `Math.floor(c * table.length)`. A call shape not listed here (a length range, an
 * `exclude`, an unknown casing, a uuid version) is left to faker. A spec draws each shape here
 * from faker and from this module, with the same seeds, and requires the same values and the
 * same number of draws: a faker upgrade that changes any of it fails there, not in users' files.
 */

type Draw = (rng: Prng) => string;

/** A fast form: its values, each a `prefix` followed by letters, digits and `-` only. */
export interface FastFaker {
  readonly draw: Draw;
  readonly prefix: string;
}

const DIGITS = "0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const HEX = "0123456789abcdefABCDEF";

/** The characters of `table`, `length` of them, each from one draw (faker's `fromCharacters`), after `prefix`. */
function fromTable(prefix: string, table: string, length: number): Draw {
  const n = table.length;
  if (length === 0) return () => prefix;
  if (length === 1) {
    const joined = [...table].map((c) => flatText(prefix + c));
    return (rng) => joined[Math.floor(rng.float() * n)] as string;
  }
  // One string made at once from the codes, not one piece per character: a record's text costs
  // what its pieces number when it is written (see flatText).
  const codes = [...table].map((c) => c.charCodeAt(0));
  const drawn = new Array<number>(length).fill(0);
  return (rng) => {
    for (let i = 0; i < length; i++) drawn[i] = codes[Math.floor(rng.float() * n)] as number;
    const t = String.fromCharCode.apply(null, drawn);
    return prefix === "" ? t : prefix + t;
  };
}

/** The options object of a call with at most one argument (a number meaning `{ length }` where `numberIsLength`); undefined when the call has another shape. */
function options(args: readonly unknown[], allowed: readonly string[], numberIsLength: boolean): Record<string, unknown> | undefined {
  if (args.length === 0) return {};
  if (args.length > 1) return undefined;
  const [a] = args;
  if (numberIsLength && typeof a === "number") return { length: a };
  if (!isPlainOptions(a)) return undefined;
  for (const k of Object.keys(a)) if (!allowed.includes(k) || a[k] === undefined) return undefined;
  return a;
}

/** A fixed whole length (faker's `length ?? 1`); undefined for a range or anything else. */
function fixedLength(o: Record<string, unknown>): number | undefined {
  const length = o.length ?? 1;
  return typeof length === "number" && Number.isSafeInteger(length) ? Math.max(0, length) : undefined;
}

const LETTERS: ReadonlyMap<unknown, string> = new Map([
  ["upper", UPPER],
  ["lower", LOWER],
  ["mixed", LOWER + UPPER],
]);

/** The fast form of `name(...args)`, or undefined: faker makes those values. */
export function fastFaker(name: string, args: readonly unknown[]): FastFaker | undefined {
  switch (name) {
    case "string.hexadecimal": {
      const o = options(args, ["length", "casing", "prefix"], false);
      if (!o) return undefined;
      const length = fixedLength(o);
      const casing = o.casing ?? "mixed";
      const prefix = o.prefix ?? "0x";
      if (length === undefined || typeof prefix !== "string" || (casing !== "mixed" && casing !== "upper" && casing !== "lower")) return undefined;
      // Drawn from all 22 characters, then cased: an upper-cased draw of "a" is "A".
      const table = casing === "upper" ? HEX.toUpperCase() : casing === "lower" ? HEX.toLowerCase() : HEX;
      return { draw: fromTable(prefix, table, length), prefix };
    }
    case "string.alpha":
    case "string.alphanumeric": {
      const o = options(args, ["length", "casing"], true);
      if (!o) return undefined;
      const length = fixedLength(o);
      const letters = LETTERS.get(o.casing ?? "mixed");
      if (length === undefined || letters === undefined) return undefined;
      return { draw: fromTable("", name === "string.alpha" ? letters : DIGITS + letters, length), prefix: "" };
    }
    case "string.numeric": {
      const o = options(args, ["length", "allowLeadingZeros"], true);
      if (!o) return undefined;
      const length = fixedLength(o);
      const leadingZeros = o.allowLeadingZeros ?? true;
      if (length === undefined || typeof leadingZeros !== "boolean") return undefined;
      if (length === 0 || leadingZeros) return { draw: fromTable("", DIGITS, length), prefix: "" };
      // Without leading zeros, faker draws the first digit from 1–9 and the rest from 0–9.
      const first = fromTable("", DIGITS.slice(1), 1);
      const rest = fromTable("", DIGITS, length - 1);
      return { draw: length === 1 ? first : (rng) => first(rng) + rest(rng), prefix: "" };
    }
    case "string.uuid": {
      // Version 4 (the default), `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`: the 30 x digits drawn
      // left to right, then y (8–b).
      const o = options(args, ["version"], false);
      if (!o || (o.version ?? 4) !== 4) return undefined;
      const template = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
      const xs = [...template].flatMap((c, i) => (c === "x" ? [i] : []));
      const y = template.indexOf("y");
      const hex = [...HEX.slice(0, 16)].map((c) => c.charCodeAt(0));
      const codes = [...template].map((c) => c.charCodeAt(0));
      const draw: Draw = (rng) => {
        for (let i = 0; i < xs.length; i++) codes[xs[i] as number] = hex[Math.floor(rng.float() * 16)] as number;
        codes[y] = hex[Math.floor(rng.float() * 4 + 8)] as number;
        return String.fromCharCode.apply(null, codes);
      };
      return { draw, prefix: "" };
    }
    default:
      return undefined;
  }
}
