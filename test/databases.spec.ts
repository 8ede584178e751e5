import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "pg";
import { synthgen } from "./support/cli";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { freePort, mariadbInstalled, serverSuite, startMariadb, startPostgres, type TlsDatabase } from "./support/databases";
import { writeBundle } from "./support/lambda-runtime";
import { loadProgram, rolePolicyOf, type LoadedProgram } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { startFakeSecretsManager, type FakeSecretsManager } from "./support/secrets-manager";
import { invokeProgramFunctionLogged } from "./support/state-machine";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";
import { urlParts as urlPartsOf } from "../src/databases/target";

const SHOP = join(__dirname, "..", "..", "examples", "shop.yaml");
/** One identity for every run of the shop, so the NDJSON files and the tables hold the same run. */
const RUN = ["--run-id", "db-shop-1", "--seed", "42", "--date", "2026-03-01"];

/** The shop's keys: each table's primary key and the foreign keys its relations imply. */
const KEYS: Readonly<Record<string, string>> = { users: "user_id", products: "product_id", orders: "order_id", order_lines: "line_id", tickets: "ticket_id" };
const FOREIGN_KEYS = ["order_lines.order_id -> orders", "order_lines.user_id -> users", "orders.product_id -> products", "orders.user_id -> users", "tickets.user_id -> users"];

/** A small scenario of two tables, with a knob for orphans. */
const small = (orphans = 0, extra = "") => `
name: small
datasets:
  users:
    count: 300
    fields:
      user_id: { sequence: {} }
      email: { faker: internet.email }
      score: { number: { min: 0, max: 100, decimals: 2 } }
      signup_at: { timestamp: iso }
      vip: { boolean: 0.2 }
      tags: { array: { items: { choice: [a, b, c] }, min: 0, max: 3 } }
  orders:
    parent: users
    per_parent: { distribution: poisson, mean: 2 }
    orphans: ${orphans}
    fields:
      order_id: { sequence: { format: "o-{n}" } }
      user_id: { ref: users.user_id }
      note: { template: "order for {users.email}" }
      ${extra}
`;

type Row = Record<string, unknown>;

/** What a record and a row have in common, whatever the driver returns: numbers, ISO times, parsed JSON, null for missing. */
function normalise(value: unknown, column: string, timeColumns: ReadonlySet<string>): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (timeColumns.has(column) && typeof value === "string") return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(" ", "T")}Z`).toISOString();
  return value;
}

/** Rows in a stable form for comparing: each value normalised, the rows ordered by key. */
function canonical(
  rows: readonly Row[],
  key: string,
  columns: readonly string[],
  types: { times: ReadonlySet<string>; ints: ReadonlySet<string>; bools: ReadonlySet<string>; json: ReadonlySet<string> },
): string[] {
  return rows
    .map((r) =>
      columns.map((c) => {
        let v = normalise(r[c], c, types.times);
        if (v !== null && types.ints.has(c)) v = Number(v);
        if (v !== null && types.bools.has(c)) v = v === true || v === 1 || v === "1";
        if (v !== null && types.json.has(c) && typeof v === "string") v = JSON.parse(v);
        return v;
      }),
    )
    .sort((a, b) => {
      const x = a[columns.indexOf(key)] as string | number;
      const y = b[columns.indexOf(key)] as string | number;
      return x < y ? -1 : x > y ? 1 : 0;
    })
    .map((r) => JSON.stringify(r));
}

let files = 0;
/** A scenario's text in a file of its own, for --scenario. */
async function scenarioFile(text: string): Promise<string> {
  const path = join(work, `scenario-${++files}.yaml`);
  await writeFile(path, text);
  return path;
}

/** A run's NDJSON records by dataset folder. */
async function ndjsonRecords(dir: string): Promise<Map<string, Row[]>> {
  const out = new Map<string, Row[]>();
  for (const dataset of await readdir(dir)) {
    if (dataset.startsWith("_")) continue;
    const rows: Row[] = [];
    for (const f of (await readdir(join(dir, dataset))).sort()) {
      for (const line of (await readFile(join(dir, dataset, f), "utf8")).split("\n")) if (line) rows.push(JSON.parse(line) as Row);
    }
    out.set(dataset, rows);
  }
  return out;
}

const SHOP_TYPES = {
  times: new Set(["signup_at", "placed_at", "shipped_at", "opened_at"]),
  ints: new Set(["user_id", "line_id", "quantity"]),
  bools: new Set<string>(),
  json: new Set<string>(),
};

/** Every table's rows equal the NDJSON files' records of the same run, field for field. */
function assertSameRows(records: ReadonlyMap<string, Row[]>, rowsOf: ReadonlyMap<string, Row[]>, types = SHOP_TYPES): void {
  for (const [dataset, expected] of records) {
    const rows = rowsOf.get(dataset) as Row[];
    const columns = [...new Set(expected.flatMap((r) => Object.keys(r)))];
    const key = KEYS[dataset] ?? (columns[0] as string);
    assert.equal(rows.length, expected.length, `${dataset}: rows`);
    assert.deepEqual(canonical(rows, key, columns, types), canonical(expected, key, columns, types), `${dataset}: the same rows as the NDJSON files`);
  }
}

async function pgClient(url: string): Promise<Client> {
  const { Client: PgClient } = require("pg") as typeof import("pg");
  const client = new PgClient({ connectionString: url });
  await client.connect();
  return client;
}

const pgRows = async (client: Client, table: string): Promise<Row[]> => (await client.query(`SELECT * FROM "${table}"`)).rows as Row[];

async function pgCounts(url: string, tables: readonly string[]): Promise<Record<string, number>> {
  const client = await pgClient(url);
  try {
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = Number((await client.query(`SELECT count(*) AS n FROM "${t}"`)).rows[0].n);
    return out;
  } finally {
    await client.end();
  }
}

/** The shop's NDJSON files of the same run, read back once. */
let shopRecords: Map<string, Row[]>;
let work: string;

before(async function () {
  this.timeout(120_000);
  work = await mkdtemp(join(tmpdir(), "synthgen-db-"));
  const run = await synthgen(["generate", "--scenario", SHOP, ...RUN, "--out", join(work, "ndjson")]);
  assert.equal(run.code, 0, run.stderr);
  shopRecords = await ndjsonRecords(join(work, "ndjson"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const hasPostgres = () => {
  try {
    execFileSync("pg_config", ["--bindir"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

describe("Databases: a run's records into PostgreSQL and MySQL tables (generate --out postgres:// | mysql:// | pglite://)", function () {
  this.timeout(180_000);

  serverSuite("PostgreSQL 15, the system's server on a loopback port", hasPostgres, startPostgres, (db) => {
    it("the shop with --create-tables: every foreign key declared and enforced, 0 violations, the scenario's counts, the same rows as the NDJSON files of the same run", async () => {
      const run = await synthgen(["generate", "--scenario", SHOP, ...RUN, "--out", db().url, "--create-tables"]);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout);
      assert.equal(summary.status, "completed");
      assert.equal(summary.database, db().url);
      assert.equal(summary.tables.users.rows, 20_000);
      assert.deepEqual(Object.keys(summary.tables), ["users", "products", "orders", "order_lines", "tickets"], "parents before children");
      const client = await pgClient(db().url);
      try {
        const fks = await client.query(
          `SELECT rel.relname || '.' || att.attname || ' -> ' || frel.relname AS fk FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
           JOIN pg_class frel ON frel.oid = con.confrelid JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey) WHERE con.contype = 'f' ORDER BY 1`,
        );
        assert.deepEqual(
          fks.rows.map((r) => r.fk),
          FOREIGN_KEYS,
        );
        const pks = await client.query(
          `SELECT rel.relname AS t FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE con.contype = 'p' AND ns.nspname = 'public' AND rel.relname <> 'synthgen_runs' ORDER BY 1`,
        );
        assert.deepEqual(
          pks.rows.map((r) => r.t),
          Object.keys(KEYS).sort(),
        );
        for (const fk of FOREIGN_KEYS) {
          const [, table, column, parent] = /^(\w+)\.(\w+) -> (\w+)$/.exec(fk) as RegExpExecArray;
          const orphans = await client.query(
            `SELECT count(*) AS n FROM "${table}" c WHERE c."${column}" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "${parent}" p WHERE p."${KEYS[parent as string]}" = c."${column}")`,
          );
          assert.equal(Number(orphans.rows[0].n), 0, `${fk}: violations`);
        }
        await assert.rejects(
          client.query(`INSERT INTO orders (order_id, user_id) VALUES ('ord-x', 999999999)`),
          (err: { code?: string; constraint?: string }) => err.code === "23503" && err.constraint === "orders_user_id_fkey",
        );
        const rows = new Map<string, Row[]>();
        for (const t of Object.keys(KEYS)) rows.set(t, await pgRows(client, t));
        for (const [t, records] of shopRecords) assert.equal(summary.tables[t].rows, records.length, `${t}: the summary counts the NDJSON run's records`);
        assertSameRows(shopRecords, rows);
      } finally {
        await client.end();
      }
    });

    it("synthgen verify reads each table back over TCP (every column as PostgreSQL's text): every record of the run found once, none changed", async () => {
      for (const table of Object.keys(KEYS)) {
        const run = await synthgen(["verify", "--scenario", SHOP, "--dataset", table, ...RUN, "--output", db().url]);
        assert.equal(run.code, 0, `${table}: ${run.stderr}`);
        const report = JSON.parse(run.stdout);
        assert.equal(report.found, report.expected_records);
        assert.equal(report.output.rows, report.expected_records, `${table}: rows read`);
        assert.deepEqual([report.missing, report.changed, report.unexpected, report.output.formats], [0, 0, 0, { table: 1 }]);
      }
    });

    it("the same run again changes nothing; the same run id with other rows, or another run over the same keys, is refused and writes nothing", async () => {
      const before = await pgCounts(db().url, [...Object.keys(KEYS), "synthgen_runs"]);
      const again = await synthgen(["generate", "--scenario", SHOP, ...RUN, "--out", db().url, "--create-tables"]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).status, "already_loaded");
      assert.match(again.stderr, /already in .*; nothing written/);
      const otherSeed = await synthgen(["generate", "--scenario", SHOP, "--run-id", "db-shop-1", "--seed", "43", "--date", "2026-03-01", "--out", db().url]);
      assert.equal(otherSeed.code, 2, otherSeed.stderr);
      assert.match(otherSeed.stderr, /--out: run id db-shop-1 is already loaded into .* with different rows .*give a new --run-id/);
      const otherRun = await synthgen(["generate", "--scenario", SHOP, "--run-id", "db-shop-2", "--seed", "42", "--date", "2026-03-01", "--out", db().url]);
      assert.equal(otherRun.code, 1, otherRun.stderr);
      assert.match(otherRun.stderr, /loading table users: duplicate key value violates unique constraint "users_pkey".*rolled back, nothing was written/);
      assert.equal(JSON.parse(otherRun.stdout).status, "failed");
      assert.deepEqual(await pgCounts(db().url, [...Object.keys(KEYS), "synthgen_runs"]), before);
    });

    it("an existing schema is used as it is: its own column types (numeric, integer, varchar), a column it fills by default", async () => {
      const client = await pgClient(db().url);
      try {
        await client.query("CREATE SCHEMA own; SET search_path = own");
        await client.query(
          `CREATE TABLE own.users (user_id integer PRIMARY KEY, email varchar(200) NOT NULL, score numeric(6,2), signup_at timestamptz, vip boolean, tags jsonb, loaded_at timestamptz NOT NULL DEFAULT now())`,
        );
        await client.query(`CREATE TABLE own.orders (order_id varchar(20) PRIMARY KEY, user_id integer NOT NULL REFERENCES own.users (user_id), note text)`);
      } finally {
        await client.end();
      }
      const url = `${db().url}?options=-c%20search_path%3Down`;
      const run = await synthgen(["generate", "--scenario", await scenarioFile(small()), "--out", url, "--run-id", "own-1", "--date", "2026-03-01"]);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout);
      assert.deepEqual([summary.tables.users.created, summary.tables.orders.created], [false, false]);
      const check = await pgClient(url);
      try {
        const types = await check.query(`SELECT pg_typeof(score)::text AS score, pg_typeof(user_id)::text AS id, count(*) AS n, count(loaded_at) AS stamped FROM users GROUP BY 1, 2`);
        assert.deepEqual(types.rows, [{ score: "numeric", id: "integer", n: "300", stamped: "300" }]);
        const orders = await check.query("SELECT count(*) AS n FROM orders");
        assert.equal(Number(orders.rows[0].n), summary.tables.orders.rows);
      } finally {
        await check.end();
      }
    });

    it("refused before anything is written, naming what is wrong: a table that is missing, a column it lacks, a NOT NULL column the run does not write, a foreign key the scenario's orphans would break", async () => {
      const client = await pgClient(db().url);
      try {
        await client.query("CREATE SCHEMA strict_one");
        await client.query(`CREATE TABLE strict_one.users (user_id bigint PRIMARY KEY, email text, score double precision, signup_at timestamptz, vip boolean, tags jsonb)`);
        await client.query(`CREATE TABLE strict_one.orders (order_id text PRIMARY KEY, user_id bigint CONSTRAINT orders_belong_to_users REFERENCES strict_one.users (user_id), note text)`);
      } finally {
        await client.end();
      }
      const url = (schema: string) => `${db().url}?options=-c%20search_path%3D${schema}`;
      const cases: [string, string, RegExp][] = [
        ["public", small(0, "x: { const: 1 }").replace("name: small", "name: nowhere").replaceAll("users", "accounts"), /has no table accounts; create it, or run with --create-tables/],
        ["strict_one", small(0, "channel: { choice: [web, app] }"), /table orders in .* has no column "channel", which the run writes/],
        ["strict_one", small(0.05), /orders\.user_id will hold values that name no users \(orders\.orphans is 0\.05\), which foreign key orders_belong_to_users of table orders rejects/],
      ];
      for (const [schema, text, message] of cases) {
        const run = await synthgen(["generate", "--scenario", await scenarioFile(text), "--out", url(schema), "--date", "2026-03-01"]);
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, message);
      }
      const admin = await pgClient(db().url);
      try {
        await admin.query("ALTER TABLE strict_one.orders ADD COLUMN region text NOT NULL");
      } finally {
        await admin.end();
      }
      const unfilled = await synthgen(["generate", "--scenario", await scenarioFile(small()), "--out", url("strict_one"), "--date", "2026-03-01"]);
      assert.equal(unfilled.code, 2, unfilled.stderr);
      assert.match(unfilled.stderr, /table orders in .* has NOT NULL column "region" without a default, which the run does not write/);
      assert.deepEqual(await pgCounts(url("strict_one"), ["users", "orders"]), { users: 0, orders: 0 });
    });

    it("a value a column cannot hold, found part-way, rolls the whole load back: no table keeps a row, no run is recorded", async () => {
      const client = await pgClient(db().url);
      try {
        await client.query("CREATE SCHEMA narrow");
        await client.query(`CREATE TABLE narrow.users (user_id bigint PRIMARY KEY, email text, score double precision, signup_at timestamptz, vip boolean, tags jsonb)`);
        await client.query(`CREATE TABLE narrow.orders (order_id text PRIMARY KEY, user_id bigint, note varchar(12))`);
      } finally {
        await client.end();
      }
      const url = `${db().url}?options=-c%20search_path%3Dnarrow`;
      const run = await synthgen(["generate", "--scenario", await scenarioFile(small()), "--out", url, "--run-id", "narrow-1", "--date", "2026-03-01"]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /loading table orders: value too long for type character varying\(12\).*COPY orders, line 1.*rolled back, nothing was written/);
      assert.deepEqual(await pgCounts(url, ["users", "orders"]), { users: 0, orders: 0 });
      const ledger = await pgClient(url);
      try {
        assert.equal((await ledger.query("SELECT to_regclass('synthgen_runs') AS t")).rows[0].t, null, "the run's ledger table was rolled back with its rows");
      } finally {
        await ledger.end();
      }
    });

    it("orphans with --create-tables: the foreign key that would reject them is left out and said so, and the orphans the summary counts are in the table", async () => {
      const client = await pgClient(db().url);
      await client.query("CREATE SCHEMA orphaned");
      await client.end();
      const url = `${db().url}?options=-c%20search_path%3Dorphaned`;
      const run = await synthgen(["generate", "--scenario", await scenarioFile(small(0.1)), "--out", url, "--create-tables", "--date", "2026-03-01"]);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout);
      assert.deepEqual(summary.tables.orders.foreign_keys_left_out, [{ constraint: "orders_user_id_fkey", why: "orders.orphans is 0.1" }]);
      const orphans = summary.tables.orders.dirty_records.orphan as number;
      assert.ok(orphans > 0);
      const check = await pgClient(url);
      try {
        const n = await check.query(`SELECT count(*) AS n FROM orders o WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = o.user_id)`);
        assert.equal(Number(n.rows[0].n), orphans);
        const fks = await check.query(`SELECT count(*) AS n FROM pg_constraint con JOIN pg_namespace ns ON ns.oid = con.connamespace WHERE con.contype = 'f' AND ns.nspname = 'orphaned'`);
        assert.equal(Number(fks.rows[0].n), 0);
      } finally {
        await check.end();
      }
    });

    it("a built-in dataset loads too: its columns, one table, the same records as its files", async () => {
      const flags = ["--dataset", "tutoring-events", "--files", "2", "--size-mb", "0.2", "--run-id", "tut-1", "--seed", "7", "--date", "2026-03-01"];
      const run = await synthgen(["generate", ...flags, "--out", db().url, "--create-tables"]);
      assert.equal(run.code, 0, run.stderr);
      const files = await synthgen(["generate", ...flags, "--out", join(work, "tutoring")]);
      assert.equal(files.code, 0, files.stderr);
      const records = (await Promise.all((await readdir(join(work, "tutoring"))).map((f) => readFile(join(work, "tutoring", f), "utf8")))).join("").split("\n").filter(Boolean);
      assert.equal(JSON.parse(run.stdout).tables["tutoring-events"].rows, records.length);
      assert.equal((await pgCounts(db().url, ["tutoring-events"]))["tutoring-events"], records.length);
    });
  });

  describe("PGlite: real PostgreSQL in this process, nothing installed (pglite://FOLDER)", () => {
    it("the shop into a folder with --create-tables; PGlite opens it afterwards: the foreign keys hold and the rows are the NDJSON files' of the same run", async () => {
      const dir = join(work, "shop-db");
      const run = await synthgen(["generate", "--scenario", SHOP, ...RUN, "--out", `pglite://${dir}`, "--create-tables"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).database, `pglite://${dir}`);
      const { PGlite } = require("@electric-sql/pglite") as typeof import("@electric-sql/pglite");
      const pg = await PGlite.create(dir);
      try {
        const fks = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f'`);
        assert.equal(fks.rows[0]?.n, FOREIGN_KEYS.length);
        const rows = new Map<string, Row[]>();
        for (const t of Object.keys(KEYS)) rows.set(t, (await pg.query<Row>(`SELECT * FROM "${t}"`)).rows);
        assertSameRows(shopRecords, rows);
      } finally {
        await pg.close();
      }
      const again = await synthgen(["generate", "--scenario", SHOP, ...RUN, "--out", `pglite://${dir}`, "--create-tables"]);
      assert.equal(JSON.parse(again.stdout).status, "already_loaded");
    });

    it("synthgen verify of a table the pipeline changed: the rows it deleted missing, the value it altered changed (expected and found), the row it added unexpected; exit 1", async () => {
      const dir = join(work, "shop-db");
      const verify = (...extra: string[]) => synthgen(["verify", "--scenario", SHOP, "--dataset", "tickets", ...RUN, "--output", `pglite://${dir}`, ...extra]);
      const clean = await verify();
      assert.equal(clean.code, 0, clean.stderr);
      const { PGlite } = require("@electric-sql/pglite") as typeof import("@electric-sql/pglite");
      const pg = await PGlite.create(dir);
      let altered: string;
      try {
        await pg.query("DELETE FROM tickets WHERE ticket_id IN (SELECT ticket_id FROM tickets ORDER BY ticket_id LIMIT 3)");
        altered = String((await pg.query<{ id: string }>("UPDATE tickets SET subject = 'changed' WHERE ticket_id = (SELECT max(ticket_id) FROM tickets) RETURNING ticket_id AS id")).rows[0]?.id);
        await pg.query("INSERT INTO tickets (ticket_id, user_id, subject) SELECT 't-extra', user_id, 'x' FROM users LIMIT 1");
      } finally {
        await pg.close();
      }
      const run = await verify("--examples", "1");
      assert.equal(run.code, 1, run.stderr);
      const report = JSON.parse(run.stdout);
      assert.deepEqual([report.status, report.missing, report.changed, report.unexpected], ["failed", 3, 1, 1]);
      assert.equal(report.found, report.expected_records - 3);
      assert.equal(report.changed_fields.subject.rows, 1);
      assert.deepEqual(report.changed_fields.subject.examples[0].key, [altered]);
      assert.equal(report.changed_fields.subject.examples[0].found, "changed");
      assert.match(report.changed_fields.subject.examples[0].expected, / plan: help with my account$/);
      assert.deepEqual(report.unexpected_examples[0].key, ["t-extra"]);
      assert.equal(report.output.location, `pglite://${dir} table tickets`);
      // A table that is not there, a folder that is not a database (not created), MySQL: exit 2 naming the flag.
      const refused: [string[], RegExp][] = [[["--table", "nope"], /--table: pglite:\/\/.* has no table "nope" in its current schema; its tables: order_lines, orders, products, tickets, users/]];
      for (const [extra, message] of refused) {
        const r = await verify(...extra);
        assert.equal(r.code, 2);
        assert.match(r.stderr, message);
      }
      const missing = join(work, "no-db-here");
      const none = await synthgen(["verify", "--scenario", SHOP, "--dataset", "tickets", ...RUN, "--output", `pglite://${missing}`]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /--output: pglite:\/\/.*no-db-here: no PGlite database there/);
      await assert.rejects(readdir(missing));
      const mysql = await synthgen(["verify", "--scenario", SHOP, "--dataset", "tickets", ...RUN, "--output", "mysql://root@127.0.0.1:1/db"]);
      assert.equal(mysql.code, 2);
      assert.match(mysql.stderr, /--output: cannot connect to mysql:\/\/root@127\.0\.0\.1:1\/db/);
      const table = await synthgen(["verify", "--files", "1", "--run-id", "x", "--output", work, "--table", "t"]);
      assert.match(table.stderr, /synthgen: --table applies to a database --output/);
    });
  });

  serverSuite("MariaDB 10.11 (the MySQL path), started on a loopback port", mariadbInstalled, startMariadb, (db) => {
    it("the shop with --create-tables: InnoDB foreign keys declared and enforced, the scenario's counts, the same rows as the NDJSON files; the same run again changes nothing", async () => {
      const run = await synthgen(["generate", "--scenario", SHOP, ...RUN, "--out", db().url, "--create-tables"]);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout);
      assert.equal(summary.tables.users.rows, 20_000);
      const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
      const conn = await mysql.createConnection({ uri: db().url, dateStrings: true, timezone: "Z", supportBigNumbers: true, bigNumberStrings: true });
      try {
        const [fks] = await conn.query(
          `SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME, ' -> ', REFERENCED_TABLE_NAME) AS fk FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY 1`,
        );
        assert.deepEqual((fks as Row[]).map((r) => r.fk).sort(), FOREIGN_KEYS);
        await assert.rejects(conn.query(`INSERT INTO orders (order_id, user_id) VALUES ('ord-x', 999999999)`), (err: { errno?: number }) => err.errno === 1452);
        const rows = new Map<string, Row[]>();
        for (const t of Object.keys(KEYS)) rows.set(t, (await conn.query(`SELECT * FROM \`${t}\``))[0] as Row[]);
        assertSameRows(shopRecords, rows);
      } finally {
        await conn.end();
      }
      const again = await synthgen(["generate", "--scenario", SHOP, ...RUN, "--out", db().url, "--create-tables"]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).status, "already_loaded");
    });

    it("an existing MySQL foreign key that the scenario's orphans would break is named, before anything is written", async () => {
      const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
      const conn = await mysql.createConnection({ uri: db().url.replace(/\/synthgen$/, "/"), multipleStatements: true });
      try {
        await conn.query(
          "CREATE DATABASE strict_one; USE strict_one; CREATE TABLE users (user_id bigint PRIMARY KEY, email text, score double, signup_at datetime(3), vip boolean, tags json); CREATE TABLE orders (order_id varchar(32) PRIMARY KEY, user_id bigint, note text, CONSTRAINT orders_belong_to_users FOREIGN KEY (user_id) REFERENCES users (user_id))",
        );
      } finally {
        await conn.end();
      }
      const url = db().url.replace(/\/synthgen$/, "/strict_one");
      const run = await synthgen(["generate", "--scenario", await scenarioFile(small(0.05)), "--out", url, "--date", "2026-03-01"]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /foreign key orders_belong_to_users of table orders rejects/);
      const scenario = await scenarioFile(small());
      const ok = await synthgen(["generate", "--scenario", scenario, "--out", url, "--date", "2026-03-01"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(JSON.parse(ok.stdout).tables.users.rows, 300);

      // verify reads the table back: booleans from tinyint(1), JSON, doubles, DATETIME(3) times (compared to the millisecond, the columns' precision).
      const runId = String(JSON.parse(ok.stdout).run_id);
      const verify = (...extra: string[]) => synthgen(["verify", "--scenario", scenario, "--dataset", "users", "--date", "2026-03-01", "--run-id", runId, "--output", url, ...extra]);
      const clean = await verify();
      assert.equal(clean.code, 0, clean.stderr + clean.stdout.slice(0, 2000));
      const report = JSON.parse(clean.stdout);
      assert.deepEqual([report.expected_records, report.found, report.output.location], [300, 300, `${url} table users`]);
      assert.match(report.compared.rules.join("\n"), /to the millisecond/);
      const pipeline = await mysql.createConnection({ uri: url });
      try {
        await pipeline.query("UPDATE users SET vip = NOT vip WHERE user_id = 7");
        await pipeline.query("DELETE FROM orders WHERE user_id = 8");
        await pipeline.query("DELETE FROM users WHERE user_id = 8");
      } finally {
        await pipeline.end();
      }
      const changed = await verify();
      assert.equal(changed.code, 1);
      const after = JSON.parse(changed.stdout);
      assert.deepEqual([after.missing, after.changed, Object.keys(after.changed_fields)], [1, 1, ["vip"]]);
      assert.deepEqual(after.changed_fields.vip.examples[0].key, [7]);
    });
  });

  describe("load-database, the stack's function: bundled, on Lambda's Node, its secret from Secrets Manager, a TLS-only PostgreSQL, S3 as strict as AWS under its own role", () => {
    const BUCKET = "load-database-bucket";
    const PREFIX = "landing/";
    const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0a1b2c3d-AbC123";
    let pg: TlsDatabase;
    let s3: TestS3;
    let strict: StrictS3;
    let secrets: FakeSecretsManager;
    let program: LoadedProgram;
    let bundleDir: string;
    before(async function () {
      this.timeout(180_000);
      if (!hasPostgres()) {
        if (process.env.SYNTHGEN_REQUIRE_DATABASES === "1") throw new Error("PostgreSQL is not installed (.ci/run installs it)");
        this.skip();
      }
      pg = await startPostgres({ tls: true });
      s3 = await startTestS3([BUCKET]);
      secrets = await startFakeSecretsManager({ [SECRET]: JSON.stringify({ username: pg.user, password: pg.password }) });
      program = await loadProgram({
        inputBucketName: BUCKET,
        keyPrefix: PREFIX,
        databaseUrl: `postgres://127.0.0.1:${pg.port}/synthgen`,
        databaseSecretArn: SECRET,
        vpcSubnetIds: "subnet-0a1b2c3d4e5f67890",
        vpcSecurityGroupIds: "sg-0123456789abcdef0",
      });
      strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, "load-database"));
      ({ dir: bundleDir } = await writeBundle({ handler: "functions/load-database.ts" }));
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}_datasets/shop.yaml`, Body: await readFile(SHOP) }));
    });
    after(async () => {
      await strict?.close();
      await s3?.stop();
      await secrets?.close();
      await pg?.stop();
      if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
    });
    type Answer = { statusCode?: number; body?: Record<string, any>; thrown?: string };
    const invoke = (event: unknown, environment: Record<string, string> = {}) =>
      invokeProgramFunctionLogged({
        program,
        component: "load-database",
        bundleDir,
        s3Endpoint: strict.endpoint,
        event,
        environment: { SECRETS_MANAGER_ENDPOINT: secrets.endpoint, NODE_EXTRA_CA_CERTS: pg.caFile, ...environment },
      }).then((r) => r.result as Answer);
    const tlsUrl = () => `postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/synthgen`;

    it("the stored shop with create_tables: the same rows as the CLI's NDJSON files of the same run, its foreign keys declared; the same event again changes nothing", async () => {
      const event = { scenario: "shop", create_tables: true, run_id: "db-shop-1", seed: 42, date_prefix: "2026-03-01" };
      const answer = await invoke(event);
      assert.equal(answer.statusCode, 200, JSON.stringify(answer));
      assert.equal(answer.body?.status, "completed");
      assert.equal(answer.body?.database, `postgres://${pg.user}:***@127.0.0.1:${pg.port}/synthgen`, "the password never in the answer");
      const { Client: PgClient } = require("pg") as typeof import("pg");
      const client = new PgClient({ ...urlPartsOf(tlsUrl()), ssl: { ca: await readFile(pg.caFile, "utf8") } });
      await client.connect();
      try {
        const fks = await client.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f'`);
        assert.equal(fks.rows[0].n, FOREIGN_KEYS.length);
        const rows = new Map<string, Row[]>();
        for (const t of Object.keys(KEYS)) rows.set(t, await pgRows(client, t));
        assertSameRows(shopRecords, rows);
      } finally {
        await client.end();
      }
      const again = await invoke(event);
      assert.equal(again.body?.status, "already_loaded");
      assert.ok(secrets.reads.count >= 2);
    });

    it("verifies the server's certificate: without the CA that signed it the function connects to nothing and answers 400 naming the database; the server takes no connection without TLS", async () => {
      const answer = await invoke({ dataset: "tutoring-events", file_count: 1, target_size_mb: 0.05, create_tables: true }, { NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem" });
      assert.equal(answer.statusCode, 400, JSON.stringify(answer));
      assert.equal(answer.body?.field, "database");
      assert.match(answer.body?.error, /cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/synthgen: (unable to verify the first certificate|self[- ]signed certificate)/);
      // The stand-in is as strict as RDS with rds.force_ssl: a connection without TLS is refused.
      const { Client: PgClient } = require("pg") as typeof import("pg");
      const plain = new PgClient({ connectionString: tlsUrl() });
      await assert.rejects(plain.connect(), /pg_hba\.conf rejects connection .* no encryption/);
    });

    it("a request about files, or an unstored scenario, is a 400 naming the field; nothing is read from the database", async () => {
      const bad = await invoke({ scenario: "shop", format: "parquet" });
      assert.deepEqual([bad.statusCode, bad.body?.field], [400, "format"]);
      const unstored = await invoke({ scenario: "nowhere" });
      assert.deepEqual([unstored.statusCode, unstored.body?.field], [400, "scenario"]);
      assert.match(unstored.body?.error, /scenario "nowhere" is not stored under landing\/_datasets\/ \(stored: shop\)/);
    });
  });

  describe("what a database --out refuses (exit 2, nothing written)", () => {
    it("a URL without a host or a database, an empty pglite://, file-only flags, --create-tables without a database, a server that does not answer", async () => {
      const cases: [string[], RegExp][] = [
        [["--out", "postgres://127.0.0.1"], /--out must name one database after the host/],
        [["--out", "mysql:///shop"], /--out must name a host/],
        [["--out", "pglite://"], /pglite:\/\/ needs a folder/],
        [["--out", "pglite://./x", "--format", "csv"], /--format: format does not apply to a database \(rows go in by the database's bulk path/],
        [["--out", "pglite://./x", "--dirty", "malformed=0.1"], /--dirty: dirty does not apply to a database/],
        [["--out", "pglite://./x", "--shards", "2"], /--shards does not apply to a database --out/],
        [["--out", join(work, "folder"), "--create-tables"], /--create-tables applies to a database --out/],
        [["--out", `postgres://postgres:secret@127.0.0.1:${await freePort()}/nothing`], /--out: cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/nothing/],
      ];
      for (const [flags, message] of cases) {
        const run = await synthgen(["generate", "--files", "1", "--size-mb", "0.1", ...flags]);
        assert.equal(run.code, 2, `${flags.join(" ")}: ${run.stderr}`);
        assert.match(run.stderr, message);
        assert.doesNotMatch(run.stderr, /secret/);
      }
    });
  });
});
