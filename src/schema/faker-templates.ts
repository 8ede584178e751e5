/**
 * faker's template helpers on our faker instance, doing what faker's do without redoing the work
 * that never changes from one call to the next. Most of faker's en methods (`internet.email`,
 * `location.city`, `person.fullName`, `commerce.isbn`, …) fill a locale pattern such as
 * `{{person.firstName}}{{location.city_suffix}}` with `helpers.fake`, which resolves each
 * `{{…}}` by walking the path through faker and its locale data on every call; `person.fullName`
 * fills its pattern with `helpers.mustache`, which makes a regular expression per key per call.
 * Those walks and expressions were a quarter of a faker-heavy schema's time
 * (`examples/orders.yaml`).
 *
 * Here a path is walked once and what it leads to is kept: the method to call, or the locale list
 * to draw from. At run time the same draws happen in the same order, so the values are faker's.
 * A path whose walk would call a function or draw from a list before its last step, or that
 * faker would refuse, is not kept: faker's own `fake` takes that step. A spec calls every method
 * a schema may name, with and without these helpers, from the same seeds, and requires the same
 * values and the same number of draws.
 */

type Helpers = {
  fake: (pattern: string | readonly string[]) => string;
  mustache: (text: string | undefined, data: Record<string, string | ((substring: string, ...args: unknown[]) => string)>) => string;
  arrayElement: <T>(array: readonly T[]) => T;
};

/** What a `{{path}}` leads to, by faker's rules (`ke` in faker's source): the values its last step found, in order. */
type Resolved = readonly unknown[];

/** The most paths kept: a pattern's values can hold `{{…}}` of their own, so paths are not a fixed set. */
const MAX_PATHS = 4096;
/** The most mustache keys whose expressions are kept (person.fullName has five). */
const MAX_KEYS = 1024;

const SLOT = /{{[a-z]/;

/**
 * Where a path leads, by walking it as faker does (from faker itself, and from its raw locale
 * data), or undefined where the walk is not a pure lookup: a call syntax, an empty part, a
 * function or a list met before the last step, or nothing found.
 */
function walk(path: string, roots: readonly unknown[]): Resolved | undefined {
  if (path.length === 0 || path.includes("(")) return undefined;
  const parts = path.split(".");
  let found: readonly unknown[] = roots;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p] as string;
    if (part.length === 0) return undefined;
    // faker reads a property of an object, calls a function first (not a lookup), else finds nothing.
    if (found.some((v) => typeof v === "function")) return undefined;
    found = found.map((v) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[part] : undefined)).filter((v) => v !== null && v !== undefined);
    if (found.length === 0) return undefined;
    // A list met on the way is drawn from, before the next part: not a lookup.
    if (p < parts.length - 1 && found.some((v) => Array.isArray(v))) return undefined;
  }
  return found;
}

/** Installs the helpers on `faker` (an instance of our own, never the shared default). */
export function cacheFakerTemplates(faker: { helpers: unknown; definitions: { raw: unknown } }): void {
  const helpers = faker.helpers as Helpers;
  const fakerFake = helpers.fake;
  const fakerMustache = helpers.mustache;
  const arrayElement = helpers.arrayElement;
  const roots = [faker, faker.definitions.raw];
  const paths = new Map<string, Resolved | null>();
  const expressions = new Map<string, RegExp>();

  /** The value of a resolved path, drawing as faker does: from every list its last step found, in order; then the first found, called if a function. */
  const resolvedValue = (found: Resolved): unknown => {
    let first: unknown;
    for (let i = 0; i < found.length; i++) {
      const v = found[i];
      const value = Array.isArray(v) ? arrayElement(v) : v;
      if (i === 0) first = value;
    }
    return typeof first === "function" ? (first as () => unknown)() : first;
  };

  const fake = (pattern: string | readonly string[]): string => {
    const text = typeof pattern === "string" ? pattern : arrayElement(pattern);
    const start = text.search(SLOT);
    const end = text.indexOf("}}", start);
    if (start === -1 || end === -1) return text;
    const path = text
      .substring(start + 2, end + 2)
      .replace("}}", "")
      .replace("{{", "");
    let found = paths.get(path);
    if (found === undefined) {
      found = paths.size < MAX_PATHS ? (walk(path, roots) ?? null) : null;
      if (paths.size < MAX_PATHS) paths.set(path, found);
    }
    // faker's own step for this slot (it then calls this `fake` for the rest).
    if (found === null) return fakerFake(text);
    return fake(text.substring(0, start) + String(resolvedValue(found)) + text.substring(end + 2));
  };

  const mustache: Helpers["mustache"] = (text, data) => {
    if (text == null) return "";
    let out = text;
    for (const key in data) {
      let expression = expressions.get(key);
      if (expression === undefined) {
        expression = new RegExp(`{{${key}}}`, "g");
        if (expressions.size < MAX_KEYS) expressions.set(key, expression);
      }
      // A global expression starts each replace at 0 and is left at 0: keeping it changes nothing.
      let value = data[key];
      if (typeof value === "string") value = value.replaceAll("$", "$$$$");
      out = out.replace(expression, value as string);
    }
    return out;
  };
  if (typeof fakerMustache !== "function") throw new Error("faker has no helpers.mustache");
  helpers.fake = fake as Helpers["fake"];
  helpers.mustache = mustache;
}
