import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONSERVATIVE_MIB_PER_S_PER_VCPU, conservativeRate } from "../src/files/capacity";
import { vcpusFor } from "../src/core/vcpus";
import { layoutByCount, layoutByTime, manifestKey, runShard, shardRange, writeManifest, SHARD_TIME_SHARE } from "../src/files/fan-out";
import { fanOutAction, type FanOutDeps } from "../src/files/fan-out-actions";
import { generate } from "../src/files/generate";
import { storedScenarioLoader } from "../src/catalog/resolve";
import { ValidationError } from "../src/core/errors";
import { BYTES_PER_MB } from "../src/core/limits";
import { planRun } from "../src/files/plan";
import { createFilePool, type FilePool } from "../src/files/pool";
import { parseGenerateRequest } from "../src/files/request";

const defaults = { fileCount: 10, targetSizeMb: 3.5 };
const now = { now: new Date("2025-12-23T12:00:00Z") };

describe("fan-out: shard layout", () => {
  for (const memoryMb of [512, 1769, 3538, 10_240]) {
    it(`at ${memoryMb} MB, sizes shards to finish within ${SHARD_TIME_SHARE * 100}% of a 900 s timeout at the conservative rate`, () => {
      const targetBytes = 3.5 * BYTES_PER_MB;
      const layout = layoutByTime(10_000, targetBytes, memoryMb, 900, 6);
      const seconds = (layout.filesPerShard * 3.5) / (CONSERVATIVE_MIB_PER_S_PER_VCPU * vcpusFor(memoryMb, 6));
      assert.ok(seconds <= 900 * SHARD_TIME_SHARE, `${layout.filesPerShard} files take ${seconds} s`);
      // One more file per shard would not fit: shards are as large as the budget allows (or hold the whole run).
      if (layout.filesPerShard < 10_000) assert.ok(((layout.filesPerShard + 1) * 3.5) / (CONSERVATIVE_MIB_PER_S_PER_VCPU * vcpusFor(memoryMb, 6)) > 900 * SHARD_TIME_SHARE);
    });
  }

  it("sizes shards by the format's own rate: Parquet shards hold as many files as Parquet's rate allows", () => {
    const ndjson = layoutByTime(10_000, 3.5 * BYTES_PER_MB, 1769, 900, 6);
    const parquet = layoutByTime(10_000, 3.5 * BYTES_PER_MB, 1769, 900, 6, 1, { format: "parquet" });
    assert.equal(parquet.filesPerShard, Math.floor((900 * SHARD_TIME_SHARE * conservativeRate("parquet")) / 3.5));
    assert.ok(parquet.filesPerShard < ndjson.filesPerShard / 10, `${parquet.filesPerShard} against ${ndjson.filesPerShard}`);
    assert.throws(() => layoutByTime(1, 1024 * BYTES_PER_MB, 512, 900, 6, 1, { format: "parquet" }), /one 1024 MiB parquet file needs about \d+ s at 512 MB/);
    const gzip = layoutByTime(10_000, 3.5 * BYTES_PER_MB, 1769, 900, 6, 1, { format: "parquet", parquetCodec: "gzip" });
    assert.equal(gzip.filesPerShard, Math.floor((900 * SHARD_TIME_SHARE * conservativeRate("parquet", "gzip")) / 3.5));
    assert.ok(gzip.filesPerShard < parquet.filesPerShard);
  });

  it("makes at least as many shards as the fan-out runs at once, so no slot idles", () => {
    const layout = layoutByTime(10_000, 3.5 * BYTES_PER_MB, 512, 300, 2, 50);
    assert.deepEqual([layout.filesPerShard, layout.shardCount], [200, 50]);
    const small = layoutByTime(30, 3.5 * BYTES_PER_MB, 512, 300, 2, 50);
    assert.deepEqual([small.filesPerShard, small.shardCount], [1, 30]);
  });

  it("covers every file index exactly once with contiguous ranges", () => {
    for (const [files, shards] of [
      [10_000, 37],
      [7, 7],
      [7, 3],
      [1, 1],
      [100, 200],
    ] as const) {
      const layout = layoutByCount(files, shards);
      const seen: number[] = [];
      for (let k = 0; k < layout.shardCount; k++) {
        const { first, end } = shardRange(layout, files, k);
        assert.ok(end > first);
        for (let i = first; i < end; i++) seen.push(i);
      }
      assert.deepEqual(
        seen,
        Array.from({ length: files }, (_, i) => i),
      );
    }
  });

  it("refuses a file too large for one shard's time, naming target_size_mb", () => {
    assert.throws(
      () => layoutByTime(10, 1024 * BYTES_PER_MB, 512, 60, 2),
      (err: Error & { field?: string }) => {
        assert.equal(err.field, "target_size_mb");
        assert.match(err.message, /one 1024 MiB ndjson file needs about 177 s at 512 MB/);
        return true;
      },
    );
  });
});

describe("fan-out: sharded runs against a local folder", () => {
  let pool: FilePool;
  let dir: string;
  before(async () => {
    pool = createFilePool(2);
    dir = await mkdtemp(join(tmpdir(), "synthgen-fanout-"));
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  const event = { file_count: 23, target_size_mb: 0.05, run_id: "fan-run", seed: 3, date_prefix: "2025-12-23" };
  const plan = () => planRun(parseGenerateRequest(event, defaults, now), "");

  it("writes files byte-identical to a single run's, and a manifest of every file", async () => {
    const single = join(dir, "single");
    const sharded = join(dir, "sharded");
    await generate(event, { defaults, configuredPrefix: "", sink: { kind: "local", dir: single }, pool, context: now });
    const layout = layoutByCount(23, 5);
    for (let k = 0; k < layout.shardCount; k++) await runShard(plan(), layout, k, { kind: "local", dir: sharded }, pool);
    const manifest = await writeManifest(plan(), layout, { kind: "local", dir: sharded });
    assert.equal(manifest.status, "completed");
    const names = (await readdir(single)).sort();
    assert.equal(names.length, 23);
    for (const name of names) assert.ok((await readFile(join(single, name))).equals(await readFile(join(sharded, name))), name);
    const doc = JSON.parse(await readFile(join(sharded, manifestKey(plan())), "utf8")) as Record<string, any>;
    assert.deepEqual([doc.run_id, doc.dataset, doc.seed, doc.shard_count, doc.files.length, doc.totals.files], ["fan-run", "web-events", 3, 5, 23, 23]);
    assert.deepEqual(doc.files.map((f: { key: string }) => f.key).sort(), names);
    assert.ok(doc.shards.every((s: { duration_ms: number }) => s.duration_ms >= 0));
  });

  it("writes a failed manifest naming the missing shards, and no manifest, when a shard did not finish", async () => {
    const out = join(dir, "partial");
    const layout = layoutByCount(23, 5);
    for (const k of [0, 1, 3]) await runShard(plan(), layout, k, { kind: "local", dir: out }, pool);
    const manifest = await writeManifest(plan(), layout, { kind: "local", dir: out });
    assert.deepEqual([manifest.status, manifest.missingShards], ["failed", [2, 4]]);
    const failed = JSON.parse(await readFile(join(out, "_manifests/fan-run.failed.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(failed.missing_shards, [2, 4]);
    await assert.rejects(readFile(join(out, "_manifests/fan-run.json")));
  });

  it("resumes: a second run regenerates only the deleted files, skips a corrupted one no more, and replaces the failed manifest", async () => {
    const out = join(dir, "resume");
    const layout = layoutByCount(23, 4);
    for (let k = 0; k < layout.shardCount; k++) await runShard(plan(), layout, k, { kind: "local", dir: out }, pool);
    const files = (await readdir(out)).filter((n) => n.endsWith(".ndjson")).sort();
    await rm(join(out, files[2]!));
    await rm(join(out, files[17]!));
    await writeFile(join(out, files[9]!), "not the file\n");
    await writeFile(join(out, "_manifests/fan-run.failed.json"), "{}");
    let written = 0;
    let skipped = 0;
    for (let k = 0; k < layout.shardCount; k++) {
      const outcome = await runShard(plan(), layout, k, { kind: "local", dir: out }, pool);
      written += outcome.written.filter((f) => !f.skipped).length;
      skipped += outcome.written.filter((f) => f.skipped).length;
    }
    assert.deepEqual([written, skipped], [3, 20]);
    const manifest = await writeManifest(plan(), layout, { kind: "local", dir: out });
    assert.equal(manifest.status, "completed");
    await assert.rejects(readFile(join(out, "_manifests/fan-run.failed.json")));
  });
});

describe("fan-out: the steps of a whole scenario, against a local folder", () => {
  const SCENARIO = `
name: tiny-shop
datasets:
  users:
    count: 3000
    fields:
      user_id: { sequence: {} }
      bio: { faker: lorem.paragraph }
  orders:
    parent: users
    per_parent: { distribution: uniform, min: 1, max: 3 }
    fields:
      order_id: { sequence: {} }
      user_id: { ref: users.user_id }
`;
  let pool: FilePool;
  let dir: string;
  let deps: FanOutDeps;
  const request = { scenario: "tiny-shop", target_size_mb: 0.1, run_id: "tiny", date_prefix: "2025-12-23" };
  before(async () => {
    pool = createFilePool(2);
    dir = await mkdtemp(join(tmpdir(), "synthgen-fanout-scenario-"));
    const sink = { kind: "local" as const, dir };
    await mkdir(join(dir, "_datasets"), { recursive: true });
    await writeFile(join(dir, "_datasets", "tiny-shop.yaml"), SCENARIO);
    await writeFile(join(dir, "_datasets", "readings.yaml"), "name: readings\nfields:\n  v: { number: {} }\n");
    deps = { defaults, configuredPrefix: "", sink, pool, context: now, memoryMb: 1769, cores: 2, remainingMs: () => 900_000, concurrency: 4, loadScenario: storedScenarioLoader(sink, "") };
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("plans each dataset by its own file size, numbers their shards one after another, and fixes the run's identity", async () => {
    const plan = (await fanOutAction({ action: "plan", request }, deps)) as Record<string, any>;
    assert.deepEqual(
      plan.datasets.map((d: { dataset: string }) => d.dataset),
      ["users", "orders"],
    );
    assert.equal(plan.shard_count, plan.datasets[0].shard_count + plan.datasets[1].shard_count);
    assert.deepEqual(
      plan.datasets.map((d: { first_shard: number }) => d.first_shard),
      [0, plan.datasets[0].shard_count],
    );
    assert.deepEqual(
      plan.shards,
      Array.from({ length: plan.shard_count }, (_, k) => k),
    );
    assert.equal(plan.files_per_shard.length, 2);
    for (const [i, d] of plan.datasets.entries()) assert.equal(d.shard_count, Math.ceil(d.files / plan.files_per_shard[i]), d.dataset);
    // Slots are shared by work: together about the fan-out's concurrency, each dataset at least one.
    assert.ok(plan.shard_count >= deps.concurrency && plan.shard_count <= deps.concurrency + 2, `${plan.shard_count} shards`);
    assert.equal(plan.request.run_id, "tiny");
    assert.match(plan.request.time, /^2025-12-23T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(plan.request.scenario, "tiny-shop");
  });

  it("writes every shard and one manifest whose totals add up, each dataset's files under {dataset}/", async () => {
    const plan = (await fanOutAction({ action: "plan", request }, deps)) as Record<string, any>;
    const step = { request: plan.request, files_per_shard: plan.files_per_shard, shard_count: plan.shard_count };
    for (const shard of plan.shards) {
      const body = (await fanOutAction({ action: "shard", shard, ...step }, deps)) as Record<string, any>;
      assert.equal(body.dataset, shard < plan.datasets[1].first_shard ? "users" : "orders");
    }
    const done = (await fanOutAction({ action: "manifest", ...step }, deps)) as Record<string, any>;
    assert.deepEqual([done.status, done.manifest_key], ["completed", "_manifests/tiny.json"]);
    const manifest = JSON.parse(await readFile(join(dir, "_manifests", "tiny.json"), "utf8"));
    assert.equal(manifest.datasets.users.totals.records, 3000);
    assert.equal(manifest.totals.records, manifest.datasets.users.totals.records + manifest.datasets.orders.totals.records);
    for (const name of ["users", "orders"]) {
      const files = (await readdir(join(dir, name))).sort();
      assert.deepEqual(
        manifest.datasets[name].files.map((f: { key: string }) => f.key).sort(),
        files.map((f) => `${name}/${f}`),
      );
    }
  });

  it("refuses, naming the field, what a scenario decides or a step that does not match its plan", async () => {
    const plan = (await fanOutAction({ action: "plan", request }, deps)) as Record<string, any>;
    const step = { action: "shard", request: plan.request, shard: 0, files_per_shard: plan.files_per_shard, shard_count: plan.shard_count };
    const refuses = (event: Record<string, unknown>, field: string, message: RegExp) =>
      assert.rejects(
        () => fanOutAction(event, deps),
        (err) => err instanceof ValidationError && err.field === field && message.test(err.message),
      );
    await refuses({ action: "plan", request: { ...request, file_count: 3 } }, "file_count", /file_count does not apply to a scenario/);
    await refuses({ action: "plan", request: { ...request, dataset: "users" } }, "dataset", /the scenario names its datasets/);
    await refuses({ action: "plan", request: { ...request, date_from: "2025-12-01" } }, "date_to", /a backfill needs both date_from and date_to/);
    await refuses({ action: "plan", request: { ...request, scenario: "nope" } }, "scenario", /scenario "nope" is not stored under _datasets\/ \(stored: readings, tiny-shop\)/);
    await refuses({ action: "plan", request: { ...request, scenario: "readings" } }, "scenario", /_datasets\/readings.yaml is a dataset schema, not a scenario: give it as dataset "readings"/);
    await refuses({ action: "plan", request: { ...request, scenario: "../x" } }, "scenario", /scenario must be the name of a scenario stored under _datasets\//);
    await refuses({ action: "plan", request: { ...request, scenario: 7 } }, "scenario", /scenario must be the name of a stored scenario \(got 7\)/);
    await refuses({ ...step, files_per_shard: plan.files_per_shard[0] }, "files_per_shard", /must list 2 whole numbers, one per dataset of scenario tiny-shop \(users, orders\)/);
    await refuses({ ...step, files_per_shard: [0, 1] }, "files_per_shard", /files_per_shard\[0\] \(users\) must be a whole number from 1 to/);
    await refuses({ ...step, shard_count: plan.shard_count + 1 }, "shard_count", new RegExp(`the datasets' shards added up, ${plan.shard_count}`));
    await refuses({ ...step, shard: plan.shard_count }, "shard", /shard must be/);
    await assert.rejects(
      () => fanOutAction({ action: "plan", request }, { ...deps, loadScenario: undefined }),
      (err) => err instanceof ValidationError && err.field === "scenario",
    );
    // A shard too slow for this memory and time is refused naming the dataset it belongs to.
    await assert.rejects(
      () => fanOutAction({ action: "plan", request }, { ...deps, memoryMb: 128, remainingMs: () => 100 }),
      (err) => err instanceof ValidationError && err.field === "target_size_mb" && /^dataset users of scenario tiny-shop: one 0\.1 MiB ndjson file needs about \d+ s at 128 MB/.test(err.message),
    );
  });

  it("pins the scenario's text for the run: a scenario changed after the plan fails the shard, and a failed run is not resumed against another text", async () => {
    const file = join(dir, "_datasets", "tiny-shop.yaml");
    const changed = SCENARIO.replace("count: 3000", "count: 3001");
    const planOf = async (runId: string) => (await fanOutAction({ action: "plan", request: { ...request, run_id: runId } }, deps)) as Record<string, any>;
    const plan = await planOf("pinned");
    assert.match(plan.request.scenario_sha256, /^[0-9a-f]{64}$/);
    const step = { request: plan.request, files_per_shard: plan.files_per_shard, shard_count: plan.shard_count };
    const refused = (field: string, message: RegExp) => (err: unknown) => err instanceof ValidationError && err.field === field && message.test(err.message);
    try {
      await writeFile(file, changed);
      await assert.rejects(() => fanOutAction({ action: "shard", shard: 0, ...step }, deps), refused("scenario_sha256", /the stored scenario tiny-shop changed since this run was planned/));
      await writeFile(file, SCENARIO);
      // A run whose last shard never ran: its failed manifest names the text it was run from.
      for (const shard of plan.shards.slice(0, -1)) await fanOutAction({ action: "shard", shard, ...step }, deps);
      const done = (await fanOutAction({ action: "manifest", ...step }, deps)) as Record<string, any>;
      assert.deepEqual([done.status, done.missing_shards], ["failed", [plan.shard_count - 1]]);
      const failed = JSON.parse(await readFile(join(dir, "_manifests", "pinned.failed.json"), "utf8"));
      assert.equal(failed.scenario_sha256, plan.request.scenario_sha256);
      await writeFile(file, changed);
      await assert.rejects(() => planOf("pinned"), refused("scenario", /run pinned failed with another text of scenario tiny-shop/));
      assert.ok((await planOf("another-run")).request.scenario_sha256 !== plan.request.scenario_sha256, "a new run plans the new text");
    } finally {
      await writeFile(file, SCENARIO);
    }
    assert.equal((await planOf("pinned")).request.scenario_sha256, plan.request.scenario_sha256, "with the planned text back, the run resumes");
    await assert.rejects(() => fanOutAction({ action: "plan", request: { ...request, scenario_sha256: "abc" } }, deps), refused("scenario_sha256", /must be 64 lowercase hex digits/));
  });

  it("one invocation writes one dataset: a whole scenario outside the fan-out is refused, naming scenario", async () => {
    await assert.rejects(
      () => generate({ scenario: "tiny-shop" }, { ...deps, loadDataset: undefined }),
      (err) => err instanceof ValidationError && err.field === "scenario" && /runs through the fan-out state machine/.test(err.message),
    );
  });
  it("a scenario's backfill (date_from, date_to): each dataset's files per day under dt=DAY/, one manifest; each record in its partition's day", async () => {
    const file = join(dir, "_datasets", "timed-shop.yaml");
    await writeFile(
      file,
      SCENARIO.replace("name: tiny-shop", "name: timed-shop")
        .replace("      bio: { faker: lorem.paragraph }", "      signup_at: { timestamp: iso }")
        .replace("      user_id: { ref: users.user_id }", "      user_id: { ref: users.user_id }\n      placed_at: { timestamp: { after: users.signup_at, within: 1d } }"),
    );
    try {
      const backfill = { scenario: "timed-shop", target_size_mb: 0.1, run_id: "timed", date_from: "2025-12-21", date_to: "2025-12-23" };
      const plan = (await fanOutAction({ action: "plan", request: backfill }, deps)) as Record<string, any>;
      assert.deepEqual([plan.request.date_from, plan.request.date_to, plan.request.date_prefix], ["2025-12-21", "2025-12-23", undefined]);
      for (const d of plan.datasets) assert.equal(d.files % 3, 0, `${d.dataset}: ${d.files} files, the same number each day`);
      const step = { request: plan.request, files_per_shard: plan.files_per_shard, shard_count: plan.shard_count };
      for (const shard of plan.shards) await fanOutAction({ action: "shard", shard, ...step }, deps);
      const done = (await fanOutAction({ action: "manifest", ...step }, deps)) as Record<string, any>;
      assert.equal(done.status, "completed");
      const manifest = JSON.parse(await readFile(join(dir, "_manifests", "timed.json"), "utf8"));
      assert.equal(manifest.datasets.users.totals.records, 3000);
      for (const name of ["users", "orders"]) {
        assert.deepEqual((await readdir(join(dir, name))).filter((f) => f.startsWith("dt=")).sort(), ["dt=2025-12-21", "dt=2025-12-22", "dt=2025-12-23"]);
        for (const f of manifest.datasets[name].files as { key: string }[]) {
          const day = /dt=(\d{4}-\d{2}-\d{2})\//.exec(f.key)?.[1];
          const text = await readFile(join(dir, f.key), "utf8");
          for (const line of text.split("\n").filter(Boolean)) {
            const r = JSON.parse(line) as Record<string, string>;
            assert.equal((r.placed_at ?? r.signup_at)!.slice(0, 10), day, f.key);
          }
        }
      }
    } finally {
      await rm(file);
    }
  });
});
