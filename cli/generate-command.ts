import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { threadsForVolume } from "../src/files/capacity";
import { CapacityError, ValidationError } from "../src/core/errors";
import { isHttpUrl } from "../src/core/fields";
import { generate } from "../src/files/generate";
import { layoutByCount, runShard, writeManifest } from "../src/files/fan-out";
import { LIMITS } from "../src/core/limits";
import { planRun, type RunPlan } from "../src/files/plan";
import { createFilePool, type FilePool } from "../src/files/pool";
import { normaliseKeyPrefix, parseGenerateRequest } from "../src/files/request";
import { sinkLocation, type SinkSpec } from "../src/sinks";
import { resolveDataset, fileDatasetLoader } from "../src/catalog/resolve";
import { badInput, crashed, eventFrom, finish, numeric, parsePairs } from "./common";
import { progressBar } from "./progress";
import { preflight, settleAbandoned, trapInterrupts, type Interruption } from "./run-guard";

/** `synthgen generate` flags, as commander hands them over (strings until validated). */
export interface GenerateFlags {
  files?: string;
  sizeMb?: string;
  date?: string;
  dataset?: string;
  seed?: string;
  runId?: string;
  keyPrefix?: string;
  threads?: string;
  out: string;
  endpoint?: string;
  shards?: string;
  from?: string;
  to?: string;
  partition?: string;
  dailyCurve?: boolean;
  format?: string;
  parquetCodec?: string;
  dirty?: string;
  ignoreFreeSpace?: boolean;
  scenario?: string;
}

/** Which flag carries each event field, so CLI errors name what the user typed. */
export const FLAG_FOR_FIELD: Record<string, string> = {
  file_count: "--files",
  target_size_mb: "--size-mb",
  date_prefix: "--date",
  dataset: "--dataset",
  seed: "--seed",
  run_id: "--run-id",
  key_prefix: "--key-prefix",
  date_from: "--from",
  date_to: "--to",
  partition: "--partition",
  daily_curve: "--daily-curve",
  dirty: "--dirty",
  format: "--format",
  parquet_codec: "--parquet-codec",
};

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `--out`: `s3://bucket/prefix` or a local folder. Returns the sink and the prefix it implies. */
export function parseDestination(out: string, endpoint: string | undefined): { sink: SinkSpec; prefix: string } {
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    throw new ValidationError("--endpoint", `--endpoint must be an http:// or https:// URL (got "${endpoint}")`);
  }
  const m = /^s3:\/\/([^/]*)\/?(.*)$/.exec(out);
  if (!m) {
    if (endpoint !== undefined) throw new ValidationError("--endpoint", "--endpoint needs an s3:// destination in --out");
    return { sink: { kind: "local", dir: resolve(out) }, prefix: "" };
  }
  const bucket = m[1] ?? "";
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new ValidationError("--out", `--out must name an S3 bucket of 3 to 63 lowercase letters, digits, "." or "-" (got "${bucket}")`);
  }
  return {
    sink: { kind: "s3", bucket, ...(endpoint ? { endpoint } : {}) },
    prefix: normaliseKeyPrefix("--out", m[2] ?? ""),
  };
}

/** `--threads`, or by default as many as the planned volume pays for (see MIB_PER_THREAD). */
export function parseThreads(text: string | undefined, plannedMib: number): number {
  const cores = availableParallelism();
  if (text === undefined) return threadsForVolume(plannedMib, cores);
  const n = numeric(text);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 64) {
    throw new ValidationError("--threads", `--threads must be a whole number from 1 to 64 (got "${text}")`);
  }
  return n;
}

/** The run's volume as far as the flags tell it, for the default thread count only (the request is validated later). */
function plannedMib(event: { file_count?: unknown; target_size_mb?: unknown; date_from?: unknown; date_to?: unknown }): number {
  const files = typeof event.file_count === "number" ? event.file_count : 10;
  const size = typeof event.target_size_mb === "number" ? event.target_size_mb : 3.5;
  const from = typeof event.date_from === "string" ? Date.parse(event.date_from) : NaN;
  const to = typeof event.date_to === "string" ? Date.parse(event.date_to) : NaN;
  const days = Number.isFinite(from) && Number.isFinite(to) && to >= from ? Math.min(366, (to - from) / 86_400_000 + 1) : 1;
  return files * size * days;
}

export function parseShards(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = numeric(text);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > LIMITS.MAX_FILE_COUNT) {
    throw new ValidationError("--shards", `--shards must be a whole number from 1 to ${LIMITS.MAX_FILE_COUNT} (got "${text}")`);
  }
  return n;
}

/** What running a plan's shards one after another did. */
export interface ShardedOutcome {
  readonly layout: ReturnType<typeof layoutByCount>;
  readonly written: number;
  readonly skipped: number;
  readonly failed: number;
  /** Set when Ctrl-C or SIGTERM stopped it (files in progress abandoned and settled). */
  readonly stop?: Interruption;
  /** The run manifest, unless interrupted. */
  readonly manifest?: Awaited<ReturnType<typeof writeManifest>>;
  readonly durationMs: number;
}

/**
 * The fan-out's code path run locally: the same shards, shard results and manifest the state
 * machine produces, shards one after another. Files already there are skipped (resume).
 */
export async function executeSharded(
  plan: RunPlan,
  shards: number,
  sink: SinkSpec,
  pool: FilePool,
  progress: ReturnType<typeof progressBar>,
  interrupted: () => Interruption | undefined,
): Promise<ShardedOutcome> {
  const layout = layoutByCount(plan.files.length, shards);
  let written = 0;
  let skipped = 0;
  let failed = 0;
  const abandoned: string[] = [];
  const started = performance.now();
  for (let k = 0; k < layout.shardCount && !interrupted(); k++) {
    const outcome = await runShard(plan, layout, k, sink, pool, (r) => progress.onFileDone(r));
    written += outcome.written.filter((f) => !f.skipped).length;
    skipped += outcome.written.filter((f) => f.skipped).length;
    failed += outcome.failures.length;
    abandoned.push(...outcome.failures.map((f) => f.key));
  }
  const stop = interrupted();
  if (stop) {
    progress.stop();
    written += await settleAbandoned(sink, abandoned);
    return { layout, written, skipped, failed, stop, durationMs: Math.round(performance.now() - started) };
  }
  const manifest = await writeManifest(plan, layout, sink);
  progress.stop();
  return { layout, written, skipped, failed, manifest, durationMs: Math.round(performance.now() - started) };
}

/** `--shards N` for one dataset: plan, pre-flight, shards, manifest; prints the summary. */
async function runSharded(
  event: Record<string, unknown>,
  shards: number,
  destination: ReturnType<typeof parseDestination>,
  pool: FilePool,
  flags: GenerateFlags,
  interrupted: () => Interruption | undefined,
): Promise<number> {
  let plan;
  try {
    const custom = await resolveDataset(event, fileDatasetLoader);
    plan = planRun(parseGenerateRequest(event, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }, custom), destination.prefix);
    await preflight(plan, destination.sink, { ignoreFreeSpace: flags.ignoreFreeSpace === true });
  } catch (err) {
    return badInput(err, FLAG_FOR_FIELD);
  }
  const progress = progressBar(plan.files.length);
  try {
    const outcome = await executeSharded(plan, shards, destination.sink, pool, progress, interrupted);
    const { layout, written, skipped, failed, stop, manifest } = outcome;
    if (stop || !manifest) {
      process.stdout.write(`${JSON.stringify({ status: "interrupted", signal: stop?.signal, run_id: plan.request.runId, total_files: plan.files.length, written, skipped, not_written: plan.files.length - written - skipped }, null, 2)}\n`);
      process.stderr.write(`synthgen: interrupted; run again with --run-id ${plan.request.runId} --shards ${shards} to resume\n`);
      return stop?.exitCode ?? 1;
    }
    const location = sinkLocation(destination.sink);
    return finish(
      {
        status: manifest.status,
        run_id: plan.request.runId,
        dataset: plan.request.dataset,
        seed: plan.request.seed,
        shard_count: layout.shardCount,
        files_per_shard: layout.filesPerShard,
        total_files: plan.files.length,
        written,
        skipped,
        failed,
        missing_shards: manifest.missingShards,
        manifest: location.uri(manifest.key),
        totals: manifest.totals,
        duration_ms: outcome.durationMs,
      },
      `${failed} files failed; shards ${manifest.missingShards.join(", ")} are missing (run again with --run-id ${plan.request.runId} to resume)`,
    );
  } catch (err) {
    progress.stop();
    return crashed(err);
  }
}

/**
 * Runs `synthgen generate`: the same request validation, plan and worker code as the Lambda
 * function. Prints the function's response body on stdout; returns the exit code.
 */
export async function runGenerateCommand(flags: GenerateFlags): Promise<number> {
  if (flags.scenario !== undefined) {
    const { runScenarioGenerate } = require("./generate-scenario") as typeof import("./generate-scenario");
    return runScenarioGenerate({ ...flags, scenario: flags.scenario });
  }
  const event = eventFrom({
    file_count: numeric(flags.files),
    target_size_mb: numeric(flags.sizeMb),
    date_prefix: flags.date,
    dataset: flags.dataset,
    seed: numeric(flags.seed),
    run_id: flags.runId,
    key_prefix: flags.keyPrefix,
    date_from: flags.from,
    date_to: flags.to,
    partition: flags.partition,
    daily_curve: flags.dailyCurve,
    format: flags.format,
    parquet_codec: flags.parquetCodec,
  });

  let threads: number;
  let destination: ReturnType<typeof parseDestination>;
  let shards: number | undefined;
  try {
    threads = parseThreads(flags.threads, plannedMib(event));
    destination = parseDestination(flags.out, flags.endpoint);
    shards = parseShards(flags.shards);
    const dirty = parsePairs("--dirty", flags.dirty);
    if (dirty) event.dirty = dirty;
  } catch (err) {
    return badInput(err, FLAG_FOR_FIELD);
  }

  const pool = createFilePool(threads, { parquet: event.format === "parquet" });
  // Ctrl-C or SIGTERM: stop the pool (its workers end mid-file), then clean up and report.
  const guard = trapInterrupts(() => pool.close());
  if (shards !== undefined) {
    try {
      return await runSharded(event, shards, destination, pool, flags, guard.interruption);
    } finally {
      guard.dispose();
      await pool.close();
    }
  }
  let progress: ReturnType<typeof progressBar> | undefined;
  try {
    const { outcome, body } = await generate(event, {
      defaults: { fileCount: 10, targetSizeMb: 3.5 },
      configuredPrefix: destination.prefix,
      sink: destination.sink,
      pool,
      context: { now: new Date() },
      loadDataset: fileDatasetLoader,
      beforeRun: async (plan) => {
        await preflight(plan, destination.sink, { ignoreFreeSpace: flags.ignoreFreeSpace === true });
        progress = progressBar(plan.files.length);
      },
      onFileDone: (r) => progress?.onFileDone(r),
    });
    progress?.stop();
    const stop = guard.interruption();
    if (stop) {
      const { errors: _errors, ...summary } = body;
      const written = body.successful + (await settleAbandoned(destination.sink, outcome.failures.map((f) => f.key)));
      const notWritten = body.total_files - written;
      process.stdout.write(`${JSON.stringify({ ...summary, status: "interrupted", signal: stop.signal, successful: written, failed: notWritten, not_written: notWritten }, null, 2)}\n`);
      process.stderr.write(`synthgen: interrupted: ${written} of ${body.total_files} files written; run again with --run-id ${body.run_id} to write the same files\n`);
      return stop.exitCode;
    }
    return finish(body, `${body.failed} of ${body.total_files} files failed; see "errors" above`);
  } catch (err) {
    progress?.stop();
    if (err instanceof ValidationError || err instanceof CapacityError) return badInput(err, FLAG_FOR_FIELD);
    return crashed(err);
  } finally {
    guard.dispose();
    await pool.close();
  }
}
