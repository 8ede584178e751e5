import { CapacityError, ValidationError } from "../src/core/errors";
import { generate } from "../src/files/generate";
import { planRun } from "../src/files/plan";
import { createFilePool, type FilePool } from "../src/files/pool";
import { parseGenerateRequest } from "../src/files/request";
import { sinkLocation } from "../src/sinks";
import { resolveDataset, fileDatasetLoader } from "../src/catalog/resolve";
import { isDatabaseUrl } from "../src/databases/target";
import { badInput, crashed, EXIT, eventFrom, finish, parsePairs } from "./common";
import { FLAG_FOR_FIELD, parseDestination, parseShards, parseThreads, runEventOf, type GenerateFlags } from "./generate-options";
import { progressBar } from "./progress";
import { preflight, settleAbandoned, trapInterrupts, type Interruption } from "./run-guard";
import { executeSharded } from "./sharded-run";

/** The run's volume as far as the flags tell it, for the default thread count only (the request is validated later). */
function plannedMib(event: { file_count?: unknown; target_size_mb?: unknown; date_from?: unknown; date_to?: unknown }): number {
  const files = typeof event.file_count === "number" ? event.file_count : 10;
  const size = typeof event.target_size_mb === "number" ? event.target_size_mb : 3.5;
  const from = typeof event.date_from === "string" ? Date.parse(event.date_from) : NaN;
  const to = typeof event.date_to === "string" ? Date.parse(event.date_to) : NaN;
  const days = Number.isFinite(from) && Number.isFinite(to) && to >= from ? Math.min(366, (to - from) / 86_400_000 + 1) : 1;
  return files * size * days;
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
      process.stdout.write(
        `${JSON.stringify({ status: "interrupted", signal: stop?.signal, run_id: plan.request.runId, total_files: plan.files.length, written, skipped, not_written: plan.files.length - written - skipped }, null, 2)}\n`,
      );
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
  if (isDatabaseUrl(flags.out)) {
    const { runDatabaseGenerate } = require("./generate-database") as typeof import("./generate-database");
    return runDatabaseGenerate(flags);
  }
  if (flags.createTables !== undefined) {
    process.stderr.write("synthgen: --create-tables applies to a database --out (postgres://, mysql://, pglite://)\n");
    return EXIT.BAD_INPUT;
  }
  if (flags.scenario !== undefined) {
    const { runScenarioGenerate } = require("./generate-scenario") as typeof import("./generate-scenario");
    return runScenarioGenerate({ ...flags, scenario: flags.scenario });
  }
  const event = { ...runEventOf(flags), ...eventFrom({ key_prefix: flags.keyPrefix }) };

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
      const written =
        body.successful +
        (await settleAbandoned(
          destination.sink,
          outcome.failures.map((f) => f.key),
        ));
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
