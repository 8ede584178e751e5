import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { BYTES_PER_MB } from "../src/core/limits";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { parseSchemaText } from "../src/schema/dataset";
import { spread } from "./ratios";

/**
 * What a relationship costs: records/s of a child dataset (orders of users) whose two fields are
 * read from its parent (`ref: users.user_id`, `ref: users.country`), against the same dataset with
 * those two fields made by its own generators — in one thread, alternated, min and median.
 * Goal: the reference costs < 25% (ratio ≥ 0.75).
 */
const USERS = `
  users:
    count: 200000
    fields:
      user_id: { sequence: {} }
      email: { faker: internet.email }
      name: { faker: { method: person.fullName, pool: 5000 } }
      country: { choice: { US: 40, DE: 15, GB: 15, FR: 10, BR: 10, IN: 10 } }
      signup_at: { timestamp: iso }
      plan: { choice: { free: 70, pro: 25, team: 5 } }`;

const orders = (user_id: string, country: string) => `
name: bench-shop
datasets:${USERS}
  orders:
    parent: users
    per_parent: { distribution: poisson, mean: 3 }
    fields:
      order_id: { sequence: { format: "ord-{n}" } }
      user_id: ${user_id}
      country: ${country}
      placed_at: { timestamp: iso }
      amount: { number: { distribution: normal, mean: 60, stddev: 25, min: 1, max: 500, decimals: 2 } }
      status: { choice: { paid: 85, refunded: 10, cancelled: 5 } }
      coupon: { choice: [SPRING10, WELCOME5, VIP20], null_probability: 0.8 }
`;

export const WITH_REFERENCE = orders("{ ref: users.user_id }", "{ ref: users.country }");
export const WITHOUT = orders("{ number: { min: 1, max: 200000 } }", "{ choice: { US: 40, DE: 15, GB: 15, FR: 10, BR: 10, IN: 10 } }");

export function recordsPerS(yaml: string, files: number): { recordsPerS: number; mbPerS: number } {
  const doc = parseSchemaText(yaml, "bench.yaml");
  const id = (i: number): FileIdentity => ({
    dataset: "bench-shop.orders",
    seed: 1,
    runId: "bench",
    datePrefix: "2025-12-23",
    hhmmss: "120000",
    fileIndex: i,
    fileCount: 200,
    targetBytes: 4 * BYTES_PER_MB,
    schema: { scenario: doc, dataset: "orders" },
  });
  const started = performance.now();
  let records = 0;
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const f = renderFile(id(i));
    for (const _ of f.chunks);
    records += f.stats.records;
    bytes += f.stats.bytes;
  }
  const seconds = (performance.now() - started) / 1000;
  return { recordsPerS: records / seconds, mbPerS: bytes / BYTES_PER_MB / seconds };
}

/** One variant in a fresh process (three files to warm up, then `files` files): records/s. */
function inChild(variant: "with" | "without", files: number): number {
  const out = execFileSync(process.execPath, [__filename, "--one", variant, String(files)], { encoding: "utf8" });
  return Number(out.trim());
}

/**
 * Each measurement in a fresh process, the two variants alternated: in one process the second
 * variant runs on code the JIT shaped for the first, which moved the ratio by 0.3 here.
 */
export function scenariosBench(reps = 7, files = 10): void {
  const withRef: number[] = [];
  const without: number[] = [];
  for (let r = 0; r < reps; r++) {
    withRef.push(inChild("with", files));
    without.push(inChild("without", files));
  }
  const [w, o, r] = [spread(withRef), spread(without), spread(withRef.map((x, i) => x / (without[i] as number)))];
  const k = (x: number) => Math.round(x).toLocaleString("en-US");
  console.log(`scenarios: orders of users (Poisson 3 per user), one thread, generation only, ${reps} fresh processes each, alternated, min / median\n`);
  console.log("| path | records/s | goal |");
  console.log("|---|---|---|");
  console.log(`| orders reading users.user_id and users.country | ${k(w.min)} / ${k(w.median)} | |`);
  console.log(`| the same orders, those two fields its own | ${k(o.min)} / ${k(o.median)} | |`);
  console.log(`| ratio (with ÷ without, per pair) | ${r.min.toFixed(2)} / ${r.median.toFixed(2)} | ≥ 0.75 (the reference costs < 25%) |\n`);
}

/**
 * What the emit fan-out spends on a scenario's dataset besides sending: the plan's count of each
 * stream's entities (a walk of every ancestor) and a later wave's start mid-stream (rendering the
 * stream's earlier entities). examples/shop.yaml with 200,000 users, order_lines, 2 streams.
 */
export function scenarioEmitBench(): void {
  const { readFileSync } = require("node:fs") as typeof import("node:fs");
  const { resolveScenarioDataset } = require("../src/catalog/resolve") as typeof import("../src/catalog/resolve");
  const { EMIT_DEFAULTS, parseEmitRequest } = require("../src/events/request") as typeof import("../src/events/request");
  const { EventStream } = require("../src/events/streams") as typeof import("../src/events/streams");
  const text = readFileSync(join(__dirname, "..", "..", "examples", "shop.yaml"), "utf8").replace("count: 20000", "count: 200000");
  const custom = resolveScenarioDataset(text, "shop.yaml", "order_lines");
  const event = { ingest_api_url: "http://127.0.0.1:9/ingest", stream_count: 2, events_per_second: 10_000, date_prefix: "2026-02-01" };
  let started = performance.now();
  const request = parseEmitRequest(event, EMIT_DEFAULTS, { now: new Date() }, custom, "fan-out");
  const countS = (performance.now() - started) / 1000;
  const lines = (request.streamEvents ?? []).reduce((a, b) => a + b, 0);
  const walked = 200_000 + (request.streamEvents ? lines / 2.5 : 0); // users, and orders at their mean of 2.5 per user
  const first = Math.floor((request.streamEvents?.[1] ?? 0) * 0.8);
  started = performance.now();
  new EventStream(request, 1, first, 1).next();
  const skipS = (performance.now() - started) / 1000;
  const k = (x: number) => Math.round(x).toLocaleString("en-US");
  console.log("scenario datasets in the emit fan-out: shop with 200,000 users, order_lines over 2 streams, one thread\n");
  console.log("| step | work | seconds | per second |");
  console.log("|---|---|---|---|");
  console.log(`| plan: count each stream's entities | ${k(lines)} order_lines under ~${k(walked)} ancestors | ${countS.toFixed(2)} | ~${k(walked / countS)} ancestors |`);
  console.log(`| a later wave starts stream 1 at entity ${k(first)} | render and drop ${k(first)} | ${skipS.toFixed(2)} | ${k(first / skipS)} entities |\n`);
}

if (require.main === module) {
  if (process.argv[2] === "--one") {
    const yaml = process.argv[3] === "with" ? WITH_REFERENCE : WITHOUT;
    recordsPerS(yaml, 3);
    console.log(recordsPerS(yaml, Number(process.argv[4] ?? 10)).recordsPerS);
  } else {
    scenariosBench(Number(process.argv[2] ?? 7), Number(process.argv[3] ?? 10));
  }
}
