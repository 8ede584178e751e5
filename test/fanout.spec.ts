import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONSERVATIVE_MIB_PER_S_PER_VCPU, conservativeRate } from "../src/files/capacity";
import { vcpusFor } from "../src/core/vcpus";
import { layoutByCount, layoutByTime, manifestKey, runShard, shardRange, writeManifest, SHARD_TIME_SHARE } from "../src/files/fan-out";
import { generate } from "../src/files/generate";
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
