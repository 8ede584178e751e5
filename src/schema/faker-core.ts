/**
 * faker's four most called building blocks on our faker instance, doing what faker's do with less
 * work per call: `helpers.arrayElement`, `helpers.multiple`, `string.fromCharacters` and
 * `number.int`. Nearly every faker method draws through them (a name from a list, a digit of an
 * ISBN, a number in a user name), and faker's versions check and normalise their options on every
 * call. Here the common call shapes take the same draws from the same randomizer in the same
 * order and compute the same values with the same arithmetic; every other shape (an option these
 * do not read, a range to resolve, a value faker would refuse) goes to faker's own version, which
 * also throws faker's own errors. A spec calls every method a schema may name with and without
 * them, from the same seeds, and requires the same values and the same number of draws.
 */

type Core = {
  helpers: {
    arrayElement: <T>(array: ArrayLike<T>) => T;
    multiple: <T>(make: (v: unknown, i: number) => T, options?: { count?: unknown }) => T[];
  };
  string: { fromCharacters: (characters: string | readonly string[], length?: unknown) => string };
  number: { int: (options?: number | Record<string, unknown>) => number };
};

/** An options object as a schema's YAML or JSON makes it: a plain object (not a list, not a class instance). */
export const isPlainOptions = (o: unknown): o is Record<string, unknown> => typeof o === "object" && o !== null && Object.getPrototypeOf(o) === Object.prototype;

/** Installs them on `faker` (an instance of our own), drawing with `next` (its randomizer's). */
export function leanFakerCore(faker: Core, next: () => number): void {
  const { helpers, string, number } = faker;
  const fakerArrayElement = helpers.arrayElement;
  const fakerMultiple = helpers.multiple;
  const fakerFromCharacters = string.fromCharacters;
  const fakerInt = number.int;

  // faker: t[t.length > 1 ? number.int({ max: t.length - 1 }) : 0], that is Math.floor(c * t.length).
  helpers.arrayElement = <T>(array: ArrayLike<T>): T => {
    const n = array?.length;
    if (typeof n !== "number" || n === 0) return fakerArrayElement(array);
    return array[n > 1 ? Math.floor(next() * n) : 0] as T;
  };

  // faker: Array.from({ length: count }, make) for a whole count (3 when none).
  helpers.multiple = <T>(make: (v: unknown, i: number) => T, options: { count?: unknown } = {}): T[] => {
    const count = options.count ?? 3;
    if (typeof count !== "number" || !Number.isSafeInteger(count)) return fakerMultiple(make, options);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(make(undefined, i));
    return out;
  };

  // faker: `length` characters, each arrayElement of the characters (a string split by code points).
  string.fromCharacters = (characters: string | readonly string[], length: unknown = 1): string => {
    if (typeof length !== "number" || !Number.isSafeInteger(length) || length <= 0) return fakerFromCharacters(characters, length);
    const chars = typeof characters === "string" ? [...characters] : characters;
    const n = chars.length;
    if (!Array.isArray(chars) || n === 0) return fakerFromCharacters(characters, length);
    const drawn: unknown[] = [];
    for (let i = 0; i < length; i++) drawn.push(chars[n > 1 ? Math.floor(next() * n) : 0]);
    return drawn.join("");
  };

  // faker: Math.floor(c * (high - low + 1) + low) * multipleOf, low and high being min and max
  // in multiples; only min and max are read here, both whole and in order.
  number.int = (options: number | Record<string, unknown> = {}): number => {
    let min = 0;
    let max = 2 ** 53 - 1;
    if (typeof options === "number") max = options;
    else if (isPlainOptions(options)) {
      for (const k in options) if (k !== "min" && k !== "max") return fakerInt(options);
      if (options.min !== undefined) min = options.min as number;
      if (options.max !== undefined) max = options.max as number;
    } else return fakerInt(options);
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) return fakerInt(options);
    return Math.floor(next() * (max - min + 1) + min);
  };
}
