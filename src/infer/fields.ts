import type { FieldProfile } from "./profile";

/** A field in the dataset language (docs/datasets.md), as a plain object ready for YAML. */
export type FieldSpec = Record<string, unknown>;

/** Distinct values a string field may have to become a weighted `choice`; more make it free-form text. */
const MAX_CHOICES = 50;
/** A choice's weights are its values' shares, in this many parts. */
const WEIGHT_PARTS = 1000;

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Faker methods for free-form text, by what a field's name says it holds. */
const BY_NAME: readonly [RegExp, string][] = [
  [/e_?mail/i, "internet.email"],
  [/uuid|guid/i, "string.uuid"],
  [/url|website|link/i, "internet.url"],
  [/first_?name/i, "person.firstName"],
  [/last_?name|surname/i, "person.lastName"],
  [/(^|_)(full_?)?name$/i, "person.fullName"],
  [/city/i, "location.city"],
  [/country/i, "location.country"],
  [/street|address/i, "location.streetAddress"],
  [/zip|postcode|postal/i, "location.zipCode"],
  [/phone/i, "phone.number"],
  [/company|organi[sz]ation/i, "company.name"],
  [/user_?name|login|handle/i, "internet.username"],
  [/ip(_?addr(ess)?)?$/i, "internet.ipv4"],
  [/product/i, "commerce.productName"],
  [/title|subject|summary/i, "lorem.sentence"],
  [/description|comment|text|body|message|note/i, "lorem.paragraph"],
];

/** Weights from value counts, in WEIGHT_PARTS parts (at least 1 for a value that was seen). */
function weights(values: ReadonlyMap<string, number>): Record<string, number> {
  const total = [...values.values()].reduce((a, b) => a + b, 0);
  const sorted = [...values.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return Object.fromEntries(sorted.map(([v, n]) => [v, Math.max(1, Math.round((n / total) * WEIGHT_PARTS))]));
}

/**
 * A whole-number field with few values: consecutive values about equally often are a uniform range;
 * otherwise each value repeated by its share in a `choice` list (which keeps them numbers).
 */
export function fewWholeNumbers(values: ReadonlyMap<string, number>): FieldSpec {
  const numbers = [...values.keys()].map(Number);
  const counts = [...values.values()];
  const [min, max] = [Math.min(...numbers), Math.max(...numbers)];
  if (max - min + 1 === values.size && Math.max(...counts) / Math.min(...counts) < 1.3) return { number: { min, max, decimals: 0 } };
  return { choice: repeated(values, Number) };
}

/** Values repeated by their share, for a `choice` list: how numbers keep their type and their weights. */
function repeated(values: ReadonlyMap<string, number>, parse: (v: string) => unknown): unknown[] {
  const total = [...values.values()].reduce((a, b) => a + b, 0);
  return [...values.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).flatMap(([v, n]) => Array.from({ length: Math.max(1, Math.round((n / total) * 100)) }, () => parse(v)));
}

/**
 * A field spec for what a profile saw, and how the spec stands for it. `name` is the field's own
 * name (a hint for free-form text); `share` the share of records holding a value (the rest become
 * `null_probability`).
 */
export function fieldSpec(name: string, p: FieldProfile, present: number): FieldSpec {
  const spec = valueSpec(name, p);
  const nullShare = present > 0 ? 1 - (p.seen - p.nulls) / present : 0;
  return nullShare > 0.0005 ? { ...spec, null_probability: round(Math.min(1, nullShare), 3) } : spec;
}

function valueSpec(name: string, p: FieldProfile): FieldSpec {
  switch (p.kind) {
    case "null":
      return { const: null };
    case "boolean":
      return { boolean: { probability: round(p.trues / Math.max(1, p.kinds.boolean), 3) } };
    case "int":
    case "double":
      return numberSpec(name, p);
    case "string":
      return stringSpec(name, p);
    case "object": {
      const fields: Record<string, FieldSpec> = {};
      for (const [k, f] of p.fields) fields[k] = fieldSpec(k, f, p.objects);
      return { object: fields };
    }
    case "array":
      return { array: { min: p.minItems, max: p.maxItems, items: p.items && p.items.seen > 0 ? fieldSpec(name, p.items, p.items.seen) : { const: null } } };
  }
}

function numberSpec(name: string, p: FieldProfile): FieldSpec {
  const ints = p.kinds.double === 0;
  // Epoch times by their range and the field's name.
  if (ints && /(time|_at$|^ts$|timestamp|date)/i.test(name)) {
    if (p.min >= 1e12 && p.max < 1e13) return { timestamp: "epoch_ms" };
    if (p.min >= 1e9 && p.max < 1e10) return { timestamp: "epoch_s" };
  }
  // Counting up by a constant step, every value distinct: a sequence (an id).
  if (ints && p.stepped && p.n > 1 && p.nulls === 0 && p.step !== undefined) return { sequence: { start: p.first, step: p.step } };
  const decimals = ints ? 0 : Math.min(6, p.decimals);
  if (ints && !p.overflow && p.values.size <= 10 && p.n >= 20) return fewWholeNumbers(p.values);
  const range = p.max - p.min;
  // Exponential: from 0 up, the mean about the standard deviation, a long tail above.
  if (p.n >= 20 && p.min >= 0 && p.mean > 0 && Math.abs(p.stddev / p.mean - 1) < 0.15 && p.max > 3 * p.mean)
    return { number: { distribution: "exponential", rate: round(1 / p.mean, 4), min: p.min, max: p.max, decimals } };
  // A uniform spread's standard deviation is its range / √12; far from it, the values bunch: normal.
  const uniformSd = range / Math.sqrt(12);
  if (p.n < 20 || range === 0 || Math.abs(p.stddev / uniformSd - 1) < 0.12) return { number: { min: p.min, max: p.max, decimals } };
  return { number: { distribution: "normal", mean: round(p.mean, 4), stddev: round(p.stddev, 4), min: p.min, max: p.max, decimals } };
}

function stringSpec(name: string, p: FieldProfile): FieldSpec {
  const n = p.kinds.string;
  const all = (count: number) => count >= n * 0.98;
  if (all(p.formats.iso)) return { timestamp: "iso" };
  if (all(p.formats.date)) return { timestamp: "date" };
  if (all(p.formats.uuid)) return { faker: "string.uuid" };
  if (all(p.formats.email)) return { faker: "internet.email" };
  if (all(p.formats.url)) return { faker: "internet.url" };
  // Every value distinct and a shared text before a counting number: an id such as ord-17.
  // A shared text before a number that counts up by a constant step: an id such as ord-17.
  if (typeof p.prefix === "string" && p.prefixedNumbers === n && n > 1 && p.suffixStepped && p.suffixStep !== undefined) {
    return { sequence: { ...(p.suffixFirst !== 1 ? { start: p.suffixFirst } : {}), ...(p.suffixStep !== 1 ? { step: p.suffixStep } : {}), format: `${p.prefix}{n}` } };
  }
  if (!p.overflow && p.values.size <= MAX_CHOICES && p.values.size <= Math.max(2, n / 4)) return { choice: weights(p.values) };
  return freeTextSpec(name, p.totalLength / Math.max(1, n));
}

/** Free-form text: a faker method by what the field's name says it holds, else letters and digits of its mean length. */
export function freeTextSpec(name: string, meanLength: number): FieldSpec {
  if (/country/i.test(name) && meanLength <= 3) return { faker: "location.countryCode" };
  const method = BY_NAME.find(([re]) => re.test(name))?.[1];
  if (method) return { faker: method };
  return { faker: { method: "string.alphanumeric", args: [Math.max(1, Math.round(meanLength))] } };
}
