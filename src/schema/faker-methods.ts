import { faker } from "@faker-js/faker/locale/en";
import type { Prng } from "../core/prng";
import { leanFakerCore } from "./faker-core";
import { cacheFakerTemplates } from "./faker-templates";

/**
 * Faker, driven by our PRNG. Schemas name faker methods as `module.method`; they are looked up in
 * this fixed table of the en locale's functions, never evaluated, so a schema cannot run code.
 */

type FakerInstance = typeof faker;
type Method = (...args: unknown[]) => unknown;

/** Modules whose methods a schema may call (helpers and the raw core are left out). */
const MODULES = [
  "airline",
  "animal",
  "book",
  "color",
  "commerce",
  "company",
  "database",
  "datatype",
  "date",
  "finance",
  "food",
  "git",
  "hacker",
  "image",
  "internet",
  "location",
  "lorem",
  "music",
  "number",
  "person",
  "phone",
  "science",
  "string",
  "system",
  "vehicle",
  "word",
] as const;

let names: string[] | undefined;

/** Every callable `module.method` name. */
export function fakerMethodNames(): readonly string[] {
  if (!names) {
    names = [];
    for (const m of MODULES) {
      const module = (faker as unknown as Record<string, object>)[m];
      if (!module) continue;
      // Methods live on the module's class and its base classes (e.g. location's coordinates).
      const own = new Set<string>();
      for (let proto = Object.getPrototypeOf(module) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
        for (const f of Object.getOwnPropertyNames(proto)) own.add(f);
      }
      for (const f of own) {
        if (f !== "constructor" && !f.startsWith("_") && typeof (module as Record<string, unknown>)[f] === "function") names.push(`${m}.${f}`);
      }
    }
    names.sort();
  }
  return names;
}

/**
 * What faker's dates are relative to (`date.recent`, `date.past`, `date.soon`, `date.birthdate`,
 * `string.ulid`, …) where no file gives a date: a pool's values and the probes made when a schema
 * is compiled. In a record they are relative to its file's day (00:00 UTC of its date): faker's
 * default is the clock, which made two runs of the same file differ.
 */
export const FAKER_REFERENCE_MS = Date.UTC(2025, 0, 1);

/**
 * A faker instance whose randomness comes from whichever PRNG is current: the compiled schema
 * points it at the record's PRNG before each record, so faker values are as deterministic as ours.
 */
export class SeededFaker {
  private current: Prng | undefined;
  private referenceMs = FAKER_REFERENCE_MS;
  readonly faker: FakerInstance;

  /** `helpers: "faker's"` keeps faker's own helpers (for the spec that compares both ways). */
  constructor(options: { helpers?: "lean" | "faker's" } = {}) {
    const FakerClass = faker.constructor as new (options: unknown) => FakerInstance;
    const next = (): number => {
      if (!this.current) throw new Error("faker used outside a record");
      return this.current.float();
    };
    this.faker = new FakerClass({
      locale: (faker as unknown as { fakerCore: { locale: unknown } }).fakerCore.locale,
      randomizer: { next, seed: () => undefined },
    });
    this.faker.setDefaultRefDate(() => new Date(this.referenceMs));
    if (options.helpers !== "faker's") {
      cacheFakerTemplates(this.faker as unknown as Parameters<typeof cacheFakerTemplates>[0]);
      leanFakerCore(this.faker as unknown as Parameters<typeof leanFakerCore>[0], next);
    }
  }

  /** Draws from `rng` from now on, with dates relative to `referenceMs`. */
  use(rng: Prng, referenceMs = FAKER_REFERENCE_MS): void {
    this.current = rng;
    this.referenceMs = referenceMs;
  }

  /** The bound method for `module.method`; callers check the name against `fakerMethodNames()` first. */
  method(name: string): Method {
    const [m, f] = name.split(".") as [string, string];
    const module = (this.faker as unknown as Record<string, Record<string, Method>>)[m] as Record<string, Method>;
    return (module[f] as Method).bind(module);
  }
}
