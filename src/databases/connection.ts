import { urlParts, type DatabaseTarget } from "./target";
import { ident, type Dialect, type TableSpec } from "./tables";

type Obj = Record<string, unknown>;

/** Rows of one table, encoded for the database's bulk path: CSV text (PostgreSQL) or rows of values (MySQL). */
export type Batch = { readonly text: string; readonly rows: number } | { readonly values: unknown[][]; readonly rows: number };

/** Encodes one table's records into batches; CPU only, no I/O, so it can run ahead of the sending. */
export interface Encoder {
  /** Adds a record; true when a batch is ready to `take`. */
  add(record: Obj): boolean;
  /** The batch so far (undefined when empty). */
  take(): Batch | undefined;
}

/** Sends one table's batches, in order, on the connection. */
export interface TableWriter {
  /** Resolves when the connection can take the next batch. */
  send(batch: Batch): Promise<void>;
  /** After the last batch: the rows the database took. */
  end(): Promise<number>;
}

/** One connection to the database: everything a load does goes through it, in its one transaction. */
export interface Connection {
  readonly dialect: Dialect;
  /** A statement with `$1`-style (PostgreSQL) or `?` (MySQL) parameters; its rows. */
  query(sql: string, params?: readonly unknown[]): Promise<Obj[]>;
  encoder(table: TableSpec): Encoder;
  writer(table: TableSpec): TableWriter;
  /** Several statements in one text, without parameters (PGlite only: a DDL file run by `infer`). */
  exec?(sql: string): Promise<void>;
  /** A query's rows as the server sends them, never held whole (MySQL: the driver's row stream). */
  stream?(sql: string): AsyncIterable<Obj>;
  close(): Promise<void>;
}

/** Text sent in one piece: a COPY chunk (PostgreSQL), or about one INSERT's worth of values (MySQL). */
const CHUNK_CHARS = 256 * 1024;
/** What PGlite takes per COPY: its COPY reads a whole Blob, so a table goes in pieces of this size. */
const PGLITE_COPY_BYTES = 8 * 1024 * 1024;
/** Rows per PostgreSQL COPY statement, about: a table goes in as several, so that one's foreign-key checks overlap the next one's rows. */
const ROWS_PER_COPY = 25_000;
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

/** PostgreSQL's CSV lines, CHUNK_CHARS at a time. */
function csvEncoder(table: TableSpec): Encoder {
  let text = "";
  let rows = 0;
  return {
    add(record) {
      text += postgresCsvLine(table, record);
      rows++;
      return text.length >= CHUNK_CHARS;
    },
    take() {
      if (rows === 0) return undefined;
      const batch = { text, rows };
      text = "";
      rows = 0;
      return batch;
    },
  };
}

/** MySQL's rows of values, one INSERT's worth at a time. */
function valuesEncoder(table: TableSpec): Encoder {
  let values: unknown[][] = [];
  let chars = 0;
  return {
    add(record) {
      const row = mysqlValues(table, record);
      values.push(row);
      for (const v of row) chars += typeof v === "string" ? v.length + 3 : 8;
      return values.length >= MYSQL_ROWS_PER_INSERT || chars >= CHUNK_CHARS;
    },
    take() {
      if (values.length === 0) return undefined;
      const batch = { values, rows: values.length };
      values = [];
      chars = 0;
      return batch;
    },
  };
}

const textOf = (batch: Batch): string => ("text" in batch ? batch.text : "");

const columnList = (dialect: Dialect, table: TableSpec) => table.columns.map((c) => ident(dialect, c.name)).join(", ");

/** Opens the one connection a load uses. Each driver loads only when its kind of database is used. */
export async function connect(target: DatabaseTarget): Promise<Connection> {
  if (target.kind === "mysql") return connectMysql(target.url, target.tls === true);
  if (target.kind === "pglite") return connectPglite(target.dir);
  return connectPostgres(target.url, target.tls === true);
}

/** TLS with the server's certificate checked against the trusted CAs (Node's, and NODE_EXTRA_CA_CERTS), and its name against the host. */
const VERIFIED_TLS = { rejectUnauthorized: true } as const;

async function connectPostgres(url: string, tls: boolean): Promise<Connection> {
  const { Client } = require("pg") as typeof import("pg");
  const { from: copyFrom } = require("pg-copy-streams") as typeof import("pg-copy-streams");
  // With TLS the URL's parts are given one by one: pg lets a connection string override `ssl`.
  const client = new Client(tls ? { ...urlParts(url), ssl: VERIFIED_TLS } : { connectionString: url });
  await client.connect();
  // A connection error between statements (the server went away) surfaces on the next query.
  client.on("error", () => undefined);
  return {
    dialect: "postgres",
    query: async (sql, params) => (await client.query(sql, params as unknown[] | undefined)).rows as Obj[],
    encoder: csvEncoder,
    writer(table) {
      const sql = `COPY ${ident("postgres", table.name)} (${columnList("postgres", table)}) FROM STDIN WITH (FORMAT csv)`;
      // A table goes in as COPY statements of about ROWS_PER_COPY rows: PostgreSQL checks a
      // statement's foreign keys when it ends, so the checks of one overlap the sending of the next.
      const finished: Promise<number>[] = [];
      let stream: ReturnType<typeof copyFrom> | undefined;
      let rows = 0;
      let failure: Error | undefined;
      const close = (s: ReturnType<typeof copyFrom>) => {
        finished.push(
          new Promise<number>((resolve, reject) => {
            s.once("finish", () => resolve(s.rowCount));
            s.once("error", reject);
            s.end();
          }),
        );
        // Seen by the next send; the rejection itself is awaited by end().
        finished.at(-1)?.catch((err: Error) => {
          failure ??= err;
        });
      };
      return {
        send(batch) {
          if (failure) return Promise.reject(failure);
          if (!stream) {
            const s = client.query(copyFrom(sql));
            s.on("error", (err: Error) => {
              failure ??= err;
            });
            stream = s;
          }
          const s = stream;
          rows += batch.rows;
          if (rows >= ROWS_PER_COPY) {
            stream = undefined;
            rows = 0;
          }
          const ok = s.write(textOf(batch));
          if (stream === undefined) close(s);
          if (ok || stream === undefined) return Promise.resolve();
          return new Promise<void>((resolve, reject) => {
            const done = () => {
              s.off("error", fail);
              resolve();
            };
            const fail = (err: Error) => {
              s.off("drain", done);
              reject(err);
            };
            s.once("drain", done);
            s.once("error", fail);
          });
        },
        async end() {
          if (stream) close(stream);
          stream = undefined;
          let total = 0;
          for (const n of await Promise.all(finished)) total += n;
          return total;
        },
      };
    },
    close: () => client.end(),
  };
}

/** A PGlite database held in memory only, gone when closed. */
export const PGLITE_MEMORY = "memory://";

async function connectPglite(dir: string): Promise<Connection> {
  const { mkdirSync } = require("node:fs") as typeof import("node:fs");
  if (dir !== PGLITE_MEMORY) mkdirSync(dir, { recursive: true });
  const { PGlite } = require("@electric-sql/pglite") as typeof import("@electric-sql/pglite");
  const db = await PGlite.create(dir);
  return {
    dialect: "postgres",
    exec: async (sql) => {
      await db.exec(sql);
    },
    query: async (sql, params) => (await db.query(sql, params as unknown[] | undefined)).rows as Obj[],
    encoder: csvEncoder,
    writer(table) {
      const sql = `COPY ${ident("postgres", table.name)} (${columnList("postgres", table)}) FROM '/dev/blob' WITH (FORMAT csv)`;
      let parts: string[] = [];
      let bytes = 0;
      let rows = 0;
      const copy = async () => {
        const blob = new Blob(parts);
        parts = [];
        bytes = 0;
        rows += (await db.query(sql, [], { blob })).affectedRows ?? 0;
      };
      return {
        async send(batch) {
          const text = textOf(batch);
          parts.push(text);
          bytes += text.length;
          if (bytes >= PGLITE_COPY_BYTES) await copy();
        },
        async end() {
          if (parts.length) await copy();
          return rows;
        },
      };
    },
    close: () => db.close(),
  };
}

/** The callback connection under mysql2's promise one (its `connection`, not in its types): the one that streams rows. */
interface CallbackConnection {
  query(sql: string): { stream(options: { highWaterMark: number }): NodeJS.ReadableStream };
}

async function connectMysql(url: string, tls: boolean): Promise<Connection> {
  const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
  const options = { timezone: "Z", dateStrings: true, supportBigNumbers: true, bigNumberStrings: true } as const;
  const conn = await mysql.createConnection(tls ? { ...urlParts(url), ...options, ssl: { ...VERIFIED_TLS } } : { uri: url.replace(/^mariadb:/i, "mysql:"), ...options });
  // Strict: a value the column cannot hold is an error, never a warning and a silently changed value.
  await conn.query("SET SESSION time_zone = '+00:00', SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
  return {
    dialect: "mysql",
    query: async (sql, params) => {
      const [rows] = await conn.query(sql, params as unknown[] | undefined);
      return Array.isArray(rows) ? (rows as Obj[]) : [];
    },
    // The driver pauses the socket while the stream's buffer is full: a table is read a few rows at a time.
    stream: (sql) => (conn as unknown as { connection: CallbackConnection }).connection.query(sql).stream({ highWaterMark: 1000 }) as AsyncIterable<Obj>,
    encoder: valuesEncoder,
    writer(table) {
      const sql = `INSERT INTO ${ident("mysql", table.name)} (${columnList("mysql", table)}) VALUES ?`;
      let rows = 0;
      return {
        async send(batch) {
          const [result] = await conn.query(sql, ["values" in batch ? batch.values : []]);
          rows += (result as { affectedRows: number }).affectedRows;
        },
        end: async () => rows,
      };
    },
    close: () => conn.end(),
  };
}
