/**
 * What a sample says about one field, gathered value by value in bounded memory: how often it is
 * null or missing, its kinds, numeric moments and range, string formats and lengths, the frequency
 * of its values while there are few of them, and the same for the fields of an object and the
 * items of an array.
 */

/** Distinct values counted per field at most; past it the field counts as free-form. */
export const MAX_DISTINCT = 1000;
/** Depth of nested objects and arrays profiled; deeper values count as JSON. */
const MAX_DEPTH = 6;

const FORMATS = {
  iso: /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/,
  date: /^\d{4}-\d\d-\d\d$/,
  email: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  url: /^https?:\/\/\S+$/,
} as const;
export type StringFormat = keyof typeof FORMATS;

export class FieldProfile {
  /** Records in which the field was seen (null included). */
  seen = 0;
  nulls = 0;
  readonly kinds = { string: 0, int: 0, double: 0, boolean: 0, object: 0, array: 0 };
  // Numbers: Welford's running mean and variance, range, decimals, whether they count up by a constant step.
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  decimals = 0;
  private previous: number | undefined;
  step: number | undefined;
  stepped = true;
  first: number | undefined;
  trues = 0;
  // Strings.
  readonly formats: Record<StringFormat, number> = { iso: 0, date: 0, email: 0, uuid: 0, url: 0 };
  minLength = Infinity;
  maxLength = 0;
  totalLength = 0;
  /** A shared text before a number (`ord-17`, `sku-3`), while every string has one. */
  prefix: string | undefined | null = undefined;
  prefixedNumbers = 0;
  /** The numbers after the prefix: the first, and the step while they count up by one. */
  suffixFirst: number | undefined;
  suffixStep: number | undefined;
  suffixStepped = true;
  private suffixPrevious: number | undefined;
  // Values and their counts while there are at most MAX_DISTINCT of them.
  readonly values = new Map<string, number>();
  overflow = false;
  // Objects and arrays.
  readonly fields = new Map<string, FieldProfile>();
  items: FieldProfile | undefined;
  /** Objects seen: the share of them holding each field is its presence. */
  objects = 0;
  minItems = Infinity;
  maxItems = 0;

  add(value: unknown, depth = 0): void {
    this.seen++;
    if (value === null || value === undefined) {
      this.nulls++;
      return;
    }
    if (typeof value === "boolean") {
      this.kinds.boolean++;
      if (value) this.trues++;
      this.count(String(value));
    } else if (typeof value === "number" && Number.isFinite(value)) {
      this.addNumber(value);
    } else if (typeof value === "string") {
      this.addString(value);
    } else if (Array.isArray(value)) {
      this.kinds.array++;
      this.minItems = Math.min(this.minItems, value.length);
      this.maxItems = Math.max(this.maxItems, value.length);
      if (depth < MAX_DEPTH) {
        this.items ??= new FieldProfile();
        for (const item of value) this.items.add(item, depth + 1);
      }
    } else if (typeof value === "object") {
      this.kinds.object++;
      this.objects++;
      if (depth < MAX_DEPTH) for (const [k, v] of Object.entries(value as Record<string, unknown>)) this.field(k).add(v, depth + 1);
    }
  }

  /** The profile of a field of this object (made on first sight, kept in first-seen order). */
  field(name: string): FieldProfile {
    let f = this.fields.get(name);
    if (!f) this.fields.set(name, (f = new FieldProfile()));
    return f;
  }

  private count(key: string): void {
    if (this.overflow) return;
    const n = this.values.get(key);
    if (n !== undefined) this.values.set(key, n + 1);
    else if (this.values.size < MAX_DISTINCT) this.values.set(key, 1);
    else {
      this.overflow = true;
      this.values.clear();
    }
  }

  private addNumber(v: number): void {
    if (Number.isInteger(v)) this.kinds.int++;
    else this.kinds.double++;
    this.n++;
    const d = v - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (v - this.mean);
    this.min = Math.min(this.min, v);
    this.max = Math.max(this.max, v);
    if (!Number.isInteger(v)) {
      const text = String(v);
      const dot = text.indexOf(".");
      if (dot !== -1 && !text.includes("e")) this.decimals = Math.max(this.decimals, text.length - dot - 1);
    }
    if (this.previous === undefined) this.first = v;
    else if (this.stepped) {
      const step = v - this.previous;
      if (this.step === undefined) this.step = step;
      if (step !== this.step || step === 0) this.stepped = false;
    }
    this.previous = v;
    this.count(String(v));
  }

  private addString(v: string): void {
    this.kinds.string++;
    this.minLength = Math.min(this.minLength, v.length);
    this.maxLength = Math.max(this.maxLength, v.length);
    this.totalLength += v.length;
    for (const f of Object.keys(FORMATS) as StringFormat[]) if (FORMATS[f].test(v)) this.formats[f]++;
    const m = /^(.*?)(\d+)$/.exec(v);
    if (m && this.prefix !== null) {
      if (this.prefix === undefined || this.prefix === m[1]) {
        this.prefix = m[1] as string;
        this.prefixedNumbers++;
        const k = Number(m[2]);
        if (this.suffixPrevious === undefined) this.suffixFirst = k;
        else if (this.suffixStepped) {
          const step = k - this.suffixPrevious;
          this.suffixStep ??= step;
          if (step !== this.suffixStep || step === 0) this.suffixStepped = false;
        }
        this.suffixPrevious = k;
      } else this.prefix = null;
    } else this.prefix = null;
    this.count(v);
  }

  /** The kind most of its non-null values have. */
  get kind(): keyof FieldProfile["kinds"] | "null" {
    let best: keyof FieldProfile["kinds"] | "null" = "null";
    let most = 0;
    for (const [k, n] of Object.entries(this.kinds) as [keyof FieldProfile["kinds"], number][]) {
      if (n > most) {
        most = n;
        best = k;
      }
    }
    return best;
  }

  get stddev(): number {
    return this.n > 1 ? Math.sqrt(this.m2 / this.n) : 0;
  }
}
