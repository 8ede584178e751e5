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

import { flatText } from "../core/flat-text";

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
  try {
    return lookup(path, roots);
  } catch {
    // faker's locale data throws for an entry a locale lacks: faker's own step throws it, in its turn.
    return undefined;
  }
}

function lookup(path: string, roots: readonly unknown[]): Resolved | undefined {
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

/** The most locale patterns kept cut (en has a few hundred). */
const MAX_PATTERNS = 4096;

const BRACE = /[{}]/;

/** A slot of a pattern: where its path leads (null: faker's own step), the pattern from its `{{` on, and after its `}}`. */
interface Slot {
  readonly found: Resolved | null;
  readonly from: string;
  readonly after: string;
}

/** A pattern's literal text around its slots (one more literal than slots). */
interface Pattern {
  readonly literals: readonly string[];
  readonly slots: readonly Slot[];
}

/** A slot's path as faker reads it: between the `{{` at `start` and the first `}}` after it, less the first `{{` inside. */
function slotPath(text: string, start: number, end: number): string {
  return text
    .substring(start + 2, end + 2)
    .replace("}}", "")
    .replace("{{", "");
}

/** `text` cut at the slots faker's `fake` fills, in its order; null where a literal holds a brace (then faker's search could find a slot elsewhere). */
function cutAtSlots(text: string, resolve: (path: string) => Resolved | null): Pattern | null {
  const literals: string[] = [];
  const slots: Slot[] = [];
  let rest = text;
  for (;;) {
    const start = rest.search(SLOT);
    const end = rest.indexOf("}}", start);
    if (start === -1 || end === -1) break;
    literals.push(rest.substring(0, start));
    slots.push({ found: resolve(slotPath(rest, start, end)), from: rest.substring(start), after: rest.substring(end + 2) });
    rest = rest.substring(end + 2);
  }
  literals.push(rest);
  return literals.some((l) => BRACE.test(l)) ? null : { literals: literals.map(flatText), slots };
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

  /** Where a path leads (null: faker's own step), walked once. */
  const resolve = (path: string): Resolved | null => {
    let found = paths.get(path);
    if (found === undefined) {
      found = paths.size < MAX_PATHS ? (walk(path, roots) ?? null) : null;
      if (paths.size < MAX_PATHS) paths.set(path, found);
    }
    return found;
  };

  /** faker's `fake` on a string, one `{{…}}` at a time: its first slot filled, then the rest again. */
  const fill = (text: string): string => {
    const start = text.search(SLOT);
    const end = text.indexOf("}}", start);
    if (start === -1 || end === -1) return text;
    const found = resolve(slotPath(text, start, end));
    // faker's own step for this slot (it then calls this `fake` for the rest).
    if (found === null) return fakerFake(text);
    return fill(text.substring(0, start) + String(resolvedValue(found)) + text.substring(end + 2));
  };

  /**
   * A locale pattern cut once at its slots. Filled slot by slot, it is what `fill` makes as long
   * as no value holds a brace: with no brace around a slot but its own, faker's next search finds
   * the next slot. Where a value holds one, the text as faker would hold it then goes to `fill`.
   */
  const patterns = new Map<string, Pattern | null>();
  const cut = (text: string): Pattern | null => {
    let cached = patterns.get(text);
    if (cached !== undefined) return cached;
    cached = cutAtSlots(text, resolve);
    if (patterns.size < MAX_PATTERNS) patterns.set(text, cached);
    return cached;
  };

  const fake = (pattern: string | readonly string[]): string => {
    const text = typeof pattern === "string" ? pattern : arrayElement(pattern);
    const cutText = cut(text);
    if (cutText === null) return fill(text);
    const { literals, slots } = cutText;
    let out = literals[0] as string;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as Slot;
      // A path faker must walk itself: the text as faker holds it here, from this slot on.
      if (slot.found === null) return fill(out + slot.from);
      const value = String(resolvedValue(slot.found));
      if (BRACE.test(value)) return fill(out + value + slot.after);
      out += value + (literals[i + 1] as string);
    }
    return out;
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
