import { ValidationError } from "../src/core/errors";
import { readSchemaFile, resolveDataset, fileDatasetLoader, sha256Of } from "../src/catalog/resolve";
import { datasetOf } from "../src/datasets";
import { DatabaseLoadError, loadRun, type LoadOutcome, type TableLoad } from "../src/databases/load";
import { datasetTable, scenarioTables } from "../src/databases/tables";
import { parseDatabaseTarget } from "../src/databases/target";
import { planRun } from "../src/files/plan";
import { parseGenerateRequest } from "../src/files/request";
import { planScenarioRun } from "../src/files/scenario-run";
import { loadScenarioText } from "../src/scenarios/plan";
import { badInput, crashed, EXIT, eventFrom, numeric } from "./common";
import { FLAG_FOR_FIELD, type GenerateFlags } from "./generate-options";
import { progressBar } from "./progress";

/** Flags of `generate` that are about files, with why they do not apply to a database. */
const NOT_FOR_DATABASE: readonly (readonly [keyof GenerateFlags, string, string])[] = [
  ["format", "--format", "rows go in by the database's bulk path, in its column types"],
  ["parquetCodec", "--parquet-codec", "rows go in by the database's bulk path, in its column types"],
  ["dirty", "--dirty", "malformed and wrong-typed rows are files' dirt; a table's column types reject them (a scenario's orphans and dangling references do load)"],
  ["shards", "--shards", "a load is one transaction on one connection"],
  ["threads", "--threads", "a load is one transaction on one connection"],
  ["endpoint", "--endpoint", "it is for an s3:// --out"],
  ["keyPrefix", "--key-prefix", "tables are named after the datasets"],
  ["partition", "--partition", "a backfill's days go into the same tables"],
  ["ignoreFreeSpace", "--ignore-free-space", "it is for a local folder"],
];

const FLAGS = { ...FLAG_FOR_FIELD, scenario: "--scenario", "--out": "--out" };

/**
 * `synthgen generate --out postgres://… | mysql://… | pglite://FOLDER`: the run's records — a
 * dataset, or every dataset of a scenario — into tables named after the datasets, in one
 * transaction (see src/databases/load.ts). The records are the ones the same run's NDJSON files
 * hold; `--create-tables` makes the tables that are missing, with the scenario's keys.
 */
export async function runDatabaseGenerate(flags: GenerateFlags): Promise<number> {
  for (const [key, flag, why] of NOT_FOR_DATABASE) {
    if (flags[key] !== undefined) {
      process.stderr.write(`synthgen: ${flag} does not apply to a database --out (${why})\n`);
      return EXIT.BAD_INPUT;
    }
  }
  let loads: TableLoad[];
  let definition: string;
  let target: ReturnType<typeof parseDatabaseTarget>;
  let label: { scenario: string } | { dataset: string };
  try {
    target = parseDatabaseTarget("--out", flags.out);
    const event = eventFrom({
      file_count: flags.scenario === undefined ? numeric(flags.files) : undefined,
      target_size_mb: numeric(flags.sizeMb),
      date_prefix: flags.date,
      date_from: flags.from,
      date_to: flags.to,
      seed: numeric(flags.seed),
      run_id: flags.runId,
      daily_curve: flags.dailyCurve,
    });
    if (flags.scenario !== undefined) {
      if (flags.files !== undefined) throw new ValidationError("--files", "--files does not apply with --scenario (each dataset's entities decide its rows)");
      if (flags.dataset !== undefined) throw new ValidationError("--dataset", "--dataset does not apply with --scenario (the scenario names its datasets)");
      const text = await readSchemaFile("scenario", flags.scenario);
      definition = sha256Of(text);
      const loaded = loadScenarioText(text, flags.scenario, "scenario");
      const run = planScenarioRun(loaded, event, { fileCount: 1, targetSizeMb: 3.5 }, { now: new Date() }, "");
      const tables = new Map(scenarioTables(loaded).map((t) => [t.name, t]));
      const plans = new Map(run.datasets.map((d) => [d.name, d.plan]));
      loads = [...tables.values()].map((table) => ({ table, plan: plans.get(table.name) as TableLoad["plan"] }));
      label = { scenario: loaded.scenario.name };
    } else {
      if (flags.dataset !== undefined) event.dataset = flags.dataset;
      const custom = await resolveDataset(event, fileDatasetLoader);
      const plan = planRun(parseGenerateRequest(event, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }, custom), "");
      const name = custom ? custom.name : plan.request.dataset;
      definition = custom ? sha256Of(JSON.stringify(custom.schema)) : plan.request.dataset;
      loads = [{ table: datasetTable(name, datasetOf(plan.files[0] ?? { dataset: plan.request.dataset, schema: plan.request.schema }).columns), plan }];
      label = { dataset: name };
    }
  } catch (err) {
    return badInput(err, FLAGS);
  }

  const files = loads.reduce((n, l) => n + l.plan.files.length, 0);
  process.stderr.write(
    `synthgen: loading ${loads.map((l) => l.table.name).join(", ")} (${files} file${files === 1 ? "" : "s"} of records) into ${target.kind === "pglite" ? `pglite://${target.dir}` : target.kind}\n`,
  );
  const progress = progressBar(files);
  let outcome: LoadOutcome;
  try {
    outcome = await loadRun(target, loads, {
      createTables: flags.createTables === true,
      definition,
      field: "--out",
      onFile: () => progress.onFileDone({ index: 0, key: "", bytes: 0, records: 0, sha256: "", durationMs: 0 }),
    });
  } catch (err) {
    progress.stop();
    if (err instanceof ValidationError) return badInput(err, FLAGS);
    if (err instanceof DatabaseLoadError) {
      process.stdout.write(`${JSON.stringify({ status: "failed", ...label, run_id: loads[0]?.plan.request.runId, error: err.message }, null, 2)}\n`);
      process.stderr.write(`synthgen: ${err.message}\n`);
      return EXIT.FAILED;
    }
    return crashed(err);
  }
  progress.stop();
  const first = (loads[0] as TableLoad).plan.request;
  const seconds = outcome.durationMs / 1000;
  process.stdout.write(
    `${JSON.stringify(
      {
        status: outcome.status === "loaded" ? "completed" : "already_loaded",
        ...label,
        database: outcome.database,
        run_id: outcome.runId,
        seed: first.seed,
        date_prefix: first.datePrefix,
        ...(first.days.length > 1 ? { date_from: first.days[0], date_to: first.days.at(-1), days: first.days.length } : {}),
        run_digest: outcome.runDigest,
        total_records: outcome.totalRows,
        duration_ms: outcome.durationMs,
        ...(outcome.status === "loaded" ? { rows_per_s: seconds > 0 ? Math.round(outcome.totalRows / seconds) : 0 } : {}),
        tables: Object.fromEntries(
          outcome.tables.map((t) => [
            t.table,
            {
              rows: t.rows,
              created: t.created,
              ...(t.foreignKeys ? { foreign_keys: t.foreignKeys } : {}),
              ...(t.foreignKeysLeftOut ? { foreign_keys_left_out: t.foreignKeysLeftOut } : {}),
              ...(t.dirtyRecords ? { dirty_records: t.dirtyRecords } : {}),
            },
          ]),
        ),
      },
      null,
      2,
    )}\n`,
  );
  if (outcome.status === "already_loaded") process.stderr.write(`synthgen: run ${outcome.runId} is already in ${outcome.database}; nothing written\n`);
  return EXIT.OK;
}
