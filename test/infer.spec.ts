import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSchemaText } from "../src/schema/dataset";
import { synthgen } from "./support/cli";
import { mariadbInstalled, serverSuite, startMariadb } from "./support/databases";

const EXAMPLES = join(__dirname, "..", "..", "examples");
type Row = Record<string, unknown>;

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "synthgen-infer-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Every record of the NDJSON files under a folder (one level of dataset folders, or the files themselves). */
async function records(dir: string): Promise<Row[]> {
  const out: Row[] = [];
  for (const f of (await readdir(dir)).sort()) {
    if (!f.endsWith(".ndjson")) continue;
    for (const line of (await readFile(join(dir, f), "utf8")).split("\n")) if (line) out.push(JSON.parse(line) as Row);
  }
  return out;
}

const at = (r: Row, path: string): unknown => path.split(".").reduce<unknown>((v, k) => (v === null || typeof v !== "object" ? undefined : (v as Row)[k]), r);
const share = (rows: readonly Row[], test: (r: Row) => boolean) => rows.filter(test).length / rows.length;
function moments(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, sd: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
}
function frequencies(rows: readonly Row[], path: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) {
    const v = at(r, path);
    if (v !== null && v !== undefined) m.set(String(v), (m.get(String(v)) ?? 0) + 1);
  }
  const total = [...m.values()].reduce((a, b) => a + b, 0);
  return new Map([...m].map(([k, n]) => [k, n / total]));
}

/** The distributions of a sample and of what the inferred file generates agree within these tolerances. */
function assertSameShape(sample: readonly Row[], generated: readonly Row[], fields: { numbers?: string[]; choices?: string[]; nulls?: string[]; booleans?: string[] }): void {
  for (const f of fields.nulls ?? []) {
    const [a, b] = [share(sample, (r) => at(r, f) == null), share(generated, (r) => at(r, f) == null)];
    assert.ok(Math.abs(a - b) <= 0.02, `${f}: null share ${a.toFixed(3)} in the sample, ${b.toFixed(3)} generated (±0.02)`);
  }
  for (const f of fields.booleans ?? []) {
    const [a, b] = [share(sample, (r) => at(r, f) === true), share(generated, (r) => at(r, f) === true)];
    assert.ok(Math.abs(a - b) <= 0.02, `${f}: true ${a.toFixed(3)} vs ${b.toFixed(3)} (±0.02)`);
  }
  for (const f of fields.choices ?? []) {
    const [a, b] = [frequencies(sample, f), frequencies(generated, f)];
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), `${f}: the same values`);
    for (const [k, p] of a) assert.ok(Math.abs(p - (b.get(k) ?? 0)) <= 0.02, `${f}=${k}: ${p.toFixed(3)} vs ${(b.get(k) ?? 0).toFixed(3)} (±0.02)`);
  }
  for (const f of fields.numbers ?? []) {
    const pick = (rows: readonly Row[]) => rows.map((r) => at(r, f)).filter((v): v is number => typeof v === "number");
    const [a, b] = [moments(pick(sample)), moments(pick(generated))];
    assert.ok(Math.abs(a.mean - b.mean) <= 0.05 * Math.abs(a.mean) + 0.05, `${f}: mean ${a.mean.toFixed(3)} vs ${b.mean.toFixed(3)} (±5%)`);
    assert.ok(Math.abs(a.sd - b.sd) <= 0.1 * a.sd + 0.05, `${f}: standard deviation ${a.sd.toFixed(3)} vs ${b.sd.toFixed(3)} (±10%)`);
  }
}

/**
 * A sample no synthgen code made: a small PRNG of the spec's own (mulberry32), Box–Muller normals,
 * exponential waits, categorical draws, nulls, a nested object, written as CSV with a header.
 */
function foreignSample(n: number): { csv: string; rows: Row[] } {
  let s = 0x2f6b1a3;
  const rand = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const pick = <T>(items: readonly [T, number][]): T => {
    let u = rand();
    for (const [v, w] of items) if ((u -= w) < 0) return v;
    return (items.at(-1) as [T, number])[0];
  };
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      reading_id: 5000 + i * 2,
      station: pick([
        ["north", 0.5],
        ["south", 0.3],
        ["east", 0.15],
        ["west", 0.05],
      ]),
      temperature: Math.round(normal(12.5, 6) * 10) / 10,
      wait_s: Math.round(-Math.log(1 - rand()) * 40 * 100) / 100,
      ok: rand() < 0.9,
      note: rand() < 0.25 ? null : `n${Math.floor(rand() * 1e9)}`,
      sensor: {
        model: pick([
          ["a1", 0.7],
          ["b2", 0.3],
        ] as [string, number][]),
        battery: Math.round(normal(70, 10)),
      },
      at: new Date(Date.UTC(2026, 0, 1) + Math.floor(rand() * 86_400_000)).toISOString(),
    });
  }
  const header = ["reading_id", "station", "temperature", "wait_s", "ok", "note", "sensor.model", "sensor.battery", "at"];
  const csv = [header.join(","), ...rows.map((r) => header.map((h) => at(r, h) ?? "").join(","))].join("\n");
  return { csv: `${csv}\n`, rows };
}

/**
 * The shop scenario loaded into a database, inferred back: its parents, references, per_parent,
 * skew and time windows are the declared ones, no e-mail or name of the first 200 users is in the
 * file, and generate from it matches the shop's choices, prices and null shares.
 */
async function inferredShopMatches(url: string, label: string, someUsers: () => Promise<{ email: string; name: string }[]>): Promise<void> {
  const load = await synthgen(["generate", "--scenario", join(EXAMPLES, "shop.yaml"), "--out", url, "--create-tables", "--run-id", "inf-db", "--date", "2026-03-01"]);
  assert.equal(load.code, 0, load.stderr);
  const out = join(work, `shop-inferred-${label}.yaml`);
  const inferred = await synthgen(["infer", url, "--name", "shop_inferred", "--out", out]);
  assert.equal(inferred.code, 0, inferred.stderr);
  const text = await readFile(out, "utf8");
  const doc = parseSchemaText(text, out, "scenario") as { datasets: Record<string, Record<string, any>> };
  const d = doc.datasets;
  assert.deepEqual(Object.keys(d), ["users", "products", "orders", "order_lines", "tickets"], "parents first");
  assert.deepEqual([d.users?.count, d.products?.count], [20_000, 2_000]);
  assert.deepEqual([d.orders?.parent, d.order_lines?.parent, d.tickets?.parent], ["users", "orders", "users"]);
  assert.equal(d.orders?.per_parent.distribution, "poisson");
  assert.ok(Math.abs(d.orders?.per_parent.mean - 2.5) < 0.1, `orders per user ${d.orders?.per_parent.mean} (declared 2.5)`);
  assert.deepEqual(d.order_lines?.per_parent, { distribution: "uniform", min: 1, max: 4 });
  assert.ok(Math.abs(d.tickets?.per_parent.mean - 0.3) < 0.03);
  assert.ok(Math.abs(d.orders?.references.products.skew.zipf - 1.1) < 0.3, `zipf ${d.orders?.references.products.skew.zipf} (declared 1.1)`);
  assert.deepEqual(d.orders?.fields.placed_at, { timestamp: { after: "users.signup_at", within: "30d" } });
  assert.deepEqual(d.order_lines?.fields.user_id, { ref: "users.user_id" });
  assert.deepEqual(d.orders?.fields.order_id, { sequence: { format: "ord-{n}" } });
  assert.deepEqual(d.users?.fields.email, { faker: "internet.email" });
  // Aggregates only: no user's e-mail or name is in the file.
  for (const r of await someUsers()) assert.ok(!text.includes(r.email) && !text.includes(r.name), `${r.email} copied out`);
  // And generate turns it back into the shop's shape.
  const genDir = join(work, `shop-generated-${label}`);
  const g = await synthgen(["generate", "--scenario", out, "--out", genDir, "--run-id", "inf-gen"]);
  assert.equal(g.code, 0, g.stderr);
  const sampleDir = join(work, `shop-original-${label}`);
  assert.equal((await synthgen(["generate", "--scenario", join(EXAMPLES, "shop.yaml"), "--out", sampleDir, "--run-id", "inf-db", "--date", "2026-03-01"])).code, 0);
  for (const [dataset, spec] of Object.entries({ users: { choices: ["country", "plan"] }, orders: { choices: ["status"], numbers: ["unit_price"] }, order_lines: { nulls: ["shipped_at"] } })) {
    const [a, b] = [await records(join(sampleDir, dataset)), await records(join(genDir, dataset))];
    assert.ok(Math.abs(b.length / a.length - 1) < 0.05, `${dataset}: ${b.length} records generated, ${a.length} in the database`);
    assertSameShape(a, b, spec);
  }
}

describe("synthgen infer: a definition from what the user has, which generate turns back into the same shape", function () {
  this.timeout(180_000);

  it("a shipped sample (NDJSON of examples/orders.yaml): the file validates, and generate from it matches the sample's nulls, choices, booleans and moments", async () => {
    const sampleDir = join(work, "orders-sample");
    assert.equal((await synthgen(["generate", "--dataset", join(EXAMPLES, "orders.yaml"), "--files", "1", "--size-mb", "4", "--run-id", "inf-1", "--seed", "3", "--out", sampleDir])).code, 0);
    const [file] = (await readdir(sampleDir)).filter((f) => f.endsWith(".ndjson"));
    const out = join(work, "orders-inferred.yaml");
    const inferred = await synthgen(["infer", join(sampleDir, file as string), "--name", "orders_inferred", "--out", out]);
    assert.equal(inferred.code, 0, inferred.stderr);
    assert.match(inferred.stderr, /inferred a dataset of 13 fields from [\d,]+ records; wrote /);
    const doc = parseSchemaText(await readFile(out, "utf8"), out) as { fields: Record<string, Record<string, unknown>> };
    assert.deepEqual(doc.fields.order_id, { sequence: { start: 100000, format: "ord_0_{n}" } });
    assert.deepEqual(doc.fields.customer_email, { faker: "internet.email" });
    assert.equal((await synthgen(["validate", out])).code, 0);
    const genDir = join(work, "orders-generated");
    assert.equal((await synthgen(["generate", "--dataset", out, "--files", "1", "--size-mb", "4", "--run-id", "inf-2", "--out", genDir])).code, 0);
    assertSameShape(await records(sampleDir), await records(genDir), {
      nulls: ["coupon", "items"],
      choices: ["status", "currency", "coupon"],
      booleans: ["shipping.express"],
      numbers: ["amount", "days_to_ship"],
    });
  });

  it("a sample made by another tool, as CSV (a struct's parent.child columns, nulls, a normal, an exponential, a skewed choice): generate matches it", async () => {
    const { csv, rows } = foreignSample(20_000);
    const sample = join(work, "readings.csv");
    await writeFile(sample, csv);
    const out = join(work, "readings.yaml");
    const inferred = await synthgen(["infer", sample, "--out", out]);
    assert.equal(inferred.code, 0, inferred.stderr);
    const doc = parseSchemaText(await readFile(out, "utf8"), out) as { name: string; fields: Record<string, Record<string, any>> };
    assert.equal(doc.name, "readings");
    assert.deepEqual(doc.fields.reading_id, { sequence: { start: 5000, step: 2 } });
    assert.equal(doc.fields.temperature?.number?.distribution, "normal");
    assert.equal(doc.fields.wait_s?.number?.distribution, "exponential");
    assert.deepEqual(doc.fields.at, { timestamp: "iso" });
    assert.ok(doc.fields.sensor?.object, "parent.child columns become an object");
    const genDir = join(work, "readings-generated");
    const g = await synthgen(["generate", "--dataset", out, "--files", "1", "--size-mb", "3", "--out", genDir]);
    assert.equal(g.code, 0, g.stderr);
    const generated = await records(genDir);
    assert.ok(generated.length > 5_000, `${generated.length} records generated`);
    assertSameShape(rows, generated, {
      nulls: ["note"],
      booleans: ["ok"],
      choices: ["station", "sensor.model"],
      numbers: ["temperature", "wait_s", "sensor.battery"],
    });
  });

  it("a PostgreSQL database (the shop loaded into PGlite): a scenario whose parents, references, per_parent, Zipf skew and time windows are the real ones, read by aggregates only", async () => {
    const dir = join(work, "shop-db");
    await inferredShopMatches(`pglite://${dir}`, "pglite", async () => {
      const { PGlite } = require("@electric-sql/pglite") as typeof import("@electric-sql/pglite");
      const pg = await PGlite.create(dir);
      try {
        return (await pg.query<{ email: string; name: string }>("SELECT email, name FROM users ORDER BY user_id LIMIT 200")).rows;
      } finally {
        await pg.close();
      }
    });
  });

  it("a Parquet sample: the same fields as from the NDJSON of that dataset (times as ISO text, structs as objects, lists as arrays)", async () => {
    const dir = join(work, "orders-parquet");
    assert.equal((await synthgen(["generate", "--dataset", join(EXAMPLES, "orders.yaml"), "--files", "1", "--size-mb", "1", "--format", "parquet", "--run-id", "inf-pq", "--out", dir])).code, 0);
    const [file] = (await readdir(dir)).filter((f) => f.endsWith(".parquet"));
    const run = await synthgen(["infer", join(dir, file as string), "--name", "orders_pq"]);
    assert.equal(run.code, 0, run.stderr);
    const doc = parseSchemaText(run.stdout, "stdout") as { fields: Record<string, Record<string, any>> };
    assert.deepEqual(Object.keys(doc.fields), [
      "order_id",
      "customer_email",
      "customer_name",
      "placed_at",
      "status",
      "currency",
      "amount",
      "items",
      "shipping",
      "coupon",
      "days_to_ship",
      "receipt_to",
      "summary",
    ]);
    assert.deepEqual([doc.fields.order_id, doc.fields.placed_at, doc.fields.customer_email], [{ sequence: { start: 100000, format: "ord_0_{n}" } }, { timestamp: "iso" }, { faker: "internet.email" }]);
    assert.deepEqual(Object.keys(doc.fields.status?.choice).sort(), ["cancelled", "paid", "pending", "refunded"]);
    assert.ok(doc.fields.items?.array?.items?.object && doc.fields.shipping?.object);
  });

  it("a JSON Schema and an Avro schema: datasets whose records keep to them (types, enums, ranges, formats, required fields always there)", async () => {
    const jsonSchema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: ["id", "email", "total", "status", "address"],
      properties: {
        id: { type: "string", format: "uuid" },
        email: { type: "string", format: "email" },
        total: { type: "number", minimum: 0, maximum: 500 },
        items: { type: "integer", exclusiveMinimum: 0, maximum: 9 },
        status: { enum: ["paid", "open", "void"] },
        placed: { type: "string", format: "date-time" },
        note: { type: ["string", "null"], maxLength: 40 },
        address: { $ref: "#/$defs/address" },
        tags: { type: "array", items: { enum: ["a", "b"] }, maxItems: 4 },
      },
      $defs: { address: { type: "object", required: ["city", "zip"], properties: { city: { type: "string" }, zip: { type: "string", minLength: 5, maxLength: 5 } } } },
    };
    const avro = {
      type: "record",
      name: "Reading",
      fields: [
        { name: "id", type: { type: "string", logicalType: "uuid" } },
        { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
        { name: "unit", type: { type: "enum", name: "Unit", symbols: ["C", "F"] } },
        { name: "site", type: ["null", "string"] },
        { name: "meta", type: { type: "record", name: "Meta", fields: [{ name: "fw", type: "int" }] } },
        { name: "unit_again", type: "Unit" },
      ],
    };
    await writeFile(join(work, "order.schema.json"), JSON.stringify(jsonSchema));
    await writeFile(join(work, "reading.avsc"), JSON.stringify(avro));
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const checks: [string, (r: Row) => void, string[]][] = [
      [
        "order.schema.json",
        (r) => {
          assert.match(String(r.id), uuid);
          assert.match(String(r.email), /^[^@\s]+@[^@\s]+\.[^@\s]+$/);
          assert.ok(typeof r.total === "number" && r.total >= 0 && r.total <= 500);
          assert.ok(r.items === null || (Number.isInteger(r.items) && (r.items as number) >= 1 && (r.items as number) <= 9));
          assert.ok(["paid", "open", "void"].includes(String(r.status)));
          assert.ok(r.note === null || (typeof r.note === "string" && r.note.length <= 40));
          const address = r.address as Row;
          assert.ok(typeof address.city === "string" && String(address.zip).length === 5);
          assert.ok(r.tags === null || (Array.isArray(r.tags) && r.tags.length <= 4 && r.tags.every((t) => t === "a" || t === "b")));
        },
        ["items", "placed", "note", "tags"],
      ],
      [
        "reading.avsc",
        (r) => {
          assert.match(String(r.id), uuid);
          assert.ok(Number.isInteger(r.at) && (r.at as number) > 1e12);
          assert.ok(["C", "F"].includes(String(r.unit)) && ["C", "F"].includes(String(r.unit_again)));
          assert.ok(Number.isInteger((r.meta as Row).fw));
        },
        ["site"],
      ],
    ];
    for (const [file, check, optional] of checks) {
      const out = join(work, `${file}.yaml`);
      const run = await synthgen(["infer", join(work, file), "--out", out]);
      assert.equal(run.code, 0, run.stderr);
      const dir = join(work, `${file}-generated`);
      assert.equal((await synthgen(["generate", "--dataset", out, "--files", "1", "--size-mb", "0.5", "--out", dir])).code, 0);
      const rows = await records(dir);
      assert.ok(rows.length > 1000);
      for (const r of rows) check(r);
      for (const f of optional) {
        const nulls = share(rows, (r) => r[f] == null);
        assert.ok(Math.abs(nulls - 0.1) < 0.03, `${file} ${f}: optional, ${nulls.toFixed(3)} null (0.1 stated)`);
      }
    }
  });

  it("PostgreSQL DDL, run by PGlite's own parser: a scenario with the tables' keys; generate's children name existing parents", async () => {
    const ddl = join(work, "store.sql");
    await writeFile(
      ddl,
      `CREATE TABLE customers (customer_id bigint PRIMARY KEY, email text NOT NULL, name varchar(80), created_at timestamptz NOT NULL);
       CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (customer_id), total numeric(10,2), placed_at timestamptz);
       CREATE TABLE order_items (item_id serial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders, qty integer NOT NULL);`,
    );
    const out = join(work, "store.yaml");
    const run = await synthgen(["infer", ddl, "--out", out]);
    assert.equal(run.code, 0, run.stderr);
    const doc = parseSchemaText(await readFile(out, "utf8"), out, "scenario") as { datasets: Record<string, Record<string, any>> };
    assert.deepEqual([doc.datasets.customers?.count, doc.datasets.orders?.parent, doc.datasets.order_items?.parent], [1000, "customers", "orders"]);
    assert.deepEqual(doc.datasets.orders?.fields.customer_id, { ref: "customers.customer_id" });
    assert.deepEqual(doc.datasets.customers?.fields.email, { faker: "internet.email" });
    const dir = join(work, "store-generated");
    assert.equal((await synthgen(["generate", "--scenario", out, "--out", dir])).code, 0);
    const customers = new Set((await records(join(dir, "customers"))).map((r) => r.customer_id));
    const orders = await records(join(dir, "orders"));
    assert.equal(customers.size, 1000);
    assert.ok(orders.length > 2000 && orders.every((o) => customers.has(o.customer_id)));
    const bad = join(work, "bad.sql");
    await writeFile(bad, "CREATE TABLE t (a nosuchtype);");
    const refused = await synthgen(["infer", bad]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /bad\.sql: PostgreSQL refused the DDL: type "nosuchtype" does not exist \(statement 1: CREATE TABLE t/);
  });

  it("DDL as pg_dump --schema-only writes it (a named schema, owners, grants, settings, psql lines, a function body with semicolons): read; a statement that would query, write or loop: refused before anything runs", async () => {
    const dump = join(work, "dump.sql");
    await writeFile(
      dump,
      `--
-- PostgreSQL database dump
--
\\restrict abc123
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA shop;
ALTER SCHEMA shop OWNER TO app;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $_$ BEGIN NEW.note := 'a;b'; RETURN NEW; END; $_$;
CREATE TABLE shop.accounts (
    account_id bigint NOT NULL,
    "e-mail" text NOT NULL, -- a comment; with a semicolon
    note text DEFAULT 'x;y'
);
ALTER TABLE shop.accounts OWNER TO app;
CREATE TABLE shop.payments (payment_id bigint NOT NULL, account_id bigint NOT NULL, amount numeric(8,2));
ALTER TABLE ONLY shop.accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY (account_id);
ALTER TABLE ONLY shop.payments ADD CONSTRAINT payments_pkey PRIMARY KEY (payment_id);
ALTER TABLE ONLY shop.payments ADD CONSTRAINT payments_account_fkey FOREIGN KEY (account_id) REFERENCES shop.accounts(account_id);
CREATE TRIGGER accounts_touch BEFORE INSERT ON shop.accounts FOR EACH ROW EXECUTE FUNCTION shop.touch();
GRANT SELECT ON TABLE shop.accounts TO reader;
\\unrestrict abc123
`,
    );
    const run = await synthgen(["infer", dump]);
    assert.equal(run.code, 0, run.stderr);
    const doc = parseSchemaText(run.stdout, "dump.yaml", "scenario") as { datasets: Record<string, Record<string, any>> };
    assert.deepEqual(Object.keys(doc.datasets), ["accounts", "payments"]);
    assert.equal(doc.datasets.payments?.parent, "accounts");
    assert.ok(doc.datasets.accounts?.fields["e-mail"]);
    assert.match(run.stderr, /8 statements skipped \(owners, grants, settings, extensions/);
    const hostile: [string, RegExp][] = [
      ["CREATE TABLE t (a int);\nDO $$BEGIN LOOP END LOOP; END$$;", /statement 2 \(DO '' …\) is not DDL/],
      ["CREATE TABLE t (a int);\nINSERT INTO t SELECT generate_series(1, 1e9);", /statement 2 \(INSERT INTO T …\) is not DDL/],
      ["CREATE TABLE big AS SELECT generate_series(1, 1e9) AS a;", /statement 1 \(CREATE TABLE BIG …\) is not DDL: infer reads a schema/],
      ["CREATE TABLE t (a int);\nCOPY t FROM stdin;", /statement 2 \(COPY T FROM …\) is not DDL/],
      ["CREATE TABLE t (a text DEFAULT 'never closed);", /a string opened at character \d+ is never closed/],
      ["SET search_path = public;", /holds no CREATE statement/],
    ];
    for (const [i, [sql, message]] of hostile.entries()) {
      const file = join(work, `hostile-${i}.sql`);
      await writeFile(file, sql);
      const refused = await synthgen(["infer", file, "--out", join(work, `hostile-${i}.yaml`)]);
      assert.equal(refused.code, 2, sql);
      assert.match(refused.stderr, message, sql);
      await assert.rejects(readFile(join(work, `hostile-${i}.yaml`)), sql);
    }
  });

  it("refuses what it cannot read, naming it, and writes nothing: an unknown extension, no record, a line past 1 MiB, an existing --out, a database that does not answer", async () => {
    const path = (name: string) => join(work, name);
    await writeFile(path("data.xml"), "<a/>");
    await writeFile(path("empty.ndjson"), "[1]\nnot json\n");
    await writeFile(path("long.ndjson"), `{"a":"${"x".repeat(1_100_000)}"}\n`);
    await writeFile(path("taken.yaml"), "keep me");
    await writeFile(path("ok.ndjson"), '{"a":1}\n{"a":2}\n');
    const cases: [string[], RegExp][] = [
      [[path("data.xml")], /infer reads NDJSON .*, CSV .* or Parquet .* samples, JSON Schema .* or Avro .* schemas, or a database URL \(got "\.xml"\)/],
      [[path("empty.ndjson")], /holds no record infer can read \(2 lines are not JSON objects\)/],
      [[path("long.ndjson")], /has a line longer than 1048576 characters/],
      [[path("ok.ndjson"), "--out", path("taken.yaml")], /taken\.yaml exists; give --force to replace it/],
      [["mysql://root@127.0.0.1:1/db"], /cannot connect to mysql:\/\/root@127\.0\.0\.1:1\/db: .*ECONNREFUSED/],
    ];
    for (const [args, message] of cases) {
      const run = await synthgen(["infer", ...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, "");
    }
    assert.equal(await readFile(path("taken.yaml"), "utf8"), "keep me");
  });
});

serverSuite("synthgen infer from MySQL (MariaDB 10.11, started on a loopback port)", mariadbInstalled, startMariadb, (db) => {
  it("the shop loaded into MariaDB: the same scenario as from PostgreSQL — parents, references, per_parent, Zipf skew, time windows — by aggregates only", async function () {
    this.timeout(300_000);
    await inferredShopMatches(db().url, "mysql", async () => {
      const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
      const conn = await mysql.createConnection(db().url);
      try {
        const [rows] = await conn.query("SELECT email, name FROM users ORDER BY user_id LIMIT 200");
        return rows as { email: string; name: string }[];
      } finally {
        await conn.end();
      }
    });
  });
});
