import { peakRssMb } from "./peak-rss";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { loadRun } from "../src/databases/load";
import { createTableSql, scenarioTables } from "../src/databases/tables";
import { parseDatabaseTarget } from "../src/databases/target";
import { planScenarioRun } from "../src/files/scenario-run";
import { loadScenarioText } from "../src/scenarios/plan";

interface Spec {
  /** `synthgen`: the scenario's run into the database; `copy`: COPY of the CSV files in `csvDir` (the same rows), the database's own limit. */
  readonly path: "synthgen" | "copy";
  readonly url: string;
  readonly scenario: string;
  readonly runId: string;
  readonly csvDir?: string;
}

/** One load of a bench round in its own process (its peak RSS its own). Prints one JSON line. */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;
  const loaded = loadScenarioText(spec.scenario, "bench.yaml", "scenario");
  const tables = scenarioTables(loaded);
  const started = performance.now();
  let rows = 0;
  if (spec.path === "synthgen") {
    const run = planScenarioRun(loaded, { run_id: spec.runId, seed: 1, date_prefix: "2026-03-01" }, { fileCount: 1, targetSizeMb: 3.5 }, { now: new Date() }, "");
    const plans = new Map(run.datasets.map((d) => [d.name, d.plan]));
    const outcome = await loadRun(
      parseDatabaseTarget("url", spec.url),
      tables.map((table) => ({ table, plan: plans.get(table.name) as NonNullable<ReturnType<typeof plans.get>> })),
      { createTables: true, definition: "bench", field: "url" },
    );
    rows = outcome.totalRows;
  } else {
    const { Client } = require("pg") as typeof import("pg");
    const { from } = require("pg-copy-streams") as typeof import("pg-copy-streams");
    const client = new Client({ connectionString: spec.url });
    await client.connect();
    await client.query("BEGIN");
    for (const t of tables) await client.query(createTableSql("postgres", t));
    for (const t of tables) {
      const stream = client.query(from(`COPY "${t.name}" FROM STDIN WITH (FORMAT csv)`));
      await pipeline(createReadStream(join(spec.csvDir as string, `${t.name}.csv`), { highWaterMark: 256 * 1024 }), stream);
      rows += stream.rowCount;
    }
    await client.query("COMMIT");
    await client.end();
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, mbPerS: 0, rows, recordsPerS: rows / seconds, peakRssMb: peakRssMb() })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
