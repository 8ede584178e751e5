import { createHash } from "node:crypto";
import { ValidationError } from "../core/errors";
import type { RunPlan } from "../files/plan";
import type { RenderStats } from "../formats/file-identity";
import { renderFile } from "../formats/render";
import { addCounts, type DirtyCounts } from "../records/dirty";
import type { PlannedFile } from "../sinks/sink";
import { connect, type Batch, type Connection } from "./connection";
import { describeTarget, type DatabaseTarget } from "./target";
import { createTableSql, foreignKeyName, type Dialect, type TableSpec } from "./tables";

/** One table of a load and the run whose records fill it (an NDJSON plan: its records are the files' records). */
export interface TableLoad {
  readonly table: TableSpec;
  readonly plan: RunPlan;
}

export interface LoadOptions {
  /** Create the tables that do not exist (with the keys the scenario implies); else every table must exist. */
  readonly createTables: boolean;
  /** What decides the rows besides the plans (the definition's SHA-256, or a built-in's name): part of the run's digest. */
  readonly definition: string;
  /** The field (or flag) errors about the destination name: `--out`, or a request's `database`. */
  readonly field: string;
  /** Called after each file's records are in (not yet committed). */
  readonly onFile?: (file: PlannedFile, records: number) => void;
}

export interface TableOutcome {
  readonly table: string;
  readonly rows: number;
  readonly created: boolean;
  /** Foreign keys created with the table, and those left out because the scenario makes rows that break them. */
  readonly foreignKeys?: readonly string[];
  readonly foreignKeysLeftOut?: readonly { readonly constraint: string; readonly why: string }[];
  readonly dirtyRecords?: DirtyCounts;
}

export interface LoadOutcome {
  /** `loaded`: the rows are in, committed; `already_loaded`: this run id was loaded before with the same digest, nothing was written. */
  readonly status: "loaded" | "already_loaded";
  readonly database: string;
  readonly runId: string;
  readonly runDigest: string;
  readonly tables: readonly TableOutcome[];
  readonly totalRows: number;
  readonly durationMs: number;
}

/** A load the database refused part-way (a constraint, a value its column cannot hold): rolled back, nothing written. */
export class DatabaseLoadError extends Error {
  override readonly name = "DatabaseLoadError";
}

/** Which runs a database holds: one row per run id, written in the same transaction as the rows. */
export const LEDGER_TABLE = "synthgen_runs";

const LEDGER_SQL: Readonly<Record<Dialect, string>> = {
  postgres: `CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (run_id text PRIMARY KEY, run_digest text NOT NULL, tables text NOT NULL, row_count bigint NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())`,
  mysql: `CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (run_id varchar(255) PRIMARY KEY, run_digest char(64) NOT NULL, tables text NOT NULL, row_count bigint NOT NULL, loaded_at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`,
};

/**
 * The run's digest: everything that decides its rows — the definition, and each table's files
 * (dataset, seed, run id, days, time, file count and size). The same digest is the same rows.
 */
export function runDigest(loads: readonly TableLoad[], definition: string): string {
  const parts = loads.map(({ table, plan }) => {
    const r = plan.request;
    return {
      table: table.name,
      dataset: r.dataset,
      seed: r.seed,
      run_id: r.runId,
      days: r.days,
      hhmmss: r.hhmmss,
      files: plan.files.length,
      target_bytes: plan.targetBytes,
      daily_curve: r.dailyCurve,
    };
  });
  return createHash("sha256")
    .update(JSON.stringify({ definition, tables: parts }))
    .digest("hex");
}

interface ExistingColumn {
  readonly table: string;
  readonly column: string;
  /** Must be given a value: NOT NULL with no default, not an identity, generated or auto-increment column. */
  readonly required: boolean;
}
interface ExistingForeignKey {
  readonly constraint: string;
  readonly table: string;
  readonly column: string;
  readonly references: string;
}

const placeholders = (dialect: Dialect, n: number, from = 1) => Array.from({ length: n }, (_, i) => (dialect === "postgres" ? `$${i + from}` : "?")).join(", ");

/** The run's tables as the database has them (the connection's current schema / database). */
async function inspect(conn: Connection, names: readonly string[]): Promise<{ columns: ExistingColumn[]; foreignKeys: ExistingForeignKey[] }> {
  const list = placeholders(conn.dialect, names.length);
  if (conn.dialect === "postgres") {
    const columns = await conn.query(
      `SELECT table_name, column_name, is_nullable, column_default, is_identity, is_generated FROM information_schema.columns WHERE table_schema = current_schema() AND table_name IN (${list})`,
      names,
    );
    const foreignKeys = await conn.query(
      `SELECT con.conname AS constraint_name, rel.relname AS table_name, att.attname AS column_name, frel.relname AS ref_table
       FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = rel.relnamespace
       JOIN pg_class frel ON frel.oid = con.confrelid JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
       WHERE con.contype = 'f' AND ns.nspname = current_schema() AND rel.relname IN (${list})`,
      names,
    );
    return {
      columns: columns.map((c) => ({
        table: String(c.table_name),
        column: String(c.column_name),
        required: c.is_nullable === "NO" && c.column_default === null && c.is_identity !== "YES" && c.is_generated !== "ALWAYS",
      })),
      foreignKeys: foreignKeys.map((f) => ({ constraint: String(f.constraint_name), table: String(f.table_name), column: String(f.column_name), references: String(f.ref_table) })),
    };
  }
  const columns = await conn.query(
    `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, IS_NULLABLE AS is_nullable, COLUMN_DEFAULT AS column_default, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${list})`,
    names,
  );
  const foreignKeys = await conn.query(
    `SELECT CONSTRAINT_NAME AS constraint_name, TABLE_NAME AS table_name, COLUMN_NAME AS column_name, REFERENCED_TABLE_NAME AS ref_table FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL AND TABLE_NAME IN (${list})`,
    names,
  );
  return {
    columns: columns.map((c) => ({
      table: String(c.table_name),
      column: String(c.column_name),
      // MariaDB reports a missing default as the text NULL.
      required: c.is_nullable === "NO" && (c.column_default === null || c.column_default === "NULL") && !/auto_increment|generated/i.test(String(c.extra ?? "")),
    })),
    foreignKeys: foreignKeys.map((f) => ({ constraint: String(f.constraint_name), table: String(f.table_name), column: String(f.column_name), references: String(f.ref_table) })),
  };
}

/**
 * Checks the tables that exist against what the run writes, before anything is written: every
 * column the run writes exists, every column it does not write may be left out, and no foreign key
 * forbids the orphans or dangling references the scenario asks for. Throws a ValidationError
 * naming the table, the column or the constraint.
 */
function checkExisting(field: string, where: string, tables: readonly TableSpec[], existing: Awaited<ReturnType<typeof inspect>>): void {
  for (const table of tables) {
    const columns = existing.columns.filter((c) => c.table === table.name);
    if (columns.length === 0) continue;
    const have = new Set(columns.map((c) => c.column));
    const missing = table.columns.filter((c) => !have.has(c.name));
    if (missing.length) {
      throw new ValidationError(
        field,
        `table ${table.name} in ${where} has no column ${missing.map((c) => `"${c.name}"`).join(", ")}, which the run writes (its columns: ${[...have].join(", ")}); add ${missing.length === 1 ? "it" : "them"}, or load into a new table with --create-tables`,
      );
    }
    const writes = new Set(table.columns.map((c) => c.name));
    const unfilled = columns.filter((c) => c.required && !writes.has(c.column));
    if (unfilled.length) {
      throw new ValidationError(
        field,
        `table ${table.name} in ${where} has NOT NULL column ${unfilled.map((c) => `"${c.column}"`).join(", ")} without a default, which the run does not write (it writes: ${[...writes].join(", ")}); give ${unfilled.length === 1 ? "it" : "them"} a default or allow NULL`,
      );
    }
    for (const fk of table.foreignKeys) {
      if (!fk.dangles) continue;
      const constraint = existing.foreignKeys.find((c) => c.table === table.name && c.column === fk.column);
      if (constraint) {
        throw new ValidationError(
          field,
          `${table.name}.${fk.column} will hold values that name no ${fk.references} (${fk.dangles}), which foreign key ${constraint.constraint} of table ${table.name} rejects; set the rate to 0, or drop the constraint to load them`,
        );
      }
    }
  }
}

/** A database's refusal in words that name the table and what it refused; PostgreSQL's and MySQL's own detail kept. */
function refusal(table: string, err: unknown): DatabaseLoadError {
  const e = err as { message?: string; detail?: string; constraint?: string; where?: string; sqlMessage?: string };
  const parts = [e.sqlMessage ?? e.message ?? String(err), e.detail, e.where].filter((p): p is string => typeof p === "string" && p !== "");
  return new DatabaseLoadError(`loading table ${table}: ${parts.join("; ")}${e.constraint ? ` (constraint ${e.constraint})` : ""}; rolled back, nothing was written`);
}

/** How far generation may run ahead of the database: encoded batches waiting to be sent (UTF-16 characters, about 2 bytes each). */
const AHEAD_CHARS = 4 * 1024 * 1024;

/** What the generation hands the sending: a batch, a file's end (its stats), a table's end. */
interface Item {
  readonly table: number;
  readonly batch?: Batch;
  readonly file?: { readonly planned: PlannedFile; readonly stats: RenderStats };
  readonly last?: true;
}

/**
 * A bounded queue between two tasks of one thread. `put` waits while the queue holds `limit`
 * characters and otherwise yields to the event loop (so the connection's I/O runs between
 * batches); `take` waits for an item. `fail` makes both throw from then on.
 */
class Channel<T extends { batch?: Batch }> {
  private readonly items: T[] = [];
  private size = 0;
  private failure: { err: unknown } | undefined;
  private wakeTaker: (() => void) | undefined;
  private wakePutter: (() => void) | undefined;
  constructor(private readonly limit: number) {}

  private static cost(item: { batch?: Batch }): number {
    const b = item.batch;
    return b === undefined ? 0 : "text" in b ? b.text.length : b.values.length * 64;
  }

  private check(): void {
    if (this.failure) throw this.failure.err;
  }

  async put(item: T): Promise<void> {
    this.check();
    this.items.push(item);
    this.size += Channel.cost(item);
    this.wake("taker");
    if (this.size >= this.limit) await new Promise<void>((resolve) => (this.wakePutter = resolve));
    else await new Promise<void>((resolve) => setImmediate(resolve));
    this.check();
  }

  async take(): Promise<T> {
    for (;;) {
      this.check();
      const item = this.items.shift();
      if (item) {
        this.size -= Channel.cost(item);
        if (this.size < this.limit) this.wake("putter");
        return item;
      }
      await new Promise<void>((resolve) => (this.wakeTaker = resolve));
    }
  }

  fail(err: unknown): void {
    this.failure ??= { err };
    this.wake("taker");
    this.wake("putter");
  }

  private wake(who: "taker" | "putter"): void {
    const wake = who === "taker" ? this.wakeTaker : this.wakePutter;
    if (who === "taker") this.wakeTaker = undefined;
    else this.wakePutter = undefined;
    wake?.();
  }
}

/** Renders each table's files (NDJSON: the run's own records), parses each record and encodes it for the database, table by table, file by file. */
async function produce(loads: readonly TableLoad[], conn: Connection, channel: Channel<Item>): Promise<void> {
  for (const [t, { table, plan }] of loads.entries()) {
    const encoder = conn.encoder(table);
    for (const file of plan.files) {
      const { chunks, stats } = renderFile(file);
      let carry = "";
      for (const chunk of chunks) {
        const text = carry + chunk.toString("latin1");
        let start = 0;
        for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
          if (encoder.add(JSON.parse(text.slice(start, end)) as Record<string, unknown>)) await channel.put({ table: t, batch: encoder.take() as Batch });
          start = end + 1;
        }
        carry = text.slice(start);
      }
      if (carry) throw new Error(`${file.key}: its last record has no line end`);
      const batch = encoder.take();
      await channel.put({ table: t, ...(batch ? { batch } : {}), file: { planned: file, stats } });
    }
    await channel.put({ table: t, last: true });
  }
}

/**
 * Loads a run's records into a database, in one transaction: every table or none. Tables go parents
 * first; each takes its records file by file, in file order, as the NDJSON files of the same run
 * hold them, by the database's bulk path (PostgreSQL COPY, MySQL multi-row INSERT). The run id is
 * kept in `synthgen_runs` with the run's digest in the same transaction: the same run again changes
 * nothing (`already_loaded`); the same run id for different rows is refused. Refusals that the
 * database's own schema decides (a missing table or column, a foreign key the scenario's orphans
 * would break) come before anything is written.
 */
export async function loadRun(target: DatabaseTarget, loads: readonly TableLoad[], options: LoadOptions): Promise<LoadOutcome> {
  const started = performance.now();
  const where = describeTarget(target);
  const runId = (loads[0] as TableLoad).plan.request.runId;
  const digest = runDigest(loads, options.definition);
  const tables = loads.map((l) => l.table);
  let conn: Connection;
  try {
    conn = await connect(target);
  } catch (err) {
    throw new ValidationError(options.field, `cannot connect to ${where}: ${(err as Error).message}`);
  }
  let open = false;
  try {
    const existing = await inspect(
      conn,
      tables.map((t) => t.name),
    );
    const present = new Set(existing.columns.map((c) => c.table));
    const absent = tables.filter((t) => !present.has(t.name));
    if (absent.length && !options.createTables) {
      throw new ValidationError(options.field, `${where} has no table ${absent.map((t) => t.name).join(", ")}; create ${absent.length === 1 ? "it" : "them"}, or run with --create-tables`);
    }
    checkExisting(options.field, where, tables, existing);

    // MySQL commits before and after each CREATE TABLE: the tables are made before its transaction.
    const begin = conn.dialect === "postgres" ? "BEGIN" : "START TRANSACTION";
    if (conn.dialect === "postgres") {
      await conn.query(begin);
      open = true;
    }
    await conn.query(LEDGER_SQL[conn.dialect]);
    const ledger = await conn.query(`SELECT run_digest, row_count FROM ${LEDGER_TABLE} WHERE run_id = ${placeholders(conn.dialect, 1)}`, [runId]);
    const loaded = ledger[0];
    if (loaded) {
      if (open) await conn.query("ROLLBACK");
      open = false;
      if (loaded.run_digest !== digest) {
        throw new ValidationError(
          options.field,
          `run id ${runId} is already loaded into ${where} with different rows (another definition, seed, day or size; ${LEDGER_TABLE} holds its digest ${String(loaded.run_digest).slice(0, 12)}…, this run's is ${digest.slice(0, 12)}…); give a new --run-id`,
        );
      }
      return {
        status: "already_loaded",
        database: where,
        runId,
        runDigest: digest,
        tables: tables.map((t) => ({ table: t.name, rows: 0, created: false })),
        totalRows: 0,
        durationMs: Math.round(performance.now() - started),
      };
    }
    for (const t of absent) await conn.query(createTableSql(conn.dialect, t));
    if (!open) {
      await conn.query(begin);
      open = true;
    }

    // Generation runs ahead of the sending (up to AHEAD_CHARS), so the database's work at the end of
    // each table's COPY (its foreign keys checked) overlaps the encoding of the next table.
    const channel = new Channel<Item>(AHEAD_CHARS);
    const produced = produce(loads, conn, channel).catch((err: unknown) => channel.fail(err));
    const outcomes: TableOutcome[] = [];
    let totalRows = 0;
    try {
      for (const [t, { table }] of loads.entries()) {
        const created = absent.includes(table);
        let dirty: DirtyCounts | undefined;
        let rows: number;
        let records = 0;
        try {
          const writer = conn.writer(table);
          for (;;) {
            const item = await channel.take();
            if (item.table !== t) throw new Error(`batch of table ${item.table} while loading table ${t}`);
            if (item.batch) await writer.send(item.batch);
            if (item.file) {
              records += item.file.stats.records;
              if (item.file.stats.dirty) dirty = addCounts(dirty ?? {}, item.file.stats.dirty);
              options.onFile?.(item.file.planned, item.file.stats.records);
            }
            if (item.last) break;
          }
          rows = await writer.end();
        } catch (err) {
          throw err instanceof DatabaseLoadError ? err : refusal(table.name, err);
        }
        if (rows !== records) throw new DatabaseLoadError(`loading table ${table.name}: the database took ${rows} rows of the ${records} records sent; rolled back, nothing was written`);
        totalRows += rows;
        const left = created ? table.foreignKeys.filter((f) => f.dangles) : [];
        outcomes.push({
          table: table.name,
          rows,
          created,
          ...(created && table.foreignKeys.length > left.length ? { foreignKeys: table.foreignKeys.filter((f) => !f.dangles).map((f) => foreignKeyName(table.name, f)) } : {}),
          ...(left.length ? { foreignKeysLeftOut: left.map((f) => ({ constraint: foreignKeyName(table.name, f), why: f.dangles as string })) } : {}),
          ...(dirty ? { dirtyRecords: dirty } : {}),
        });
      }
    } catch (err) {
      channel.fail(err);
      throw err;
    } finally {
      await produced;
    }
    try {
      await conn.query(`INSERT INTO ${LEDGER_TABLE} (run_id, run_digest, tables, row_count) VALUES (${placeholders(conn.dialect, 4)})`, [
        runId,
        digest,
        tables.map((t) => t.name).join(","),
        totalRows,
      ]);
      await conn.query("COMMIT");
    } catch (err) {
      throw refusal(LEDGER_TABLE, err);
    }
    open = false;
    return { status: "loaded", database: where, runId, runDigest: digest, tables: outcomes, totalRows, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (open) await conn.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await conn.close().catch(() => undefined);
  }
}
