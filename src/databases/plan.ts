import { ValidationError } from "../core/errors";
import { describe, type EventObject } from "../core/fields";
import { resolveDataset, sha256Of, type DatasetLoader } from "../catalog/resolve";
import { datasetOf } from "../datasets";
import { planRun } from "../files/plan";
import { parseGenerateRequest, type RequestContext } from "../files/request";
import { planScenarioRun } from "../files/scenario-run";
import type { LoadedScenario } from "../scenarios/plan";
import type { LoadOutcome, TableLoad } from "./load";
import { datasetTable, scenarioTables } from "./tables";

/** A load's request: a generate request's fields that decide records, plus `scenario` and `create_tables`. */
export const DATABASE_REQUEST_FIELDS = [
  "dataset",
  "scenario",
  "create_tables",
  "file_count",
  "target_size_mb",
  "date_prefix",
  "date_from",
  "date_to",
  "seed",
  "run_id",
  "daily_curve",
  "time",
] as const;

/** Fields of a generate request about files, with why they do not apply to a table. */
const ABOUT_FILES: Readonly<Record<string, string>> = {
  format: "rows go in by the database's bulk path, in its column types",
  parquet_codec: "rows go in by the database's bulk path, in its column types",
  dirty: "malformed and wrong-typed rows are files' dirt; a table's column types reject them (a scenario's orphans and dangling references do load)",
  key_prefix: "tables are named after the datasets",
  partition: "a backfill's days go into the same tables",
};

export interface DatabaseLoadPlan {
  readonly loads: readonly TableLoad[];
  /** What decides the rows besides the plans: the definition's SHA-256, or a built-in's name. */
  readonly definition: string;
  readonly label: { readonly scenario: string } | { readonly dataset: string };
  readonly createTables: boolean;
}

export interface PlanSources {
  /** A scenario by the request's `scenario` (the CLI: a file; the function: one stored under `_datasets/`). */
  readonly loadScenario: (name: string) => Promise<LoadedScenario & { readonly sha256: string }>;
  /** A dataset that is not built in. */
  readonly loadDataset: DatasetLoader;
  readonly context: RequestContext;
}

const REQUEST_DEFAULTS = { fileCount: 10, targetSizeMb: 3.5 };

/**
 * Plans a load from its request — the CLI's flags or the function's event — through the same
 * request validation and plans as `generate`: a scenario's datasets as its tables (parents first,
 * with the keys its relations imply), or one dataset as one table. Throws a `ValidationError`
 * naming the field before anything is read from or written to a database.
 */
export async function planDatabaseLoad(event: EventObject, sources: PlanSources): Promise<DatabaseLoadPlan> {
  for (const [field, why] of Object.entries(ABOUT_FILES)) {
    if (event[field] !== undefined) throw new ValidationError(field, `${field} does not apply to a database (${why})`);
  }
  const known = new Set<string>(DATABASE_REQUEST_FIELDS);
  const unknown = Object.keys(event).find((k) => !known.has(k));
  if (unknown !== undefined) throw new ValidationError(unknown, `unknown field "${unknown}"; a database load takes: ${DATABASE_REQUEST_FIELDS.join(", ")}`);
  const { scenario, create_tables: createTables, ...request } = event;
  if (createTables !== undefined && typeof createTables !== "boolean") throw new ValidationError("create_tables", `create_tables must be true or false (got ${describe(createTables)})`);
  if (scenario !== undefined) {
    if (typeof scenario !== "string" || scenario === "") throw new ValidationError("scenario", `scenario must be a scenario's name (got ${describe(scenario)})`);
    if (request.dataset !== undefined) throw new ValidationError("dataset", "dataset does not apply with scenario (the scenario names its datasets)");
    const loaded = await sources.loadScenario(scenario);
    const run = planScenarioRun(loaded, request, { fileCount: 1, targetSizeMb: REQUEST_DEFAULTS.targetSizeMb }, sources.context, "");
    const plans = new Map(run.datasets.map((d) => [d.name, d.plan]));
    const loads = scenarioTables(loaded).map((table) => ({ table, plan: plans.get(table.name) as TableLoad["plan"] }));
    return { loads, definition: loaded.sha256, label: { scenario: loaded.scenario.name }, createTables: createTables === true };
  }
  const custom = await resolveDataset(request, sources.loadDataset);
  const plan = planRun(parseGenerateRequest(request, REQUEST_DEFAULTS, sources.context, custom), "");
  const name = custom ? custom.name : plan.request.dataset;
  const columns = datasetOf({ dataset: plan.request.dataset, schema: plan.request.schema }).columns;
  return {
    loads: [{ table: datasetTable(name, columns), plan }],
    definition: custom ? sha256Of(JSON.stringify(custom.schema)) : plan.request.dataset,
    label: { dataset: name },
    createTables: createTables === true,
  };
}

/** The summary of a load, as the CLI prints it and the function answers it. */
export function loadSummary(plan: DatabaseLoadPlan, outcome: LoadOutcome) {
  const first = (plan.loads[0] as TableLoad).plan.request;
  const seconds = outcome.durationMs / 1000;
  return {
    status: outcome.status === "loaded" ? ("completed" as const) : ("already_loaded" as const),
    ...plan.label,
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
  };
}
