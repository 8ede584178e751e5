import { col } from "../records/columns";
import { faker } from "@faker-js/faker/locale/en";
import { Prng, WeightedTable } from "../core/prng";
import { CITIES, type City } from "./cities";
import type { Dataset, FileContext, RecordWriter } from "../records/dataset";

/**
 * `web-events`: the record schema of the original test-data Lambda, field for field, with values
 * that hang together: a city lies in its country and the coordinates near it, the user agent
 * matches the device, OS and browser, utm fields match the referrer, revenue only on
 * conversions, bounces view one page, timestamps inside the run's day.
 *
 * Speed matters (≥100 MB/s per thread): faker builds the string pools once per thread from a
 * fixed seed, and each record is one template string over pre-escaped pool entries.
 */

const POOL_SEED = 20251223;
const HEX = "0123456789abcdef";

/** Two-digit strings "00".."99", so times and ids are built without padStart per record. */
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));

const EVENT_TYPES = new WeightedTable<string>([
  ["page_view", 55],
  ["click", 18],
  ["search", 8],
  ["add_to_cart", 8],
  ["checkout", 5],
  ["purchase", 3],
  ["signup", 3],
]);

interface Platform {
  readonly device: string;
  readonly os: string;
  readonly browser: string;
  readonly userAgents: readonly string[];
}

function userAgent(rng: Prng, device: string, os: string, browser: string): string {
  const chrome = `${rng.range(118, 131)}.0.${rng.range(5000, 6800)}.${rng.range(10, 200)}`;
  const safari = `${rng.range(15, 18)}.${rng.range(0, 6)}`;
  const iosVersion = `${rng.range(15, 18)}_${rng.range(0, 6)}`;
  const android = `${rng.range(10, 15)}`;
  const firefox = `${rng.range(115, 133)}.0`;
  const webkit = "AppleWebKit/537.36 (KHTML, like Gecko)";
  const ipad = device === "tablet" ? "iPad; CPU OS" : "iPhone; CPU iPhone OS";
  const androidModel = device === "tablet" ? "SM-X710" : rng.pick(["Pixel 8", "SM-S918B", "SM-A546B", "Pixel 7a"]);
  switch (`${os}/${browser}`) {
    case "Windows/Chrome":
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${webkit} Chrome/${chrome} Safari/537.36`;
    case "Windows/Edge":
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${webkit} Chrome/${chrome} Safari/537.36 Edg/${chrome}`;
    case "Windows/Firefox":
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${firefox}) Gecko/20100101 Firefox/${firefox}`;
    case "macOS/Safari":
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari} Safari/605.1.15`;
    case "macOS/Chrome":
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${webkit} Chrome/${chrome} Safari/537.36`;
    case "macOS/Firefox":
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${firefox}) Gecko/20100101 Firefox/${firefox}`;
    case "Linux/Chrome":
      return `Mozilla/5.0 (X11; Linux x86_64) ${webkit} Chrome/${chrome} Safari/537.36`;
    case "Linux/Firefox":
      return `Mozilla/5.0 (X11; Linux x86_64; rv:${firefox}) Gecko/20100101 Firefox/${firefox}`;
    case "Android/Chrome":
      return `Mozilla/5.0 (Linux; Android ${android}; ${androidModel}) ${webkit} Chrome/${chrome} ${device === "mobile" ? "Mobile " : ""}Safari/537.36`;
    case "Android/Samsung Internet":
      return `Mozilla/5.0 (Linux; Android ${android}; ${androidModel}) ${webkit} SamsungBrowser/${rng.range(20, 26)}.0 Chrome/${chrome} ${device === "mobile" ? "Mobile " : ""}Safari/537.36`;
    case "iOS/Safari":
      return `Mozilla/5.0 (${ipad} ${iosVersion} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari} Mobile/15E148 Safari/604.1`;
    case "iOS/Chrome":
      return `Mozilla/5.0 (${ipad} ${iosVersion} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${chrome} Mobile/15E148 Safari/604.1`;
    default:
      throw new Error(`no user agent template for ${os}/${browser}`);
  }
}

const PLATFORM_SHARES: readonly (readonly [string, string, string, number])[] = [
  ["desktop", "Windows", "Chrome", 17],
  ["desktop", "Windows", "Edge", 5],
  ["desktop", "Windows", "Firefox", 3],
  ["desktop", "macOS", "Safari", 6],
  ["desktop", "macOS", "Chrome", 7],
  ["desktop", "macOS", "Firefox", 1],
  ["desktop", "Linux", "Chrome", 2],
  ["desktop", "Linux", "Firefox", 1],
  ["mobile", "Android", "Chrome", 23],
  ["mobile", "Android", "Samsung Internet", 4],
  ["mobile", "iOS", "Safari", 16],
  ["mobile", "iOS", "Chrome", 3],
  ["tablet", "iOS", "Safari", 6],
  ["tablet", "Android", "Chrome", 4],
];

interface TrafficSource {
  readonly source: string;
  readonly medium: string;
  readonly referrers: readonly string[];
  readonly campaigns: boolean;
}

interface Pools {
  readonly platforms: WeightedTable<Platform>;
  readonly cities: WeightedTable<City>;
  readonly sources: WeightedTable<TrafficSource>;
  readonly pageUrls: readonly string[];
}

function assertAscii(values: readonly string[], what: string): void {
  for (const v of values) {
    if (!/^[\x20-\x7e]*$/.test(v) || /["\\]/.test(v)) throw new Error(`${what} pool entry is not plain ASCII: ${v}`);
  }
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** Builds the string pools. Deterministic: fixed seeds for both faker and our PRNG. */
function buildPools(): Pools {
  faker.seed(POOL_SEED);
  const rng = Prng.fromParts("web-events pools", POOL_SEED);

  const platforms = new WeightedTable<Platform>(
    PLATFORM_SHARES.map(([device, os, browser, weight]) => {
      const userAgents = Array.from({ length: 24 }, () => userAgent(rng, device, os, browser));
      return [{ device, os, browser, userAgents }, weight] as const;
    }),
  );

  const site = "https://shop.example.com";
  const products = Array.from({ length: 600 }, () => slug(faker.commerce.productName()));
  const categories = Array.from({ length: 40 }, () => slug(faker.commerce.department()));
  const articles = Array.from({ length: 200 }, () => faker.lorem.slug(3));
  const pageUrls = [
    `${site}/`,
    `${site}/cart`,
    `${site}/checkout`,
    `${site}/account`,
    ...products.map((p, i) => `${site}/products/${p}-${1000 + i}`),
    ...categories.map((c) => `${site}/category/${c}`),
    ...articles.map((a) => `${site}/blog/${a}`),
    ...products.slice(0, 100).map((p) => `${site}/search?q=${p.split("-")[0] ?? p}`),
  ];
  const partnerReferrers = Array.from({ length: 120 }, () => `https://${faker.internet.domainName()}/${faker.lorem.slug(2)}`);

  const sources = new WeightedTable<TrafficSource>([
    [{ source: "google", medium: "cpc", referrers: ["https://www.google.com/"], campaigns: true }, 18],
    [{ source: "google", medium: "organic", referrers: ["https://www.google.com/"], campaigns: false }, 24],
    [{ source: "bing", medium: "organic", referrers: ["https://www.bing.com/"], campaigns: false }, 4],
    [{ source: "duckduckgo", medium: "organic", referrers: ["https://duckduckgo.com/"], campaigns: false }, 2],
    [{ source: "facebook", medium: "social", referrers: ["https://www.facebook.com/", "https://m.facebook.com/"], campaigns: true }, 9],
    [{ source: "instagram", medium: "social", referrers: ["https://www.instagram.com/", "https://l.instagram.com/"], campaigns: true }, 6],
    [{ source: "twitter", medium: "social", referrers: ["https://t.co/"], campaigns: true }, 3],
    [{ source: "linkedin", medium: "social", referrers: ["https://www.linkedin.com/"], campaigns: true }, 2],
    [{ source: "newsletter", medium: "email", referrers: ["https://mail.google.com/", "https://outlook.live.com/"], campaigns: true }, 7],
    [{ source: "partner", medium: "referral", referrers: partnerReferrers, campaigns: true }, 8],
    [{ source: "direct", medium: "none", referrers: [""], campaigns: false }, 17],
  ]);

  for (const p of PLATFORM_SHARES) assertAscii(p.slice(0, 3) as string[], "platform");
  assertAscii(pageUrls, "page_url");
  assertAscii(partnerReferrers, "referrer");
  assertAscii(
    CITIES.map((c) => c.city),
    "city",
  );

  return {
    platforms,
    cities: new WeightedTable(CITIES.map((c) => [c, c.weight] as const)),
    sources,
    pageUrls,
  };
}

let pools: Pools | undefined;

/** Pools are built on first use, once per thread; they never change output between tasks. */
function getPools(): Pools {
  pools ??= buildPools();
  return pools;
}

/** A random public-looking IPv4 address (no private, loopback or multicast first octet). */
function ipAddress(rng: Prng): string {
  let first = rng.range(1, 223);
  if (first === 10 || first === 127 || first === 172 || first === 192) first += 1;
  return `${first}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}`;
}

function hex32(rng: Prng): string {
  let s = "";
  for (let w = 0; w < 4; w++) {
    let x = rng.next();
    for (let k = 0; k < 8; k++) {
      s += HEX[x & 15];
      x >>>= 4;
    }
  }
  return s;
}

class WebEventWriter implements RecordWriter {
  private readonly day: string;
  private readonly idPrefix: string;
  private readonly filePart: string;
  private readonly secondOfDay: ((rng: Prng) => number) | undefined;
  /** The last record's values as `head` left them, and as `row` hands them out. */
  private readonly values: unknown[] = new Array(26).fill(undefined);
  private readonly parsed: unknown[] = new Array(26).fill(undefined);
  private experiment = "";
  private variant = "";

  constructor(
    ctx: FileContext,
    private readonly rng: Prng,
    private readonly p: Pools,
  ) {
    this.day = `${ctx.datePrefix}T`;
    this.idPrefix = `evt_${ctx.datePrefix.replace(/-/g, "")}${ctx.hhmmss}_`;
    this.filePart = String(ctx.fileIndex).padStart(4, "0");
    this.secondOfDay = ctx.secondOfDay;
  }

  head(recordIndex: number): string {
    const rng = this.rng;
    const p = this.p;

    const micros = rng.int(1_000_000);
    const secOfDay = this.secondOfDay ? this.secondOfDay(rng) : rng.int(86_400);
    const timestamp = `${this.day}${TWO[Math.floor(secOfDay / 3600)]}:${TWO[Math.floor(secOfDay / 60) % 60]}:${TWO[secOfDay % 60]}.${String(micros).padStart(6, "0")}Z`;

    const eventType = EVENT_TYPES.draw(rng);
    const platform = p.platforms.draw(rng);
    const city = p.cities.draw(rng);
    const src = p.sources.draw(rng);

    const bounce = eventType === "page_view" && rng.chance(0.35);
    const conversion = eventType === "purchase" || eventType === "signup";
    const revenue = eventType === "purchase" ? Math.round(Math.exp(3 + rng.normal() * 0.8) * 100 + 99) / 100 : 0;
    const duration = bounce ? rng.range(1, 15) : Math.min(3600, Math.round(-Math.log(1 - rng.float()) * 180) + 5);
    const items = bounce ? 1 : rng.range(1, 30);
    const campaign = src.campaigns ? `campaign_${rng.range(1, 60)}` : "(none)";

    // Roughly ±5 km around the city centre.
    const lat = (city.lat + rng.normal() * 0.03).toFixed(4);
    const lon = (city.lon + rng.normal() * 0.04).toFixed(4);
    const flags = rng.next();
    const id = `${this.idPrefix}${this.filePart}${String(recordIndex).padStart(7, "0")}`;
    const userId = `user_${rng.range(1, 50_000)}`;
    const sessionId = hex32(rng);
    const ip = ipAddress(rng);
    const userAgent = rng.pick(platform.userAgents);
    const pageUrl = rng.pick(p.pageUrls);
    const referrer = rng.pick(src.referrers);
    const experiment = `exp_${((flags >>> 8) % 50) + 1}`;
    const variant = flags & 1 ? "B" : "A";
    const f1 = (flags & 2) !== 0;
    const f2 = (flags & 4) !== 0;
    const f3 = (flags & 8) !== 0;

    // The values as they are: what only Parquet needs (numbers from their text, the nested object) waits for `row`.
    const row = this.values;
    row[0] = id;
    row[1] = timestamp;
    row[2] = eventType;
    row[3] = userId;
    row[4] = sessionId;
    row[5] = ip;
    row[6] = userAgent;
    row[7] = city.country;
    row[8] = city.city;
    row[9] = lat;
    row[10] = lon;
    row[11] = platform.device;
    row[12] = platform.os;
    row[13] = platform.browser;
    row[14] = pageUrl;
    row[15] = referrer;
    row[16] = src.source;
    row[17] = src.medium;
    row[18] = campaign;
    row[19] = duration;
    row[20] = bounce;
    row[21] = conversion;
    row[22] = revenue;
    row[23] = items;
    row[24] = flags;
    this.experiment = experiment;
    this.variant = variant;

    return (
      `{"id":"${id}","timestamp":"${timestamp}",` +
      `"event_type":"${eventType}","user_id":"${userId}","session_id":"${sessionId}",` +
      `"ip_address":"${ip}","user_agent":"${userAgent}",` +
      `"country":"${city.country}","city":"${city.city}","latitude":${lat},"longitude":${lon},` +
      `"device_type":"${platform.device}","os":"${platform.os}","browser":"${platform.browser}",` +
      `"page_url":"${pageUrl}","referrer":"${referrer}",` +
      `"utm_source":"${src.source}","utm_medium":"${src.medium}","utm_campaign":"${campaign}",` +
      `"duration_seconds":${duration},"bounce":${bounce},"conversion":${conversion},` +
      `"revenue":${revenue},"items_viewed":${items},` +
      `"custom_data":{"experiment_id":"${experiment}","variant":"${variant}",` +
      `"feature_flags":{"feature_1":${f1},"feature_2":${f2},"feature_3":${f3}}},` +
      `"padding":"`
    );
  }

  /** The last record's values by column; the last slot, the padding, is the renderer's. */
  row(): unknown[] {
    const row = this.values;
    const out = this.parsed;
    for (let i = 0; i < 24; i++) out[i] = row[i];
    out[9] = Number(row[9]);
    out[10] = Number(row[10]);
    const flags = row[24] as number;
    out[24] = {
      experiment_id: this.experiment,
      variant: this.variant,
      feature_flags: { feature_1: (flags & 2) !== 0, feature_2: (flags & 4) !== 0, feature_3: (flags & 8) !== 0 },
    };
    return out;
  }
}

export const webEvents: Dataset = {
  name: "web-events",
  tail: `"}`,
  padding: { min: 64, max: 512 },
  required: ["id", "timestamp", "event_type"],
  columns: [
    col("id", "string"),
    col("timestamp", "timestamp"),
    ...["event_type", "user_id", "session_id", "ip_address", "user_agent", "country", "city"].map((n) => col(n, "string")),
    col("latitude", "double"),
    col("longitude", "double"),
    ...["device_type", "os", "browser", "page_url", "referrer", "utm_source", "utm_medium", "utm_campaign"].map((n) => col(n, "string")),
    col("duration_seconds", "int"),
    col("bounce", "boolean"),
    col("conversion", "boolean"),
    col("revenue", "double"),
    col("items_viewed", "int"),
    col("custom_data", {
      struct: [col("experiment_id", "string"), col("variant", "string"), col("feature_flags", { struct: [col("feature_1", "boolean"), col("feature_2", "boolean"), col("feature_3", "boolean")] })],
    }),
    col("padding", "string"),
  ],
  open(ctx: FileContext, rng: Prng): RecordWriter {
    return new WebEventWriter(ctx, rng, getPools());
  },
};
