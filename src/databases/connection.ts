import type { DatabaseTarget } from "./target";
import { ident, type Dialect, type TableSpec } from "./tables";

type Obj = Record<string, unknown>;

/** Rows of one table on their way in, by the database's fastest path. */
export interface BulkLoad {
  /** Adds a record; a promise when the caller must wait (the connection is busy sending). */
  add(record: Obj): Promise<void> | undefined;
  /** Sends what is left; the rows the database took. */
  end(): Promise<number>;
}

/** One connection to the database: everything a load does goes through it, in its one transaction. */
export interface Connection {
  readonly dialect: Dialect;
  /** A statement with `$1`-style (PostgreSQL) or `?` (MySQL) parameters; its rows. */
  query(sql: string, params?: readonly unknown[]): Promise<Obj[]>;
  bulk(table: TableSpec): BulkLoad;
  close(): Promise<void>;
}

/** Text sent in one piece: a COPY chunk (PostgreSQL), or about one INSERT's worth of values (MySQL). */
const CHUNK_CHARS = 256 * 1024;
/** What PGlite takes per COPY: its COPY reads a whole Blob, so a table goes in pieces of this size. */
const PGLITE_COPY_BYTES = 8 * 1024 * 1024;
/** Rows per multi-row INSERT at most (and CHUNK_CHARS of values): well under MySQL's 16 MiB packet. */
const MYSQL_ROWS_PER_INSERT = 5000;

const valueAt = (record: Obj, path: readonly string[]): unknown => {
  let v: unknown = record;
  for (const k of path) v = v === null || typeof v !== "object" ? undefined : (v as Obj)[k];
  return v;
};

/**
 * A record as a line of PostgreSQL's CSV COPY: null is an unquoted empty cell; every string is
 * quoted (so `""` stays an empty string and a value `\.` is data, not the end marker), its quotes
 * doubled; a `json` column's value, and any object, as JSON text.
 */
export function postgresCsvLine(table: TableSpec, record: Obj): string {
  let line = "";
  for (let i = 0; i < table.columns.length; i++) {
    const c = table.columns[i] as TableSpec["columns"][number];
    const v = valueAt(record, c.path);
    let cell = "";
    if (v !== undefined && v !== null) {
      if (typeof v === "string" && c.type !== "json") cell = `"${v.replaceAll('"', '""')}"`;
      else if (typeof v === "object" || c.type === "json") cell = `"${JSON.stringify(v).replaceAll('"', '""')}"`;
      else cell = String(v);
    }
    line += i === 0 ? cell : `,${cell}`;
  }
  return `${line}\n`;
}

/** A record's values for a MySQL INSERT: times as UTC DATETIME text, JSON as its text, null for missing. */
export function mysqlValues(table: TableSpec, record: Obj): unknown[] {
  return table.columns.map((c) => {
    const v = valueAt(record, c.path);
    if (v === undefined || v === null) return null;
    if (c.type === "json" || typeof v === "object") return JSON.stringify(v);
    if (c.type === "timestamp" && typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return v.slice(0, 23).replace("T", " ").replace(/Z$/, "");
    return v;
  });
}

const columnList = (dialect: Dialect, table: TableSpec) => table.columns.map((c) => ident(dialect, c.name)).join(", ");

/** Opens the one connection a load uses. Each driver loads only when its kind of database is used. */
export async function connect(target: DatabaseTarget): Promise<Connection> {
  if (target.kind === "mysql") return connectMysql(target.url);
  if (target.kind === "pglite") return connectPglite(target.dir);
  return connectPostgres(target.url);
}

async function connectPostgres(url: string): Promise<Connection> {
  const { Client } = require("pg") as typeof import("pg");
  const { from: copyFrom } = require("pg-copy-streams") as typeof import("pg-copy-streams");
  const client = new Client({ connectionString: url });
  await client.connect();
  // A connection error between statements (the server went away) surfaces on the next query.
  client.on("error", () => undefined);
  return {
    dialect: "postgres",
    query: async (sql, params) => (await client.query(sql, params as unknown[] | undefined)).rows as Obj[],
    bulk(table) {
      const stream = client.query(copyFrom(`COPY ${ident("postgres", table.name)} (${columnList("postgres", table)}) FROM STDIN WITH (FORMAT csv)`));
      let failure: Error | undefined;
      stream.on("error", (err: Error) => {
        failure = err;
      });
      let text = "";
      const send = (): Promise<void> | undefined => {
        if (failure) throw failure;
        const ok = stream.write(text);
        text = "";
        return ok
          ? undefined
          : new Promise<void>((resolve, reject) => {
              const done = () => {
                stream.off("drain", done);
                stream.off("error", fail);
                resolve();
              };
              const fail = (err: Error) => {
                stream.off("drain", done);
                reject(err);
              };
              stream.on("drain", done);
              stream.once("error", fail);
            });
      };
      return {
        add(record) {
          text += postgresCsvLine(table, record);
          return text.length >= CHUNK_CHARS ? send() : undefined;
        },
        async end() {
          if (text) await send();
          await new Promise<void>((resolve, reject) => {
            if (failure) return reject(failure);
            stream.once("finish", resolve);
            stream.once("error", reject);
            stream.end();
          });
          return stream.rowCount;
        },
      };
    },
    close: () => client.end(),
  };
}

async function connectPglite(dir: string): Promise<Connection> {
  const { mkdirSync } = require("node:fs") as typeof import("node:fs");
  mkdirSync(dir, { recursive: true });
  const { PGlite } = require("@electric-sql/pglite") as typeof import("@electric-sql/pglite");
  const db = await PGlite.create(dir);
  return {
    dialect: "postgres",
    query: async (sql, params) => (await db.query(sql, params as unknown[] | undefined)).rows as Obj[],
    bulk(table) {
      const sql = `COPY ${ident("postgres", table.name)} (${columnList("postgres", table)}) FROM '/dev/blob' WITH (FORMAT csv)`;
      let parts: string[] = [];
      let text = "";
      let bytes = 0;
      let rows = 0;
      const copy = async () => {
        if (text) parts.push(text);
        const blob = new Blob(parts);
        parts = [];
        text = "";
        bytes = 0;
        const result = await db.query(sql, [], { blob });
        rows += result.affectedRows ?? 0;
      };
      return {
        add(record) {
          text += postgresCsvLine(table, record);
          if (text.length < CHUNK_CHARS) return undefined;
          parts.push(text);
          bytes += text.length;
          text = "";
          return bytes >= PGLITE_COPY_BYTES ? copy() : undefined;
        },
        async end() {
          if (text || parts.length) await copy();
          return rows;
        },
      };
    },
    close: () => db.close(),
  };
}

async function connectMysql(url: string): Promise<Connection> {
  const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
  const conn = await mysql.createConnection({ uri: url.replace(/^mariadb:/i, "mysql:"), timezone: "Z", dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  // Strict: a value the column cannot hold is an error, never a warning and a silently changed value.
  await conn.query("SET SESSION time_zone = '+00:00', SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
  return {
    dialect: "mysql",
    query: async (sql, params) => {
      const [rows] = await conn.query(sql, params as unknown[] | undefined);
      return Array.isArray(rows) ? (rows as Obj[]) : [];
    },
    bulk(table) {
      const sql = `INSERT INTO ${ident("mysql", table.name)} (${columnList("mysql", table)}) VALUES ?`;
      let batch: unknown[][] = [];
      let chars = 0;
      let rows = 0;
      const insert = async () => {
        const values = batch;
        batch = [];
        chars = 0;
        const [result] = await conn.query(sql, [values]);
        rows += (result as { affectedRows: number }).affectedRows;
      };
      return {
        add(record) {
          const values = mysqlValues(table, record);
          batch.push(values);
          for (const v of values) chars += typeof v === "string" ? v.length + 3 : 8;
          return batch.length >= MYSQL_ROWS_PER_INSERT || chars >= CHUNK_CHARS ? insert() : undefined;
        },
        async end() {
          if (batch.length) await insert();
          return rows;
        },
      };
    },
    close: () => conn.end(),
  };
}
