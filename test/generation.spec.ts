import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CITIES } from "../src/datasets/cities";
import { DATASET_NAMES, LOADED_DATASET_NAMES, datasetByName } from "../src/datasets";
import { BYTES_PER_MB } from "../src/core/limits";
import { planRun } from "../src/files/plan";
import { createFilePool } from "../src/files/pool";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { parseGenerateRequest } from "../src/files/request";
import { executeRun } from "../src/files/run";
import { parseSchemaText } from "../src/schema/dataset";
import STORED_POOLS from "../src/datasets/web-events-pools.json";
import { fakerPoolText } from "../src/datasets/web-events-pool-source";
import STORED_PADDING from "../src/records/padding-source.json";
import { makePaddingSource } from "../src/records/record-source";

const FIELDS = [
  "id",
  "timestamp",
  "event_type",
  "user_id",
  "session_id",
  "ip_address",
  "user_agent",
  "country",
  "city",
  "latitude",
  "longitude",
  "device_type",
  "os",
  "browser",
  "page_url",
  "referrer",
  "utm_source",
  "utm_medium",
  "utm_campaign",
  "duration_seconds",
  "bounce",
  "conversion",
  "revenue",
  "items_viewed",
  "custom_data",
  "padding",
];

function identity(over: Partial<FileIdentity> = {}): FileIdentity {
  return { dataset: "web-events", seed: 42, runId: "spec-run", datePrefix: "2025-12-23", hhmmss: "143052", fileIndex: 0, fileCount: 1, targetBytes: BYTES_PER_MB, ...over };
}

function render(id: FileIdentity): Buffer {
  const file = renderFile(id);
  return Buffer.concat([...file.chunks]);
}

function records(body: Buffer): Record<string, unknown>[] {
  const text = body.toString("utf8");
  assert.ok(text.endsWith("\n"), "file ends with a newline");
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("generation core (web-events)", () => {
  it("registers an implementation for every dataset name", () => {
    assert.deepEqual([...LOADED_DATASET_NAMES].sort(), [...DATASET_NAMES].sort());
    for (const name of DATASET_NAMES) assert.equal(datasetByName(name).name, name);
  });

  it("renders the same bytes for the same identity, and different bytes for another seed, run or index", () => {
    const a = render(identity());
    assert.ok(a.equals(render(identity())));
    assert.ok(!a.equals(render(identity({ seed: 43 }))));
    assert.ok(!a.equals(render(identity({ runId: "other" }))));
    assert.ok(!a.equals(render(identity({ fileIndex: 1 }))));
  });

  it("writes the bytes it always has: each file's SHA-256 is pinned (built-in, dirty, daily curve, Parquet, a schema, a scenario's child)", () => {
    // A change to how records are made (a faster writer, a new piece table) must leave every byte as it was.
    const example = (file: string) => parseSchemaText(readFileSync(join(__dirname, "..", "..", "examples", file), "utf8"), file);
    const like = example("web-events-like.yaml");
    const shop = example("shop.yaml");
    const pinned: [Partial<FileIdentity>, string, number][] = [
      [{}, "9c9cd24caf2976dd93e6b31a229dec38382e34f023f743dc202c49b82fe16f23", 895],
      [{ dirty: { malformed: 0.01, duplicate: 0.01, wrong_type: 0.01, late: 0.01 } }, "3b50508f65fbfa6501420ccaba819c27b89ab05b38c4e201ce7823aeb5ae6742", 897],
      [{ dailyCurve: true, fileIndex: 3 }, "1036749a9a45201b2d78415b9506ecf0f9e6ab0eb6f7acb53f374a23f0bfc579", 906],
      [{ format: "parquet" }, "0b4f76ed731e55ad8c825607cba39d4a1b75dcfb9b84bb4ae532603e4d83ee9d", 3962],
      [{ dataset: "web-events-like", schema: like }, "f335dc5921fe3b22e106ef2d4147bd0cecc9314f4e879d7f1d52e2c0b838371b", 1402],
      [{ dataset: "web-events-like", schema: like, format: "parquet" }, "44cf5834ccb6a83be6acf8dc1068fe800f7ca14d8d43b166dff520236e56b0b5", 15804],
      [{ dataset: "orders", schema: { scenario: shop, dataset: "orders" }, fileCount: 10 }, "64c051d7c8620934bf72055d262b23564f3721da228fe8204bec7379082c64d4", 5011],
    ];
    for (const [over, sha256, records] of pinned) {
      const file = renderFile(identity(over));
      for (const _ of file.chunks);
      assert.deepEqual({ sha256: file.stats.sha256, records: file.stats.records }, { sha256, records }, JSON.stringify({ ...over, schema: undefined }));
    }
  });

  it("builds its pools from faker's output stored as data, which is what faker makes of the pool seed today", () => {
    // A faker upgrade that changes them fails here; see web-events-pool-source.ts for storing new ones.
    assert.deepEqual(STORED_POOLS, fakerPoolText());
  });

  it("slices its padding from the stored padding source, which is what the padding seed makes", () => {
    // Changed on purpose (its length, the PRNG): store it again with scripts/store-padding-source.js.
    assert.equal(STORED_PADDING, makePaddingSource());
    assert.equal(STORED_PADDING.length, 65_536);
  });

  it("lands exactly on the target size for 3.5 MiB, 1 MiB, 10 KiB and odd byte counts", () => {
    for (const targetBytes of [3.5 * BYTES_PER_MB, BYTES_PER_MB, 10 * 1024, 777_777]) {
      const file = renderFile(identity({ targetBytes }));
      const body = Buffer.concat([...file.chunks]);
      assert.equal(body.length, targetBytes);
      assert.equal(file.stats.bytes, targetBytes);
    }
  });

  it("reports the record count and the SHA-256 of exactly the bytes it produced", () => {
    const file = renderFile(identity());
    const body = Buffer.concat([...file.chunks]);
    assert.equal(file.stats.records, records(body).length);
    assert.equal(file.stats.sha256, createHash("sha256").update(body).digest("hex"));
  });

  it("written into a ring the caller empties chunk by chunk, makes the same bytes, count and SHA-256 with no Buffer of its own", () => {
    const id = identity({ targetBytes: 3 * BYTES_PER_MB + 12_345 });
    const plain = renderFile(id);
    const expected = Buffer.concat([...plain.chunks]);
    const ring = Buffer.alloc(300 * 1024);
    const ringed = renderFile(id, { ring });
    const copies: Buffer[] = [];
    for (const chunk of ringed.chunks) {
      assert.equal(chunk.buffer, ring.buffer, "every chunk lies in the ring");
      copies.push(Buffer.from(chunk));
    }
    assert.ok(copies.length > 10, "the ring was filled over and over");
    assert.ok(Buffer.concat(copies).equals(expected));
    assert.deepEqual(ringed.stats, plain.stats);
  });

  it("writes one valid JSON object per line with every field of the original schema, in order", () => {
    for (const record of records(render(identity()))) {
      assert.deepEqual(Object.keys(record), FIELDS);
      const custom = record.custom_data as Record<string, unknown>;
      assert.deepEqual(Object.keys(custom), ["experiment_id", "variant", "feature_flags"]);
      assert.match(record.id as string, /^evt_20251223143052_\d{11}$/);
      assert.match(record.session_id as string, /^[0-9a-f]{32}$/);
      assert.match(record.ip_address as string, /^(\d{1,3}\.){3}\d{1,3}$/);
      assert.match(record.user_id as string, /^user_\d+$/);
      assert.equal(typeof record.duration_seconds, "number");
      assert.equal(typeof record.revenue, "number");
    }
  });

  it("gives every record a unique id across files of a run", () => {
    const ids = new Set<string>();
    for (const fileIndex of [0, 1, 2]) {
      for (const r of records(render(identity({ fileIndex, targetBytes: 200_000 })))) ids.add(r.id as string);
    }
    const total = [0, 1, 2].reduce((n, fileIndex) => n + records(render(identity({ fileIndex, targetBytes: 200_000 }))).length, 0);
    assert.equal(ids.size, total);
  });

  it("keeps values coherent: city in its country near its centre, revenue only on purchases, bounces, timestamps in the day", () => {
    const byCity = new Map(CITIES.map((c) => [c.city, c]));
    const rows = records(render(identity({ targetBytes: 2 * BYTES_PER_MB })));
    const eventTypes = new Set<string>();
    for (const r of rows) {
      const city = byCity.get(r.city as string);
      assert.ok(city, `known city ${r.city}`);
      assert.equal(r.country, city.country);
      assert.ok(Math.abs((r.latitude as number) - city.lat) < 0.5 && Math.abs((r.longitude as number) - city.lon) < 0.5, `${r.city} coordinates`);
      assert.ok((r.timestamp as string).startsWith("2025-12-23T") && (r.timestamp as string).endsWith("Z"));
      assert.ok(!Number.isNaN(Date.parse(r.timestamp as string)));
      if (r.event_type === "purchase") assert.ok((r.revenue as number) > 0 && r.conversion === true);
      else assert.equal(r.revenue, 0);
      if (r.conversion) assert.ok(r.event_type === "purchase" || r.event_type === "signup");
      if (r.bounce) {
        assert.equal(r.items_viewed, 1);
        assert.equal(r.conversion, false);
        assert.ok((r.duration_seconds as number) <= 15);
      }
      if (r.device_type === "desktop") assert.ok(["Windows", "macOS", "Linux"].includes(r.os as string));
      else assert.ok(["iOS", "Android"].includes(r.os as string));
      assert.ok((r.user_agent as string).includes(r.os === "macOS" ? "Mac OS X" : r.os === "iOS" ? "like Mac OS X" : (r.os as string)));
      if (r.utm_medium === "none") assert.equal(r.referrer, "");
      eventTypes.add(r.event_type as string);
    }
    assert.ok(eventTypes.size >= 6, `varied event types: ${[...eventTypes].join(", ")}`);
  });
});

describe("a run on the worker pool", () => {
  let dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    dirs = [];
  });

  async function runWith(threads: number): Promise<Map<string, string>> {
    const dir = await mkdtemp(join(tmpdir(), "synthgen-gen-"));
    dirs.push(dir);
    const request = parseGenerateRequest({ file_count: 6, target_size_mb: 0.5, seed: 7, run_id: "threads", date_prefix: "2025-12-23" }, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() });
    const pool = createFilePool(threads);
    try {
      const outcome = await executeRun(planRun(request, ""), { kind: "local", dir }, pool);
      assert.equal(outcome.failures.length, 0);
    } finally {
      await pool.close();
    }
    const hashes = new Map<string, string>();
    for (const name of (await readdir(dir)).sort()) {
      hashes.set(
        name,
        createHash("sha256")
          .update(await readFile(join(dir, name)))
          .digest("hex"),
      );
    }
    return hashes;
  }

  it("writes byte-identical files with 1 and 2 threads", async () => {
    const one = await runWith(1);
    const two = await runWith(2);
    assert.equal(one.size, 6);
    assert.deepEqual(two, one);
  });
});

describe("what a main thread loads", () => {
  it("never loads faker or the YAML parser for built-in datasets (handlers, CLI paths)", async () => {
    const { execFile } = await import("node:child_process");
    const { join } = await import("node:path");
    const dist = join(__dirname, "..");
    const script = `
      for (const m of ["src/files/generate", "src/files/fan-out-actions", "src/events/emit", "src/metrics/index-run", "src/files/request"]) require(${JSON.stringify(dist)} + "/" + m);
      const heavy = Object.keys(require.cache).filter((k) => /@faker-js|[\\\\/]yaml[\\\\/]/.test(k));
      process.stdout.write(JSON.stringify(heavy));`;
    const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ["-e", script], (err, stdout) => (err ? reject(err) : resolve(stdout))));
    assert.deepEqual(JSON.parse(out), []);
  });

  /** The modules a CLI command loads, by package, as `require.cache` shows them at exit. */
  async function loadedBy(args: string[]): Promise<string[]> {
    const { execFile } = await import("node:child_process");
    const { join } = await import("node:path");
    const { mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const cwd = await mkdtemp(join(tmpdir(), "synthgen-loads-"));
    const hook = `process.on("exit", () => process.stderr.write("LOADED " + JSON.stringify(Object.keys(require.cache)) + "\\n"));`;
    const stderr = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        ["-e", `${hook} process.argv.splice(1, 0, "synthgen"); require(${JSON.stringify(join(__dirname, "..", "cli", "synthgen.js"))});`, "--", ...args],
        { cwd },
        (_err, _out, err) => resolve(err),
      ),
    );
    const line = stderr.split("\n").find((l) => l.startsWith("LOADED "));
    return JSON.parse(line!.slice(7)) as string[];
  }
  const packagesIn = (files: string[]) => [...new Set(files.flatMap((f) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f)?.[1] ?? []))].sort();

  it("`synthgen --help` loads no command's dependencies: no AWS SDK, no Elasticsearch client, no pool, no faker", async () => {
    const packages = packagesIn(await loadedBy(["--help"]));
    assert.deepEqual(packages, ["commander"]);
  });

  it("a local `synthgen generate` never loads the S3 SDK, the Kinesis or the Elasticsearch client, nor faker for web-events (its pools are stored)", async () => {
    const files = await loadedBy(["generate", "--files", "1", "--size-mb", "0.01", "--out", "out"]);
    assert.ok(
      files.some((f) => /datasets[\\/]web-events\.js$/.test(f)),
      "the run wrote web-events in this thread",
    );
    const packages = packagesIn(files);
    assert.ok(!packages.includes("@faker-js/faker"), packages.join(", "));
    assert.ok(!packages.some((p) => p.startsWith("@aws-sdk") || p.startsWith("@elastic") || p === "@smithy/node-http-handler"), packages.join(", "));
    assert.ok(!packages.includes("piscina"), `a 0.01 MiB run is one thread, run without a worker pool: ${packages.join(", ")}`);
  });

  it("with more than one thread, records are made in the workers: the main thread loads the pool, not the dataset or faker", async () => {
    const files = await loadedBy(["generate", "--files", "2", "--size-mb", "0.01", "--threads", "2", "--out", "out"]);
    const packages = packagesIn(files);
    assert.ok(packages.includes("piscina"), packages.join(", "));
    assert.ok(!packages.includes("@faker-js/faker"), packages.join(", "));
    assert.ok(!files.some((f) => /datasets[\\/]web-events\.js$/.test(f)), "web-events is loaded in the workers only");
  });
});
