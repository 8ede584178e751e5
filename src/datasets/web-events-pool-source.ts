/**
 * Where web-events' faker-made pools come from: faker's en locale from a fixed seed. They are
 * stored as data (`web-events-pools.json`), so a thread that writes web-events loads neither
 * faker nor its locale and makes no faker call: about 100 ms less before the first record
 * (measured on this 2-core machine: faker's require 40 ms, the calls 58 ms). A spec makes them
 * here again and compares, so a faker upgrade that changes them fails it; to store new ones:
 * `npm run build && node scripts/store-web-events-pools.js && npm run format`.
 */
import type { faker as Faker } from "@faker-js/faker/locale/en";

export const POOL_SEED = 20251223;

export interface WebEventsPoolText {
  /** Product names as URL slugs. */
  readonly products: readonly string[];
  /** Department names as URL slugs. */
  readonly categories: readonly string[];
  /** Blog article slugs. */
  readonly articles: readonly string[];
  /** `https://domain/slug` of partner sites. */
  readonly partnerReferrers: readonly string[];
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** The pools as faker makes them from `POOL_SEED`, in the order it always made them. */
export function fakerPoolText(): WebEventsPoolText {
  const { faker } = require("@faker-js/faker/locale/en") as { faker: typeof Faker };
  faker.seed(POOL_SEED);
  const products = Array.from({ length: 600 }, () => slug(faker.commerce.productName()));
  const categories = Array.from({ length: 40 }, () => slug(faker.commerce.department()));
  const articles = Array.from({ length: 200 }, () => faker.lorem.slug(3));
  const partnerReferrers = Array.from({ length: 120 }, () => `https://${faker.internet.domainName()}/${faker.lorem.slug(2)}`);
  return { products, categories, articles, partnerReferrers };
}
