import { ValidationError } from "../core/errors";
import type { Connection } from "../databases/connection";
import { LEDGER_TABLE } from "../databases/load";
import { ident } from "../databases/tables";
import type { OutputRow } from "./output";
import type { OutputReader, Precision } from "./verify";

/** Rows fetched from the cursor at a time: the table is never held whole. */
export const FETCH_ROWS = 5000;

/**
 * A PostgreSQL table (a server's, or PGlite's) as verify's output: every column read as text by a
 * cursor in a read-only transaction, so a value is PostgreSQL's own rendering of it (a timestamp
 * with its microseconds and zone, `true`/`false`, a JSON document) and compared as a CSV cell is,
 * by its column's type.
 */
export async function tableReader(conn: Connection, table: string, where: string): Promise<OutputReader> {
  if (conn.dialect === "mysql") return mysqlTableReader(conn, table, where);
  const q = (n: string) => ident("postgres", n);
  const described = await conn.query(
    "SELECT column_name, data_type, datetime_precision FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    [table],
  );
  const columns = described.map((r) => String(r.column_name));
  if (columns.length === 0) {
    const tables = (
      await conn.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '${LEDGER_TABLE}' ORDER BY 1`)
    ).map((r) => String(r.table_name));
    throw new ValidationError("table", `${where} has no table "${table}" in its current schema; its tables: ${tables.join(", ") || "none"} (name one with --table)`);
  }
  const select = `SELECT ${columns.map((c) => `CAST(${q(c)} AS text) AS ${q(c)}`).join(", ")} FROM ${q(table)}`;
  const precision = precisionOf(described.filter((r) => /^timestamp/.test(String(r.data_type))).map((r) => Number(r.datetime_precision)));
  return tableOutput(conn, `${where} table ${table}`, table, columns, precision, "BEGIN TRANSACTION READ ONLY", async function* () {
    await conn.query(`DECLARE synthgen_verify NO SCROLL CURSOR FOR ${select}`);
    for (;;) {
      const batch = await conn.query(`FETCH FORWARD ${FETCH_ROWS} FROM synthgen_verify`);
      yield* batch;
      if (batch.length < FETCH_ROWS) break;
    }
  });
}

/**
 * A table as verify's output, one part: its rows as `source` gives them, in a read-only
 * transaction (`begin`) rolled back at the end, each column's text read by its field's type.
 */
function tableOutput(
  conn: Connection,
  where: string,
  table: string,
  columns: readonly string[],
  precision: Precision | undefined,
  begin: string,
  source: () => AsyncIterable<Record<string, unknown>>,
): OutputReader {
  return {
    where,
    location: () => where,
    ...(precision ? { precision } : {}),
    listed: async () => ({ files: [{ key: table, format: "table" }], skipped: [] }),
    rows: async function* (): AsyncGenerator<OutputRow> {
      await conn.query(begin);
      try {
        let line = 0;
        for await (const r of source()) {
          line++;
          const values: Record<string, unknown> = {};
          for (const c of columns) values[c] = r[c] ?? null;
          yield { values, textual: true, line };
        }
      } finally {
        await conn.query("ROLLBACK").catch(() => undefined);
      }
    },
  };
}

/** The coarsest fractional-second digits of a table's time columns, as verify's precision (none: microseconds). */
function precisionOf(digits: readonly number[]): "ms" | "s" | undefined {
  const least = Math.min(...digits.filter((d) => Number.isInteger(d)));
  return least === 0 ? "s" : least <= 3 ? "ms" : undefined;
}

/**
 * A MySQL or MariaDB table as verify's output: every column read as text (`CAST … AS CHAR`) by
 * the driver's row stream in a read-only transaction; a `tinyint(1)` (MySQL's boolean) as
 * `true`/`false`. Its time columns' precision (synthgen loads `DATETIME(3)`) is what timestamps are
 * compared at unless `--precision` says otherwise.
 */
async function mysqlTableReader(conn: Connection, table: string, where: string): Promise<OutputReader> {
  const q = (n: string) => ident("mysql", n);
  const described = await conn.query(
    "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, DATA_TYPE AS data, DATETIME_PRECISION AS digits FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    [table],
  );
  if (described.length === 0) {
    const tables = (
      await conn.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> ? ORDER BY 1", [LEDGER_TABLE])
    ).map((r) => String(r.name));
    throw new ValidationError("table", `${where} has no table "${table}" in its database; its tables: ${tables.join(", ") || "none"} (name one with --table)`);
  }
  if (!conn.stream) throw new Error("verify: this MySQL connection cannot stream a table");
  const columns = described.map((r) => String(r.name));
  const select = described
    .map((r) => {
      const c = q(String(r.name));
      return /^tinyint\(1\)/i.test(String(r.type)) ? `CASE ${c} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE CAST(${c} AS CHAR) END AS ${c}` : `CAST(${c} AS CHAR) AS ${c}`;
    })
    .join(", ");
  const precision = precisionOf(described.filter((r) => /^(datetime|timestamp)$/i.test(String(r.data))).map((r) => Number(r.digits)));
  const stream = conn.stream.bind(conn);
  return tableOutput(conn, `${where} table ${table}`, table, columns, precision, "START TRANSACTION READ ONLY", () => stream(`SELECT ${select} FROM ${q(table)}`));
}
