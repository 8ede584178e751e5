import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

/** What the pipeline does wrong, each to the rows whose read order `rn` is a multiple of its period. */
export interface Faults {
  /** Rows lost. */
  readonly loseEvery?: number;
  /** Rows written twice (of those kept). */
  readonly duplicateEvery?: number;
  /** Rows whose `field` is set to `to` (every copy). */
  readonly alter?: { readonly every: number; readonly field: string; readonly to: string };
  /** Columns renamed: generated → output. */
  readonly rename?: Readonly<Record<string, string>>;
  /** Rows added that no run generated, with this id prefix. */
  readonly extraRows?: number;
}

/** The exact numbers the faults make, counted by the pipeline itself: what `verify` must report. */
export interface FaultCounts {
  readonly read: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Records (not copies) whose altered field differs. */
  readonly altered: number;
  /** Output rows carrying an altered value (copies included). */
  readonly alteredRows: number;
  readonly extra: number;
}

/**
 * The pipeline under test: an NDJSON → Parquet or CSV converter written with an independent engine
 * (DuckDB), that can be told to lose, duplicate, alter, rename and add rows at known periods.
 * In CSV, structs are flattened to one column per leaf named by the leaf alone (DuckDB's unnest), so a
 * verify of it needs --map, as a renaming warehouse load would.
 */
export async function convert(input: string, output: string, format: "parquet" | "csv", faults: Faults = {}): Promise<FaultCounts> {
  const db = await DuckDBInstance.create(":memory:");
  const duck = await db.connect();
  const count = async (sql: string) => Number((await duck.runAndReadAll(sql)).getRowObjectsJson()[0]?.n ?? 0);
  try {
    await duck.run("SET TimeZone = 'UTC'");
    await duck.run(`CREATE TABLE src AS SELECT *, row_number() OVER () AS rn FROM read_json('${join(input, "*.ndjson")}', format = 'newline_delimited')`);
    const lose = faults.loseEvery ?? 0;
    const dup = faults.duplicateEvery ?? 0;
    await duck.run(`CREATE TABLE kept AS SELECT * FROM src ${lose ? `WHERE rn % ${lose} <> 0` : ""}`);
    await duck.run(`CREATE TABLE out AS SELECT * FROM kept UNION ALL SELECT * FROM kept WHERE ${dup ? `rn % ${dup} = 0` : "false"}`);
    if (faults.alter) await duck.run(`UPDATE out SET "${faults.alter.field}" = '${faults.alter.to}' WHERE rn % ${faults.alter.every} = 0`);
    const extra = faults.extraRows ?? 0;
    if (extra > 0) await duck.run(`INSERT INTO out SELECT * REPLACE ('not-generated-' || rn AS id) FROM kept LIMIT ${extra}`);
    const columns = (await duck.runAndReadAll("DESCRIBE out")).getRowObjectsJson().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const select = columns
      .filter((c) => c.name !== "rn")
      .map((c) => {
        const as = faults.rename?.[c.name] ?? c.name;
        if (format === "csv" && c.type.startsWith("STRUCT")) return `unnest("${c.name}", recursive := true)`;
        return `"${c.name}" AS "${as}"`;
      })
      .join(", ");
    await mkdir(output, { recursive: true });
    await duck.run(`COPY (SELECT ${select} FROM out ORDER BY rn) TO '${join(output, `part-0.${format}`)}' (${format === "csv" ? "HEADER" : "FORMAT parquet"})`);
    const alterEvery = faults.alter?.every ?? 0;
    return {
      read: await count("SELECT count(*) AS n FROM src"),
      lost: lose ? await count(`SELECT count(*) AS n FROM src WHERE rn % ${lose} = 0`) : 0,
      duplicated: dup ? await count(`SELECT count(*) AS n FROM kept WHERE rn % ${dup} = 0`) : 0,
      altered: alterEvery ? await count(`SELECT count(*) AS n FROM kept WHERE rn % ${alterEvery} = 0`) : 0,
      alteredRows: alterEvery ? await count(`SELECT count(*) AS n FROM out WHERE rn % ${alterEvery} = 0 AND id NOT LIKE 'not-generated-%'`) : 0,
      extra,
    };
  } finally {
    duck.closeSync();
  }
}
