import { ValidationError } from "../core/errors";
import type { Connection } from "../databases/connection";
import { LEDGER_TABLE } from "../databases/load";
import { ident } from "../databases/tables";
import type { OutputRow } from "./output";
import type { OutputReader } from "./verify";

/** Rows fetched from the cursor at a time: the table is never held whole. */
export const FETCH_ROWS = 5000;

/**
 * A PostgreSQL table (a server's, or PGlite's) as verify's output: every column read as text by a
 * cursor in a read-only transaction, so a value is PostgreSQL's own rendering of it (a timestamp
 * with its microseconds and zone, `true`/`false`, a JSON document) and compared as a CSV cell is,
 * by its column's type.
 */
export async function tableReader(conn: Connection, table: string, where: string): Promise<OutputReader> {
  if (conn.dialect !== "postgres") throw new ValidationError("output", "verify reads PostgreSQL and PGlite tables; MySQL tables are not supported yet");
  const q = (n: string) => ident("postgres", n);
  const columns = (await conn.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position", [table])).map((r) =>
    String(r.column_name),
  );
  if (columns.length === 0) {
    const tables = (
      await conn.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '${LEDGER_TABLE}' ORDER BY 1`)
    ).map((r) => String(r.table_name));
    throw new ValidationError("table", `${where} has no table "${table}" in its current schema; its tables: ${tables.join(", ") || "none"} (name one with --table)`);
  }
  const select = `SELECT ${columns.map((c) => `CAST(${q(c)} AS text) AS ${q(c)}`).join(", ")} FROM ${q(table)}`;
  return {
    where: `${where} table ${table}`,
    location: (key) => `${where} table ${key}`,
    listed: async () => ({ files: [{ key: table, format: "table" }], skipped: [] }),
    rows: async function* (): AsyncGenerator<OutputRow> {
      await conn.query("BEGIN TRANSACTION READ ONLY");
      try {
        await conn.query(`DECLARE synthgen_verify NO SCROLL CURSOR FOR ${select}`);
        let line = 0;
        for (;;) {
          const batch = await conn.query(`FETCH FORWARD ${FETCH_ROWS} FROM synthgen_verify`);
          for (const r of batch) {
            line++;
            const values: Record<string, unknown> = {};
            for (const c of columns) values[c] = r[c] ?? null;
            yield { values, textual: true, line };
          }
          if (batch.length < FETCH_ROWS) break;
        }
      } finally {
        await conn.query("ROLLBACK").catch(() => undefined);
      }
    },
  };
}
