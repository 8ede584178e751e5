import { rateOf } from "./capacity";
import { vcpusFor } from "../core/vcpus";
import { ValidationError } from "../core/errors";
import { addCounts, type DirtyCounts } from "../records/dirty";
import type { Format, ParquetCodec } from "../formats";
import { BYTES_PER_MB } from "../core/limits";
import type { RunPlan } from "./plan";
import type { FilePool } from "./pool";
import { executeRun, type FileDoneListener, type RunOutcome } from "./run";
import { sinkFor, type SinkSpec } from "../sinks";
import { presentKeys } from "../sinks/sink";
import { mapLimited, READS_IN_FLIGHT } from "../core/map-limited";

/**
 * Fan-out: a run split into shards, contiguous ranges of file indices, each small enough for one
 * invocation. Shard k writes exactly the files a single invocation would write for its indices
 * (file i depends only on the run identity and i), records what it wrote in a shard result, and
 * a last step merges the shard results into the run manifest — or, with a shard missing, into a
 * `failed` manifest naming the shards to run again. Running the same run id again skips files
 * already there (resume).
 */

/** Share of a shard invocation's timeout its files may be expected to take at the conservative rate. */
export const SHARD_TIME_SHARE = 0.6;

export interface ShardLayout {
  readonly shardCount: number;
  readonly filesPerShard: number;
}

/**
 * Lays out shards sized to finish well inside one invocation at this memory and timeout, and at
 * least as many as the fan-out may run at once, so every concurrent slot has work.
 */
export function layoutByTime(
  fileCount: number,
  targetBytes: number,
  memoryMb: number,
  timeoutSeconds: number,
  cores: number,
  concurrency = 1,
  files: { readonly format: Format; readonly parquetCodec?: ParquetCodec | undefined } = { format: "ndjson" },
): ShardLayout {
  const vcpus = vcpusFor(memoryMb, cores);
  const fileMb = targetBytes / BYTES_PER_MB;
  const rate = rateOf(files);
  const budgetMb = timeoutSeconds * SHARD_TIME_SHARE * rate;
  // Files are written in parallel across vCPUs, but one file never gets more than one vCPU.
  if (fileMb > budgetMb * Math.min(1, vcpus)) {
    throw new ValidationError(
      "target_size_mb",
      `one ${Math.round(fileMb * 100) / 100} MiB ${files.format} file needs about ${Math.ceil(fileMb / (rate * Math.min(1, vcpus)))} s at ${memoryMb} MB, more than ${Math.floor(timeoutSeconds * SHARD_TIME_SHARE)} s of a shard's ${timeoutSeconds} s: use smaller files or more memory`,
    );
  }
  const byTime = Math.floor((budgetMb * vcpus) / fileMb);
  const bySlots = Math.ceil(fileCount / concurrency);
  const filesPerShard = Math.max(1, Math.min(fileCount, byTime, bySlots));
  return { filesPerShard, shardCount: Math.ceil(fileCount / filesPerShard) };
}

/** Lays out a given number of shards (the CLI's `--shards`). */
export function layoutByCount(fileCount: number, shards: number): ShardLayout {
  const filesPerShard = Math.ceil(fileCount / Math.min(shards, fileCount));
  return { filesPerShard, shardCount: Math.ceil(fileCount / filesPerShard) };
}

/** The file indices of shard k: [first, end). */
export function shardRange(layout: ShardLayout, fileCount: number, shard: number): { first: number; end: number } {
  if (!Number.isInteger(shard) || shard < 0 || shard >= layout.shardCount) {
    throw new ValidationError("shard", `shard must be a whole number from 0 to ${layout.shardCount - 1} (got ${shard})`);
  }
  return { first: shard * layout.filesPerShard, end: Math.min(fileCount, (shard + 1) * layout.filesPerShard) };
}

export const manifestKey = (plan: RunPlan) => `${plan.keyPrefix}_manifests/${plan.request.runId}.json`;
export const failedManifestKey = (plan: RunPlan) => `${plan.keyPrefix}_manifests/${plan.request.runId}.failed.json`;
export const shardResultKey = (plan: RunPlan, shard: number) => `${plan.keyPrefix}_manifests/${plan.request.runId}/shards/${String(shard).padStart(5, "0")}.json`;

type ShardFile = { index: number; key: string; bytes: number; records: number; sha256: string; uncompressed_bytes?: number; dirty?: DirtyCounts };

export interface ShardResult {
  readonly shard: number;
  readonly first_file: number;
  readonly end_file: number;
  readonly duration_ms: number;
  readonly written: number;
  readonly skipped: number;
  readonly files: readonly ShardFile[];
}

/**
 * Writes the files of shard k (skipping those already there from this run), then its shard
 * result — only when every file of the shard is in, so a shard result always means a whole shard.
 */
export async function runShard(
  plan: RunPlan,
  layout: ShardLayout,
  shard: number,
  sink: SinkSpec,
  pool: FilePool,
  onFileDone?: FileDoneListener,
  resultKey = shardResultKey(plan, shard),
): Promise<RunOutcome> {
  const { first, end } = shardRange(layout, plan.files.length, shard);
  const files = plan.files.slice(first, end);
  // Only keys that exist are read back (a HEAD of a missing key is a 403 on S3, not a 404).
  const present = await presentKeys(
    sinkFor(sink),
    files.map((f) => f.key),
  );
  const outcome = await executeRun({ ...plan, files }, sink, pool, onFileDone, present);
  if (outcome.failures.length === 0) {
    const result: ShardResult = {
      shard,
      first_file: first,
      end_file: end,
      duration_ms: outcome.durationMs,
      written: outcome.written.filter((f) => !f.skipped).length,
      skipped: outcome.written.filter((f) => f.skipped).length,
      files: outcome.written.map((f) => ({
        index: f.index,
        key: f.key,
        bytes: f.bytes,
        records: f.records,
        sha256: f.sha256,
        ...(f.uncompressedBytes !== undefined ? { uncompressed_bytes: f.uncompressedBytes } : {}),
        ...(f.dirty ? { dirty: f.dirty } : {}),
      })),
    };
    await sinkFor(sink).putJson(resultKey, result);
  }
  return outcome;
}

export interface ManifestOutcome {
  readonly status: "completed" | "failed";
  /** Where the manifest (or the failed manifest) was written. */
  readonly key: string;
  readonly missingShards: readonly number[];
  readonly totals: { files: number; bytes: number; records: number; uncompressed_bytes?: number; dirty_records?: DirtyCounts };
}

export type ManifestTotals = ManifestOutcome["totals"];

/** The shard results at `keys` (undefined where one is missing), the missing indices and every file they list. */
export async function readShardResults(sinkSpec: SinkSpec, keys: readonly string[]): Promise<{ results: (ShardResult | undefined)[]; missing: number[]; files: ShardFile[] }> {
  const sink = sinkFor(sinkSpec);
  const present = await presentKeys(sink, keys);
  const results = await mapLimited(keys, READS_IN_FLIGHT, (key) => (present.has(key) ? (sink.getJson(key) as Promise<ShardResult | undefined>) : Promise.resolve(undefined)));
  return { results, missing: results.flatMap((r, k) => (r ? [] : [k])), files: results.flatMap((r) => r?.files ?? []) };
}

/** What the files add up to; uncompressed bytes for a format other than NDJSON, dirty counts for a dirty run. */
export function totalsOf(files: readonly ShardFile[], request: { readonly format: Format; readonly dirty?: unknown }): ManifestTotals {
  return {
    files: files.length,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    records: files.reduce((n, f) => n + f.records, 0),
    ...(request.format !== "ndjson" ? { uncompressed_bytes: files.reduce((n, f) => n + (f.uncompressed_bytes ?? f.bytes), 0) } : {}),
    ...(request.dirty || files.some((f) => f.dirty) ? { dirty_records: files.reduce((t, f) => addCounts(t, f.dirty), {} as DirtyCounts) } : {}),
  };
}

/** The request as the manifest states it. */
export function parametersOf(plan: RunPlan) {
  const { request } = plan;
  return {
    file_count: request.fileCount,
    target_size_mb: request.targetSizeMb,
    key_prefix: plan.keyPrefix,
    ...(request.format !== "ndjson" ? { format: request.format } : {}),
    ...(request.parquetCodec ? { parquet_codec: request.parquetCodec } : {}),
    days: request.days.length,
    ...(request.days.length > 1 ? { date_from: request.days[0], date_to: request.days[request.days.length - 1], partition: request.partition } : {}),
    ...(request.dailyCurve ? { daily_curve: true } : {}),
    ...(request.dirty ? { dirty: request.dirty } : {}),
  };
}

/** Each shard's line in a manifest (every result present). */
export const shardLines = (results: readonly (ShardResult | undefined)[]) =>
  results.map((r) => ({ shard: r!.shard, first_file: r!.first_file, end_file: r!.end_file, duration_ms: r!.duration_ms, written: r!.written, skipped: r!.skipped }));

/**
 * Merges the shard results into `{prefix}_manifests/{run_id}.json` when every shard is in;
 * otherwise writes `{run_id}.failed.json` listing the missing shards, and no manifest.
 */
export async function writeManifest(plan: RunPlan, layout: ShardLayout, sinkSpec: SinkSpec): Promise<ManifestOutcome> {
  const sink = sinkFor(sinkSpec);
  const keys = Array.from({ length: layout.shardCount }, (_, k) => shardResultKey(plan, k));
  const { results, missing, files } = await readShardResults(sinkSpec, keys);
  const totals = totalsOf(files, plan.request);
  const { request } = plan;
  const header = {
    run_id: request.runId,
    dataset: request.dataset,
    seed: request.seed,
    date_prefix: request.datePrefix,
    hhmmss: request.hhmmss,
    parameters: parametersOf(plan),
    shard_count: layout.shardCount,
    files_per_shard: layout.filesPerShard,
  };
  if (missing.length > 0) {
    const key = failedManifestKey(plan);
    await sink.putJson(key, { ...header, status: "failed", missing_shards: missing, files_missing: plan.files.length - files.length });
    return { status: "failed", key, missingShards: missing, totals };
  }
  const key = manifestKey(plan);
  await sink.putJson(key, { ...header, status: "completed", totals, shards: shardLines(results), files });
  await sink.remove(failedManifestKey(plan));
  return { status: "completed", key, missingShards: [], totals };
}
