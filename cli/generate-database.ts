import { ValidationError } from "../src/core/errors";
import { fileDatasetLoader, readSchemaFile, sha256Of } from "../src/catalog/resolve";
import { DatabaseLoadError, loadRun, type LoadOutcome } from "../src/databases/load";
import { loadSummary, planDatabaseLoad, type DatabaseLoadPlan } from "../src/databases/plan";
import { describeTarget, parseDatabaseTarget } from "../src/databases/target";
import { loadScenarioText } from "../src/scenarios/plan";
import { badInput, crashed, EXIT, eventFrom, numeric, parsePairs } from "./common";
import { FLAG_FOR_FIELD, type GenerateFlags } from "./generate-options";
import { progressBar } from "./progress";

/** Flags of `generate` that only the CLI has, with why they do not apply to a database. */
const NOT_FOR_DATABASE: readonly (readonly [keyof GenerateFlags, string, string])[] = [
  ["shards", "--shards", "a load is one transaction on one connection"],
  ["threads", "--threads", "a load is one transaction on one connection"],
  ["endpoint", "--endpoint", "it is for an s3:// --out"],
  ["ignoreFreeSpace", "--ignore-free-space", "it is for a local folder"],
];

const FLAGS = { ...FLAG_FOR_FIELD, scenario: "--scenario", create_tables: "--create-tables", "--out": "--out" };

/** `--scenario FILE`: the file's scenario, pinned by the SHA-256 of its text. */
async function scenarioFile(path: string) {
  const text = await readSchemaFile("scenario", path);
  return { ...loadScenarioText(text, path, "scenario"), sha256: sha256Of(text) };
}

/**
 * `synthgen generate --out postgres://… | mysql://… | pglite://FOLDER`: the run's records — a
 * dataset, or every dataset of a scenario — into tables named after the datasets, in one
 * transaction (src/databases/load.ts). The records are the ones the same run's NDJSON files hold;
 * `--create-tables` makes the tables that are missing, with the scenario's keys.
 */
export async function runDatabaseGenerate(flags: GenerateFlags): Promise<number> {
  for (const [key, flag, why] of NOT_FOR_DATABASE) {
    if (flags[key] !== undefined) {
      process.stderr.write(`synthgen: ${flag} does not apply to a database --out (${why})\n`);
      return EXIT.BAD_INPUT;
    }
  }
  let plan: DatabaseLoadPlan;
  let target: ReturnType<typeof parseDatabaseTarget>;
  try {
    target = parseDatabaseTarget("--out", flags.out);
    if (flags.scenario !== undefined && flags.files !== undefined) throw new ValidationError("--files", "--files does not apply with --scenario (each dataset's entities decide its rows)");
    const event = eventFrom({
      dataset: flags.dataset,
      scenario: flags.scenario,
      create_tables: flags.createTables,
      file_count: numeric(flags.files),
      target_size_mb: numeric(flags.sizeMb),
      date_prefix: flags.date,
      date_from: flags.from,
      date_to: flags.to,
      seed: numeric(flags.seed),
      run_id: flags.runId,
      daily_curve: flags.dailyCurve,
      format: flags.format,
      parquet_codec: flags.parquetCodec,
      dirty: parsePairs("--dirty", flags.dirty),
      key_prefix: flags.keyPrefix,
      partition: flags.partition,
    });
    plan = await planDatabaseLoad(event, { loadScenario: scenarioFile, loadDataset: fileDatasetLoader, context: { now: new Date() } });
  } catch (err) {
    return badInput(err, FLAGS);
  }

  const { loads } = plan;
  const files = loads.reduce((n, l) => n + l.plan.files.length, 0);
  process.stderr.write(`synthgen: loading ${loads.map((l) => l.table.name).join(", ")} (${files} file${files === 1 ? "" : "s"} of records) into ${describeTarget(target)}\n`);
  const progress = progressBar(files);
  let outcome: LoadOutcome;
  try {
    outcome = await loadRun(target, loads, {
      createTables: plan.createTables,
      definition: plan.definition,
      field: "--out",
      onFile: (file, records) => progress.onFileDone({ index: file.fileIndex, key: file.key, bytes: 0, records, sha256: "", durationMs: 0 }),
    });
  } catch (err) {
    progress.stop();
    if (err instanceof ValidationError) return badInput(err, FLAGS);
    if (err instanceof DatabaseLoadError) {
      process.stdout.write(`${JSON.stringify({ status: "failed", ...plan.label, run_id: loads[0]?.plan.request.runId, error: err.message }, null, 2)}\n`);
      process.stderr.write(`synthgen: ${err.message}\n`);
      return EXIT.FAILED;
    }
    return crashed(err);
  }
  progress.stop();
  process.stdout.write(`${JSON.stringify(loadSummary(plan, outcome), null, 2)}\n`);
  if (outcome.status === "already_loaded") process.stderr.write(`synthgen: run ${outcome.runId} is already in ${outcome.database}; nothing written\n`);
  return EXIT.OK;
}
