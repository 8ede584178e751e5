import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSchemaText } from "../src/schema/dataset";
import { synthgen } from "./support/cli";

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
    const load = await synthgen(["generate", "--scenario", join(EXAMPLES, "shop.yaml"), "--out", `pglite://${dir}`, "--create-tables", "--run-id", "inf-db", "--date", "2026-03-01"]);
    assert.equal(load.code, 0, load.stderr);
    const out = join(work, "shop-inferred.yaml");
    const inferred = await synthgen(["infer", `pglite://${dir}`, "--name", "shop_inferred", "--out", out]);
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
    // Aggregates only: no user's e-mail or name is in the file.
    const { PGlite } = require("@electric-sql/pglite") as typeof import("@electric-sql/pglite");
    const pg = await PGlite.create(dir);
    try {
      const some = await pg.query<{ email: string; name: string }>("SELECT email, name FROM users ORDER BY user_id LIMIT 200");
      for (const r of some.rows) assert.ok(!text.includes(r.email) && !text.includes(r.name), `${r.email} copied out`);
    } finally {
      await pg.close();
    }
    // And generate turns it back into the shop's shape.
    const genDir = join(work, "shop-generated");
    const g = await synthgen(["generate", "--scenario", out, "--out", genDir, "--run-id", "inf-gen"]);
    assert.equal(g.code, 0, g.stderr);
    const sampleDir = join(work, "shop-original");
    assert.equal((await synthgen(["generate", "--scenario", join(EXAMPLES, "shop.yaml"), "--out", sampleDir, "--run-id", "inf-db", "--date", "2026-03-01"])).code, 0);
    for (const [dataset, spec] of Object.entries({ users: { choices: ["country", "plan"] }, orders: { choices: ["status"], numbers: ["unit_price"] }, order_lines: { nulls: ["shipped_at"] } })) {
      const [a, b] = [await records(join(sampleDir, dataset)), await records(join(genDir, dataset))];
      assert.ok(Math.abs(b.length / a.length - 1) < 0.05, `${dataset}: ${b.length} records generated, ${a.length} in the database`);
      assertSameShape(a, b, spec);
    }
  });

  it("refuses what it cannot read, naming it, and writes nothing: an unknown extension, no record, a line past 1 MiB, an existing --out, MySQL", async () => {
    const path = (name: string) => join(work, name);
    await writeFile(path("data.xml"), "<a/>");
    await writeFile(path("empty.ndjson"), "[1]\nnot json\n");
    await writeFile(path("long.ndjson"), `{"a":"${"x".repeat(1_100_000)}"}\n`);
    await writeFile(path("taken.yaml"), "keep me");
    await writeFile(path("ok.ndjson"), '{"a":1}\n{"a":2}\n');
    const cases: [string[], RegExp][] = [
      [[path("data.xml")], /infer reads NDJSON .* or CSV .* samples, or a database URL \(got "\.xml"\)/],
      [[path("empty.ndjson")], /holds no record infer can read \(2 lines are not JSON objects\)/],
      [[path("long.ndjson")], /has a line longer than 1048576 characters/],
      [[path("ok.ndjson"), "--out", path("taken.yaml")], /taken\.yaml exists; give --force to replace it/],
      [["mysql://root@127.0.0.1:1/db"], /infer reads PostgreSQL \(postgres:\/\/, pglite:\/\/\) databases; MySQL is not supported yet/],
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
