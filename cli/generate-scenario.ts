import { CapacityError, ValidationError } from "../src/core/errors";
import { BYTES_PER_MB, formatBytes } from "../src/core/limits";
import type { RunPlan } from "../src/files/plan";
import { createFilePool } from "../src/files/pool";
import { planScenarioRun } from "../src/files/scenario-run";
import { executeRun, foldErrors, responseBody } from "../src/files/run";
import { loadScenarioText } from "../src/scenarios/plan";
import { readSchemaFile, sha256Of } from "../src/catalog/resolve";
import { sinkLocation } from "../src/sinks";
import { badInput, crashed, EXIT, eventFrom, finish, numeric, parsePairs } from "./common";
import { FLAG_FOR_FIELD, parseDestination, parseShards, parseThreads, type GenerateFlags } from "./generate-options";
import { executeScenarioSharded } from "./sharded-run";
import { progressBar } from "./progress";
import { preflight, settleAbandoned, trapInterrupts } from "./run-guard";

/** Flags that a scenario decides itself: its counts make the records, its datasets the prefixes. */
const NOT_WITH_SCENARIO: readonly (readonly [keyof GenerateFlags, string, string])[] = [
  ["files", "--files", "each dataset's files are sized from --size-mb, or set by its `files`"],
  ["dataset", "--dataset", "the scenario names its datasets"],
];

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * `synthgen generate --scenario FILE`: every dataset of the scenario under its own prefix
 * (`{prefix}{dataset}/`, the seed's key pattern, a manifest with --shards), through the same
 * request validation, plan, pool and sinks as a single dataset. All datasets share one run id and
 * seed, so their entities agree; every request is checked before anything is written.
 */
export async function runScenarioGenerate(flags: GenerateFlags & { scenario: string }): Promise<number> {
  for (const [key, flag, why] of NOT_WITH_SCENARIO) {
    if (flags[key] !== undefined) {
      process.stderr.write(`synthgen: ${flag} does not apply with --scenario (${why})\n`);
      return EXIT.BAD_INPUT;
    }
  }
  let plans: { name: string; plan: RunPlan; expected: number; bytes: number }[];
  let destination: ReturnType<typeof parseDestination>;
  let shards: number | undefined;
  let threads: number;
  let scenarioName: string;
  let run: ReturnType<typeof planScenarioRun>;
  let sha256: string;
  try {
    destination = parseDestination(flags.out, flags.endpoint);
    shards = parseShards(flags.shards);
    const text = await readSchemaFile("scenario", flags.scenario);
    sha256 = sha256Of(text);
    const loaded = loadScenarioText(text, flags.scenario, "scenario");
    scenarioName = loaded.scenario.name;
    const event = eventFrom({
      target_size_mb: numeric(flags.sizeMb),
      date_prefix: flags.date,
      date_from: flags.from,
      date_to: flags.to,
      partition: flags.partition,
      seed: numeric(flags.seed),
      run_id: flags.runId,
      daily_curve: flags.dailyCurve,
      format: flags.format,
      parquet_codec: flags.parquetCodec,
      dirty: parsePairs("--dirty", flags.dirty),
      key_prefix: flags.keyPrefix,
    });
    run = planScenarioRun(loaded, event, { fileCount: 1, targetSizeMb: 3.5 }, { now: new Date() }, destination.prefix);
    plans = run.datasets.map((d) => ({ name: d.name, plan: d.plan, expected: d.expectedRecords, bytes: d.bytes }));
    threads = parseThreads(
      flags.threads,
      plans.reduce((n, p) => n + (p.plan.files.length * p.plan.fileBytes) / BYTES_PER_MB, 0),
    );
    process.stderr.write(
      `synthgen: scenario ${scenarioName}: ${plans.map((p) => `${p.name} ${p.plan.files.length} file${p.plan.files.length === 1 ? "" : "s"} (~${Math.round(p.expected).toLocaleString("en-US")} records, ~${formatBytes(p.bytes)})`).join(", ")}\n`,
    );
    for (const { plan } of plans) await preflight(plan, destination.sink, { ignoreFreeSpace: flags.ignoreFreeSpace === true });
  } catch (err) {
    return badInput(err, { ...FLAG_FOR_FIELD, scenario: "--scenario", key_prefix: "--key-prefix" });
  }

  const pool = createFilePool(threads, { parquet: flags.format === "parquet" });
  const guard = trapInterrupts(() => pool.close());
  const location = sinkLocation(destination.sink);
  const started = performance.now();
  const datasets: Record<string, Record<string, unknown>> = {};
  const totals = { files: 0, records: 0, bytes: 0 };
  let failed = 0;
  try {
    let manifest: { status: string; key: string; missing_shards: readonly number[] } | undefined;
    if (shards !== undefined) {
      // The fan-out's code path: every dataset's shards into one manifest of the whole scenario.
      const outcome = await executeScenarioSharded(run, shards, sha256, destination.sink, pool, (files) => progressBar(files), guard.interruption);
      for (const [i, d] of outcome.datasets.entries()) {
        const { plan } = plans[i]!;
        const own = outcome.manifest?.datasets[d.name];
        failed += d.failed;
        totals.files += plan.files.length;
        totals.records += own?.totals.records ?? 0;
        totals.bytes += own?.totals.bytes ?? 0;
        datasets[d.name] = {
          status: own?.status ?? "interrupted",
          key_prefix: plan.keyPrefix,
          total_files: plan.files.length,
          written: d.written,
          skipped: d.skipped,
          failed: d.failed,
          ...(own ? { totals: own.totals, missing_shards: own.missingShards } : {}),
        };
      }
      if (outcome.stop) {
        const first = plans[0] as { plan: RunPlan };
        process.stdout.write(`${JSON.stringify({ status: "interrupted", signal: outcome.stop.signal, scenario: scenarioName, run_id: first.plan.request.runId, datasets }, null, 2)}\n`);
        process.stderr.write(`synthgen: interrupted; run again with --run-id ${first.plan.request.runId} to write the same files\n`);
        return outcome.stop.exitCode;
      }
      if (outcome.manifest) manifest = { status: outcome.manifest.status, key: location.uri(outcome.manifest.key), missing_shards: outcome.manifest.missingShards };
    }
    for (const { name, plan } of shards === undefined ? plans : []) {
      const progress = progressBar(plan.files.length);
      const outcome = await executeRun(plan, destination.sink, pool, (r) => progress.onFileDone(r));
      progress.stop();
      const body = responseBody(outcome);
      let written = body.successful;
      if (guard.interruption())
        written += await settleAbandoned(
          destination.sink,
          outcome.failures.map((f) => f.key),
        );
      else failed += outcome.failures.length;
      totals.files += body.total_files;
      totals.records += body.total_records;
      totals.bytes += outcome.written.reduce((n, f) => n + f.bytes, 0);
      datasets[name] = {
        status: guard.interruption() ? "interrupted" : body.status,
        key_prefix: plan.keyPrefix,
        total_files: body.total_files,
        successful: written,
        failed: body.total_files - written,
        total_records: body.total_records,
        total_size_mb: body.total_size_mb,
        ...(body.format ? { format: body.format } : {}),
        ...(body.dirty_records ? { dirty_records: body.dirty_records } : {}),
        ...(outcome.failures.length && !guard.interruption() ? { errors: foldErrors(outcome.failures) } : {}),
        first_file: body.files[0] ? location.uri(body.files[0].key) : null,
      };
      const stop = guard.interruption();
      if (stop) {
        const first = plans[0] as { plan: RunPlan };
        process.stdout.write(`${JSON.stringify({ status: "interrupted", signal: stop.signal, scenario: scenarioName, run_id: first.plan.request.runId, datasets }, null, 2)}\n`);
        process.stderr.write(`synthgen: interrupted; run again with --run-id ${first.plan.request.runId} to write the same files\n`);
        return stop.exitCode;
      }
    }
    const first = (plans[0] as { plan: RunPlan }).plan.request;
    return finish(
      {
        status: failed === 0 ? "completed" : "failed",
        scenario: scenarioName,
        run_id: first.runId,
        seed: first.seed,
        date_prefix: first.datePrefix,
        ...location.where,
        ...(manifest ? { manifest: manifest.key, missing_shards: manifest.missing_shards } : {}),
        total_files: totals.files,
        total_records: totals.records,
        total_size_mb: round2(totals.bytes / BYTES_PER_MB),
        duration_ms: Math.round(performance.now() - started),
        datasets,
      },
      `${failed} files failed; see "errors" above`,
    );
  } catch (err) {
    if (err instanceof ValidationError || err instanceof CapacityError) return badInput(err, FLAG_FOR_FIELD);
    return crashed(err);
  } finally {
    guard.dispose();
    await pool.close();
  }
}
