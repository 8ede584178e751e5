import { col } from "../records/columns";
import { Prng, WeightedTable } from "../core/prng";
import { CITIES, type City } from "./cities";
import { flatText } from "../core/flat-text";
import { MINUTES, SECONDS } from "../core/iso-time";
import type { Dataset, FileContext, RecordWriter } from "../records/dataset";
import POOL_TEXT from "./web-events-pools.json";
import { POOL_SEED } from "./web-events-pool-source";

/**
 * `web-events`: the record schema of the original test-data Lambda, field for field, with values
 * that hang together: a city lies in its country and the coordinates near it, the user agent
 * matches the device, OS and browser, utm fields match the referrer, revenue only on
 * conversions, bounces view one page, timestamps inside the run's day.
 *
 * Speed matters (≥100 MB/s per thread): the string pools are built once per thread, from what
 * faker made of a fixed seed (stored as data: see web-events-pool-source.ts), and a record's text joins about 30 flat pieces: the fixed runs of it (keys with
 * their separators, pool entries with the key after them) are made once per thread (flatText).
 */

const HEX = "0123456789abcdef";

const EVENT_TYPE_SHARES: readonly (readonly [string, number])[] = [
  ["page_view", 55],
  ["click", 18],
  ["search", 8],
  ["add_to_cart", 8],
  ["checkout", 5],
  ["purchase", 3],
  ["signup", 3],
];
const EVENT_TYPES = new WeightedTable<string>(EVENT_TYPE_SHARES);

interface Platform {
  readonly device: string;
  readonly os: string;
  readonly browser: string;
  readonly userAgents: readonly string[];
  /** Each user agent as it runs in a record: `","user_agent":"…","country":"`. */
  readonly userAgentRuns: readonly string[];
  /** `,"device_type":"…","os":"…","browser":"…","page_url":"`. */
  readonly run: string;
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

/** A traffic source with each referrer as it runs in a record: `…","utm_source":"…","utm_medium":"…","utm_campaign":"`. */
interface Source extends TrafficSource {
  readonly referrerRuns: readonly string[];
}

/** A city with what follows a record's user agent: `US","city":"New York","latitude":`. */
interface Place {
  readonly city: City;
  readonly run: string;
}

interface Pools {
  readonly platforms: WeightedTable<Platform>;
  readonly cities: WeightedTable<Place>;
  readonly sources: WeightedTable<Source>;
  readonly pageUrls: readonly string[];
  /** Each page URL as it runs in a record: `…","referrer":"`. */
  readonly pageUrlRuns: readonly string[];
}

function assertAscii(values: readonly string[], what: string): void {
  for (const v of values) {
    if (!/^[\x20-\x7e]*$/.test(v) || /["\\]/.test(v)) throw new Error(`${what} pool entry is not plain ASCII: ${v}`);
  }
}

/** Builds the string pools. Deterministic: faker's stored output and our PRNG from a fixed seed. */
function buildPools(): Pools {
  const rng = Prng.fromParts("web-events pools", POOL_SEED);

  const platforms = new WeightedTable<Platform>(
    PLATFORM_SHARES.map(([device, os, browser, weight]) => {
      const userAgents = Array.from({ length: 24 }, () => userAgent(rng, device, os, browser));
      const userAgentRuns = userAgents.map((ua) => flatText(`","user_agent":"${ua}","country":"`));
      const run = flatText(`,"device_type":"${device}","os":"${os}","browser":"${browser}","page_url":"`);
      return [{ device, os, browser, userAgents, userAgentRuns, run }, weight] as const;
    }),
  );

  const site = "https://shop.example.com";
  const { products, categories, articles, partnerReferrers } = POOL_TEXT;
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

  const sourceShares: readonly (readonly [TrafficSource, number])[] = [
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
  ];
  const sources = new WeightedTable<Source>(
    sourceShares.map(([src, weight]) => {
      const referrerRuns = src.referrers.map((r) => flatText(`${r}","utm_source":"${src.source}","utm_medium":"${src.medium}","utm_campaign":"`));
      return [{ ...src, referrerRuns }, weight] as const;
    }),
  );

  for (const p of PLATFORM_SHARES) assertAscii(p.slice(0, 3) as string[], "platform");
  assertAscii(pageUrls, "page_url");
  assertAscii(partnerReferrers, "referrer");
  assertAscii(
    CITIES.map((c) => c.city),
    "city",
  );

  return {
    platforms,
    cities: new WeightedTable(CITIES.map((city) => [{ city, run: flatText(`${city.country}","city":"${city.city}","latitude":`) }, city.weight] as const)),
    sources,
    pageUrls,
    pageUrlRuns: pageUrls.map((url) => flatText(`${url}","referrer":"`)),
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

/** Low nibble first, as session ids have always been written: the character codes of `HEX`. */
const NIBBLE = Array.from(HEX, (c) => c.charCodeAt(0));

/** A 32-digit session id from four PRNG words, low nibble first, made as one flat string (in one call: 150 ns, where joining digits or a Buffer slice took 310). */
function hex32(rng: Prng): string {
  const a = rng.next();
  const b = rng.next();
  const c = rng.next();
  const d = rng.next();
  const n = NIBBLE;
  // biome-ignore format: eight digits of a word a line
  return String.fromCharCode(
    n[a & 15] as number, n[(a >>> 4) & 15] as number, n[(a >>> 8) & 15] as number, n[(a >>> 12) & 15] as number, n[(a >>> 16) & 15] as number, n[(a >>> 20) & 15] as number, n[(a >>> 24) & 15] as number, n[a >>> 28] as number,
    n[b & 15] as number, n[(b >>> 4) & 15] as number, n[(b >>> 8) & 15] as number, n[(b >>> 12) & 15] as number, n[(b >>> 16) & 15] as number, n[(b >>> 20) & 15] as number, n[(b >>> 24) & 15] as number, n[b >>> 28] as number,
    n[c & 15] as number, n[(c >>> 4) & 15] as number, n[(c >>> 8) & 15] as number, n[(c >>> 12) & 15] as number, n[(c >>> 16) & 15] as number, n[(c >>> 20) & 15] as number, n[(c >>> 24) & 15] as number, n[c >>> 28] as number,
    n[d & 15] as number, n[(d >>> 4) & 15] as number, n[(d >>> 8) & 15] as number, n[(d >>> 12) & 15] as number, n[(d >>> 16) & 15] as number, n[(d >>> 20) & 15] as number, n[(d >>> 24) & 15] as number, n[d >>> 28] as number,
  );
}

// Fixed runs of a record's text (a key with its separators, a pool value with the key after it)
// are flat pieces made once per thread (see `flatText`): a record joins about 30 pieces, not 90.

/** What follows an event type's timestamp: `Z","event_type":"…","user_id":"user_`. */
const AFTER_TIMESTAMP = new Map(EVENT_TYPE_SHARES.map(([t]) => [t, flatText(`Z","event_type":"${t}","user_id":"user_`)] as const));
const SESSION_KEY = flatText(`","session_id":"`);
const IP_KEY = flatText(`","ip_address":"`);
const LONGITUDE_KEY = flatText(`,"longitude":`);
const ITEMS_KEY = flatText(`,"items_viewed":`);
/** `campaign_N` (or `(none)` at 0) and the key after it. */
const CAMPAIGNS = Array.from({ length: 61 }, (_, n) => flatText(`${n === 0 ? "(none)" : `campaign_${n}`}","duration_seconds":`));
/** By bounce × 2 + conversion. */
const OUTCOMES = [false, true].flatMap((bounce) => [false, true].map((conversion) => flatText(`,"bounce":${bounce},"conversion":${conversion},"revenue":`)));
/** By experiment number 1..50. */
const EXPERIMENTS = Array.from({ length: 51 }, (_, k) => flatText(`,"custom_data":{"experiment_id":"exp_${k}","variant":"`));
/** By the low four bits of a record's flags: the variant and three feature flags. */
const FLAGS = Array.from({ length: 16 }, (_, f) =>
  flatText(`${f & 1 ? "B" : "A"}","feature_flags":{"feature_1":${(f & 2) !== 0},"feature_2":${(f & 4) !== 0},"feature_3":${(f & 8) !== 0}}},"padding":"`),
);

class WebEventWriter implements RecordWriter {
  private readonly day: string;
  private readonly idPrefix: string;
  /** `{"id":"evt_…_ffff`: what every record of the file starts with. */
  private readonly idHead: string;
  /** `","timestamp":"YYYY-MM-DDT`. */
  private readonly timestampKey: string;
  private readonly secondOfDay: ((rng: Prng) => number) | undefined;
  /** The last record's values as `head` left them, and as `row` hands them out. */
  private readonly values: unknown[] = new Array(26).fill(undefined);
  private readonly parsed: unknown[] = new Array(26).fill(undefined);
  /** What `row` makes the last record's strings from, only when it is asked. */
  private recordIndex = 0;
  private clock = "";
  private micros = "";
  private userNumber = 0;
  private campaign = 0;
  private experiment = 0;

  constructor(
    ctx: FileContext,
    private readonly rng: Prng,
    private readonly p: Pools,
  ) {
    this.day = `${ctx.datePrefix}T`;
    this.idPrefix = `evt_${ctx.datePrefix.replace(/-/g, "")}${ctx.hhmmss}_${String(ctx.fileIndex).padStart(4, "0")}`;
    this.idHead = flatText(`{"id":"${this.idPrefix}`);
    this.timestampKey = flatText(`","timestamp":"${this.day}`);
    this.secondOfDay = ctx.secondOfDay;
  }

  head(recordIndex: number): string {
    const rng = this.rng;
    const p = this.p;

    const micros = String(rng.int(1_000_000)).padStart(6, "0");
    const secOfDay = this.secondOfDay ? this.secondOfDay(rng) : rng.int(86_400);
    const clock = (MINUTES[Math.floor(secOfDay / 60)] as string) + (SECONDS[secOfDay % 60] as string);

    const eventType = EVENT_TYPES.draw(rng);
    const platform = p.platforms.draw(rng);
    const place = p.cities.draw(rng);
    const city = place.city;
    const src = p.sources.draw(rng);

    const bounce = eventType === "page_view" && rng.chance(0.35);
    const conversion = eventType === "purchase" || eventType === "signup";
    const revenue = eventType === "purchase" ? Math.round(Math.exp(3 + rng.normal() * 0.8) * 100 + 99) / 100 : 0;
    const duration = bounce ? rng.range(1, 15) : Math.min(3600, Math.round(-Math.log(1 - rng.float()) * 180) + 5);
    const items = bounce ? 1 : rng.range(1, 30);
    const campaign = src.campaigns ? rng.range(1, 60) : 0;

    // Roughly ±5 km around the city centre.
    const lat = (city.lat + rng.normal() * 0.03).toFixed(4);
    const lon = (city.lon + rng.normal() * 0.04).toFixed(4);
    const flags = rng.next();
    const recordNumber = String(recordIndex).padStart(7, "0");
    const userNumber = rng.range(1, 50_000);
    const sessionId = hex32(rng);
    const ip = ipAddress(rng);
    const userAgent = rng.int(platform.userAgents.length);
    const pageUrl = rng.int(p.pageUrls.length);
    const referrer = rng.int(src.referrers.length);
    const experiment = ((flags >>> 8) % 50) + 1;

    // The values as they are, for `row`; what only Parquet and verify read (the id, timestamp,
    // user id and campaign as strings, numbers from their text, the nested object) is made there.
    const row = this.values;
    row[2] = eventType;
    row[4] = sessionId;
    row[5] = ip;
    row[6] = platform.userAgents[userAgent];
    row[7] = city.country;
    row[8] = city.city;
    row[9] = lat;
    row[10] = lon;
    row[11] = platform.device;
    row[12] = platform.os;
    row[13] = platform.browser;
    row[14] = p.pageUrls[pageUrl];
    row[15] = src.referrers[referrer];
    row[16] = src.source;
    row[17] = src.medium;
    row[19] = duration;
    row[20] = bounce;
    row[21] = conversion;
    row[22] = revenue;
    row[23] = items;
    row[24] = flags;
    this.recordIndex = recordIndex;
    this.clock = clock;
    this.micros = micros;
    this.userNumber = userNumber;
    this.campaign = campaign;
    this.experiment = experiment;

    // About 30 pieces, each flat: the fixed runs come from the tables above and the pools.
    return (
      this.idHead +
      recordNumber +
      this.timestampKey +
      clock +
      micros +
      AFTER_TIMESTAMP.get(eventType) +
      userNumber +
      SESSION_KEY +
      sessionId +
      IP_KEY +
      ip +
      platform.userAgentRuns[userAgent] +
      place.run +
      lat +
      LONGITUDE_KEY +
      lon +
      platform.run +
      p.pageUrlRuns[pageUrl] +
      src.referrerRuns[referrer] +
      CAMPAIGNS[campaign] +
      duration +
      OUTCOMES[(bounce ? 2 : 0) + (conversion ? 1 : 0)] +
      revenue +
      ITEMS_KEY +
      items +
      EXPERIMENTS[experiment] +
      FLAGS[flags & 15]
    );
  }

  /** The last record's values by column; the last slot, the padding, is the renderer's. */
  row(): unknown[] {
    const row = this.values;
    const out = this.parsed;
    row[0] = `${this.idPrefix}${String(this.recordIndex).padStart(7, "0")}`;
    row[1] = `${this.day}${this.clock}${this.micros}Z`;
    row[3] = `user_${this.userNumber}`;
    row[18] = this.campaign === 0 ? "(none)" : `campaign_${this.campaign}`;
    for (let i = 0; i < 24; i++) out[i] = row[i];
    out[9] = Number(row[9]);
    out[10] = Number(row[10]);
    const flags = row[24] as number;
    out[24] = {
      experiment_id: `exp_${this.experiment}`,
      variant: flags & 1 ? "B" : "A",
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
