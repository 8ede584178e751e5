import { isoOfMs } from "../core/iso-time";
import { col } from "../records/columns";
import { identityEpochMs } from "../core/fields";
import { Prng } from "../core/prng";
import { CITIES } from "./cities";
import type { Dataset, FileContext, RecordWriter } from "../records/dataset";

/**
 * `merchant-metrics`: hourly performance points of a stable catalogue of merchants, as the
 * original Elasticsearch generator produced them, made reproducible:
 *
 * - The catalogue (ids, names, categories, locations, which merchants are problematic) depends on
 *   the seed alone, so hourly runs with one seed build trends for the same merchants.
 * - A point depends on (seed, merchant, hour) alone: a re-run, a retry or a backfill over the same
 *   hour yields the same document under the same id (`{merchant_id}_{YYYYMMDDHH}`), so indexing
 *   updates instead of duplicating.
 * - Normal merchants convert 30–80% with 1–15% errors; problematic ones either convert 5–30%
 *   (`low_conversion`) or fail 15–40% of transactions (`high_error_rate`). A merchant's location is
 *   missing with 10% probability (decided once per merchant). Volumes follow a daily curve.
 * - Figures agree with each other: transactions = successful + failed, and the conversion rate is
 *   transactions / visitors.
 */

export const MERCHANT_COUNT = 20;
const HOUR_MS = 3_600_000;
const LOCATION_MISSING_P = 0.1;
/** Of the 20 merchants, this many per issue (positions drawn from the seed). */
const LOW_CONVERSION = 3;
const HIGH_ERROR_RATE = 2;

const FIRST = ["Blue", "Summit", "Harbor", "Maple", "Golden", "Urban", "North", "Silver", "Cedar", "Bright", "Red", "Pioneer", "Coastal", "Prairie", "Evergreen", "Iron"];
const SECOND = ["Leaf", "Peak", "Bay", "Stone", "Field", "Ridge", "River", "Oak", "Lantern", "Anchor", "Meadow", "Crest", "Fox", "Pine", "Bridge", "Lake"];
const CATEGORIES: readonly (readonly [string, readonly string[]])[] = [
  ["grocery", ["Market", "Grocers", "Foods"]],
  ["electronics", ["Electronics", "Tech", "Digital"]],
  ["apparel", ["Outfitters", "Apparel", "Boutique"]],
  ["restaurants", ["Kitchen", "Bistro", "Eatery"]],
  ["travel", ["Travel", "Getaways", "Tours"]],
  ["home_goods", ["Home", "Living", "Interiors"]],
  ["health_beauty", ["Pharmacy", "Beauty", "Wellness"]],
  ["sporting_goods", ["Sports", "Athletics", "Outdoors"]],
];

export type MerchantIssue = "low_conversion" | "high_error_rate";

export interface Merchant {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly issue: MerchantIssue | null;
  /** Pre-rendered `"location":{...},` or empty when the merchant's location is missing. */
  readonly locationJson: string;
  readonly conversion: { readonly base: number; readonly min: number; readonly max: number };
  readonly errors: { readonly base: number; readonly min: number; readonly max: number };
  /** Typical transactions per hour at the busiest time of day. */
  readonly peakVolume: number;
}

function around(rng: Prng, min: number, max: number): { base: number; min: number; max: number } {
  return { base: min + rng.float() * (max - min), min, max };
}

const catalogues = new Map<number, readonly Merchant[]>();

/** The catalogue of a seed: the same 20 merchants every time. */
export function merchantCatalogue(seed: number): readonly Merchant[] {
  const cached = catalogues.get(seed);
  if (cached) return cached;
  const rng = Prng.fromParts("merchant-metrics catalogue", seed);
  const order = Array.from({ length: MERCHANT_COUNT }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const issueOf = new Map<number, MerchantIssue>();
  for (const i of order.slice(0, LOW_CONVERSION)) issueOf.set(i, "low_conversion");
  for (const i of order.slice(LOW_CONVERSION, LOW_CONVERSION + HIGH_ERROR_RATE)) issueOf.set(i, "high_error_rate");

  const names = new Set<string>();
  const merchants = Array.from({ length: MERCHANT_COUNT }, (_, index): Merchant => {
    const [category, kinds] = rng.pick(CATEGORIES);
    let name: string;
    do name = `${rng.pick(FIRST)} ${rng.pick(SECOND)} ${rng.pick(kinds)}`;
    while (names.has(name));
    names.add(name);
    const city = rng.pick(CITIES);
    const locationJson = rng.chance(LOCATION_MISSING_P) ? "" : `"location":{"city":"${city.city}","country":"${city.country}","lat":${city.lat},"lon":${city.lon}},`;
    const issue = issueOf.get(index) ?? null;
    return {
      index,
      id: `mrc_${(rng.next() >>> 0).toString(16).padStart(8, "0")}`,
      name,
      category,
      issue,
      locationJson,
      conversion: issue === "low_conversion" ? around(rng, 5, 30) : around(rng, 30, 80),
      errors: issue === "high_error_rate" ? around(rng, 15, 40) : around(rng, 1, 15),
      peakVolume: rng.range(50, 2000),
    };
  });
  catalogues.set(seed, merchants);
  return merchants;
}

/** Share of the peak volume by UTC hour: quiet at night, busiest in the afternoon. */
const DAILY_CURVE = [0.18, 0.12, 0.09, 0.08, 0.09, 0.14, 0.25, 0.42, 0.6, 0.74, 0.85, 0.93, 0.97, 1, 0.98, 0.95, 0.92, 0.9, 0.86, 0.78, 0.66, 0.52, 0.38, 0.26];

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** `YYYYMMDDHH` of an hour, for document ids. */
function hourTag(hourMs: number): string {
  const iso = isoOfMs(hourMs);
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}`;
}

/** One merchant's point for one hour: its document id and JSON text. */
export interface MerchantPoint {
  readonly id: string;
  readonly json: string;
}

/** The point of a merchant for the hour starting at `hourMs`; depends on nothing else. */
export function merchantPoint(seed: number, merchant: Merchant, hourMs: number): MerchantPoint {
  const rng = Prng.fromParts("merchant-metrics point", seed, merchant.index, hourMs);
  const hour = new Date(hourMs).getUTCHours();
  const conversion = round2(clamp(merchant.conversion.base + rng.normal() * 2.5, merchant.conversion.min, merchant.conversion.max));
  const errorRate = round2(clamp(merchant.errors.base + rng.normal() * 1.5, merchant.errors.min, merchant.errors.max));
  const transactions = Math.max(1, Math.round(merchant.peakVolume * (DAILY_CURVE[hour] as number) * (1 + rng.normal() * 0.08)));
  const failed = Math.round((transactions * errorRate) / 100);
  const visitors = Math.round((transactions * 100) / conversion);
  const issue = merchant.issue ? `"status":"problematic","issue":"${merchant.issue}",` : `"status":"normal",`;
  return {
    id: `${merchant.id}_${hourTag(hourMs)}`,
    json:
      `{"merchant_id":"${merchant.id}","merchant_name":"${merchant.name}","category":"${merchant.category}",` +
      `"timestamp":"${isoOfMs(hourMs).slice(0, 19)}Z",${issue}${merchant.locationJson}` +
      `"conversion_rate":${conversion},"error_rate":${errorRate},"transaction_count":${transactions},` +
      `"successful_transactions":${transactions - failed},"failed_transactions":${failed},"visitor_count":${visitors}}`,
  };
}

/** The start of the hour containing `ms`. */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/**
 * Every merchant's point for `hours` hours ending with the hour that contains `endMs`, oldest
 * hour first: 20 documents per hour.
 */
export function* merchantPoints(seed: number, endMs: number, hours: number): Generator<MerchantPoint> {
  const merchants = merchantCatalogue(seed);
  const last = hourStart(endMs);
  for (let h = hours - 1; h >= 0; h--) {
    for (const merchant of merchants) yield merchantPoint(seed, merchant, last - h * HOUR_MS);
  }
}

/**
 * As a file dataset, the run's files share one history going back from the run's hour: point p
 * (merchant p mod 20, p div 20 hours back) goes to file p mod fileCount. Files of one run never
 * repeat a point, and together they hold an unbroken history.
 */
class MerchantFile implements RecordWriter {
  private readonly merchants: readonly Merchant[];
  private readonly lastHour: number;

  constructor(
    private readonly ctx: FileContext,
    private readonly seed: number,
  ) {
    this.merchants = merchantCatalogue(seed);
    this.lastHour = hourStart(identityEpochMs(ctx));
  }

  head(i: number): string {
    const p = i * this.ctx.fileCount + this.ctx.fileIndex;
    const merchant = this.merchants[p % MERCHANT_COUNT] as Merchant;
    const json = merchantPoint(this.seed, merchant, this.lastHour - Math.floor(p / MERCHANT_COUNT) * HOUR_MS).json;
    return json.slice(0, -1);
  }
}

export const merchantMetrics: Dataset = {
  name: "merchant-metrics",
  tail: "}",
  padding: null,
  required: ["merchant_id", "timestamp"],
  columns: [
    col("merchant_id", "string"),
    col("merchant_name", "string"),
    col("category", "string"),
    col("timestamp", "timestamp"),
    col("status", "string"),
    col("issue", "string"),
    col("location", { struct: [col("city", "string"), col("country", "string"), col("lat", "double"), col("lon", "double")] }),
    col("conversion_rate", "double"),
    col("error_rate", "double"),
    ...["transaction_count", "successful_transactions", "failed_transactions", "visitor_count"].map((n) => col(n, "int")),
  ],
  // The catalogue comes from the run's seed, not from the file's PRNG, so every file agrees on it.
  open: (ctx) => new MerchantFile(ctx, ctx.seed),
};
