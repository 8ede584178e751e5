import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { ValidationError } from "../src/core/errors";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { compileScenario } from "../src/scenarios/compile";
import { parseChildCount, ZipfSampler } from "../src/scenarios/distributions";
import { Prng } from "../src/core/prng";
import { parseSchemaText } from "../src/schema/dataset";
import { synthgen } from "./support/cli";
import { startIngestServer } from "./support/ingest-server";
import { startTestS3 } from "./support/s3";
import { startStrictS3 } from "./support/strict-s3";
import { createHash } from "node:crypto";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { parseGenerateRequest } from "../src/files/request";
import { parseEmitRequest, EMIT_DEFAULTS } from "../src/events/request";
import { resolveScenarioDataset } from "../src/catalog/resolve";
import { assertFilesFit, loadScenarioText, planScenario } from "../src/scenarios/plan";

const EXAMPLES = join(__dirname, "..", "..", "examples");

/** The scenario the integrity checks run on: two roots, a child with a Poisson count, a grandchild, a Zipf reference. */
const SHOP = `
name: shop-test
datasets:
  users:
    count: 4000
    fields:
      user_id: { sequence: {} }
      email: { faker: internet.email }
      country: { choice: [US, DE, FR, BR] }
      signup_at: { timestamp: iso }
  products:
    count: 500
    fields:
      product_id: { sequence: { format: "sku-{n}" } }
      price: { number: { min: 1, max: 100, decimals: 2 } }
  orders:
    parent: users
    per_parent: { distribution: poisson, mean: 3 }
    references:
      product: { dataset: products, skew: { zipf: 1.2 } }
    fields:
      order_id: { sequence: { format: "ord-{n}" } }
      user_id: { ref: users.user_id }
      country: { ref: users.country }
      placed_at: { timestamp: { after: users.signup_at, within: 30d } }
      product_id: { ref: product.product_id }
      price: { ref: product.price }
  lines:
    parent: orders
    per_parent: { distribution: uniform, min: 1, max: 4 }
    fields:
      line_id: { sequence: {} }
      order_id: { ref: orders.order_id }
      user_id: { ref: users.user_id }
      shipped_at: { timestamp: { after: orders.placed_at, within: 5d }, null_probability: 0.2 }
`;

const compile = (yaml: string) => compileScenario(parseSchemaText(yaml, "test.yaml"), "test.yaml");

function refuses(yaml: string, path: string, message: RegExp): void {
  assert.throws(
    () => compile(yaml),
    (err: unknown) => err instanceof ValidationError && err.field === path && message.test(err.message),
  );
}

/** The chi-square statistic of observed counts against a pmf, bins with expected < 5 merged into the tail, and its degrees of freedom. */
function chiSquare(observed: Map<number, number>, total: number, pmf: (k: number) => number, max: number): { statistic: number; dof: number } {
  const bins: { o: number; e: number }[] = [];
  let pending = { o: 0, e: 0 };
  for (let k = 0; k <= max; k++) {
    pending = { o: pending.o + (observed.get(k) ?? 0), e: pending.e + total * pmf(k) };
    if (pending.e >= 5) {
      bins.push(pending);
      pending = { o: 0, e: 0 };
    }
  }
  const last = bins[bins.length - 1] as { o: number; e: number };
  last.o += pending.o;
  last.e += pending.e;
  return { statistic: bins.reduce((x, b) => x + (b.o - b.e) ** 2 / b.e, 0), dof: bins.length - 1 };
}

/** The chi-square value exceeded with probability 0.001 (Wilson–Hilferty). */
const chiCritical001 = (k: number) => k * (1 - 2 / (9 * k) + 3.09 * Math.sqrt(2 / (9 * k))) ** 3;

async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else if (!rel.includes("_manifests/")) out.set(`${rel}${e.name}`, await readFile(join(d, e.name)));
    }
  };
  await walk(dir, "");
  return out;
}

describe("scenarios: related datasets", function () {
  this.timeout(300_000);
  let tmp: string;
  let shopFile: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "synthgen-scenario-"));
    shopFile = join(tmp, "shop.yaml");
    await writeFile(shopFile, SHOP);
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  describe("the scenario file", () => {
    it("accepts the shipped examples, and validate lists each dataset with its relation", async () => {
      for (const file of ["shop.yaml", "web-world.yaml"]) {
        const { code, stdout } = await synthgen(["validate", join(EXAMPLES, file)]);
        assert.equal(code, 0, stdout);
        assert.match(stdout, /ok — scenario/);
      }
      const { stdout } = await synthgen(["validate", join(EXAMPLES, "shop.yaml")]);
      assert.match(stdout, /orders: ~50,000 entities \(~[\d.]+ MiB\), per users: .*poisson/);
      assert.match(stdout, /users: 20,000 entities \(~[\d.]+ MiB\)/);
      assert.match(stdout, /references product → products \(zipf 1\.1\)/);
    });

    it("names the path and the closest name for a parent that does not exist", () => {
      refuses(SHOP.replace("parent: users", "parent: usres"), "test.yaml.datasets.orders.parent", /did you mean "users"/);
    });

    it("refuses parents and references that form a cycle", () => {
      const cyclic = `
name: c
datasets:
  a: { count: 10, references: { other: { dataset: b } }, fields: { x: { ref: other.y } } }
  b: { count: 10, references: { other: { dataset: a } }, fields: { y: { ref: other.x } } }
`;
      assert.throws(() => compile(cyclic), /depends on itself through a → b → a/);
    });

    it("refuses a reference to a child dataset, a field of a parent that does not exist, and {file}", () => {
      refuses(
        SHOP.replace("    per_parent: { distribution: uniform, min: 1, max: 4 }\n", "    per_parent: { distribution: uniform, min: 1, max: 4 }\n    references: { o: { dataset: orders } }\n"),
        "test.yaml.datasets.lines.references.o.dataset",
        /child dataset; a reference picks among a root/,
      );
      refuses(SHOP.replace("ref: users.country", "ref: users.contry"), "test.yaml.datasets.orders.fields.country.ref", /users has no field "contry".*did you mean "country"/);
      refuses(SHOP.replace('format: "ord-{n}"', 'format: "ord-{file}-{n}"'), "test.yaml.datasets.orders.fields.order_id.sequence.format", /\{file\} depends on how a run is split/);
    });

    it("refuses `after` naming a field that is not a timestamp", () => {
      refuses(SHOP.replace("after: users.signup_at", "after: users.email"), "test.yaml.datasets.orders.fields.placed_at.timestamp.after", /not a timestamp field/);
    });

    it("bounds what one root can own and keeps entity numbers exact", () => {
      refuses(
        SHOP.replace("{ distribution: uniform, min: 1, max: 4 }", "{ distribution: uniform, min: 1, max: 50000 }"),
        "test.yaml.datasets.lines.per_parent",
        /up to 1550000 lines .* at most 1000000/,
      );
      const wide = SHOP.replace("count: 4000", "count: 1000000000")
        .replace("{ distribution: poisson, mean: 3 }", "{ distribution: uniform, max: 1000 }")
        .replace("{ distribution: uniform, min: 1, max: 4 }", "{ distribution: uniform, max: 1000 }");
      refuses(wide, "test.yaml.datasets.lines", /entity numbers would reach 2\.00e\+17, beyond exact whole numbers/);
    });

    it("names unknown distributions and settings, and needs count or parent", () => {
      refuses(SHOP.replace("distribution: poisson", "distribution: poison"), "test.yaml.datasets.orders.per_parent.distribution", /did you mean "poisson"/);
      refuses(SHOP.replace("mean: 3 }", "mean: 3, sd: 1 }"), "test.yaml.datasets.orders.per_parent.sd", /allowed: distribution, mean, max/);
      refuses(SHOP.replace("    count: 500\n", ""), "test.yaml.datasets.products", /needs either count .* or parent/);
    });

    it("a bad scenario is bad input for generate: exit 2, the path named, nothing written", async () => {
      const bad = join(tmp, "bad.yaml");
      await writeFile(bad, SHOP.replace("parent: users", "parent: usres"));
      const out = join(tmp, "bad-out");
      const { code, stderr } = await synthgen(["generate", "--scenario", bad, "--out", out]);
      assert.equal(code, 2);
      assert.match(stderr, /datasets\.orders\.parent/);
      await assert.rejects(readdir(out));
    });

    describe("a scenario larger than its files is refused from the plan's arithmetic, before anything is written", () => {
      // A billion users with 100,000 orders each: every limit of the language holds, and it is ~1.9 PiB.
      const HUGE =
        "name: huge\ndatasets:\n  users:\n    count: 1000000000\n    fields: { id: { sequence: {} } }\n  orders:\n    parent: users\n    per_parent: { distribution: uniform, min: 100000, max: 100000 }\n    fields: { id: { sequence: {} }, u: { ref: users.id } }\n";
      // 300 million orders (~5 GiB): at 0.05 MiB, ~10× the files a dataset may have.
      const TENFOLD = HUGE.replace("name: huge", "name: tenfold").replace("count: 1000000000", "count: 1000000").replace("min: 100000, max: 100000", "min: 300, max: 300");
      const PETABYTES =
        /huge\.orders holds about 100,000,000,000,000 records of ~\d+ bytes \(~1\.\d PiB\), more than a run may write of one dataset: 10,000 files of at most 1,024 MiB \(9\.8 TiB\), about \d+× that: give users fewer entities \(count 1,000,000,000\)/;
      let huge: string;
      let tenfold: string;
      before(async () => {
        huge = join(tmp, "huge.yaml");
        tenfold = join(tmp, "tenfold.yaml");
        await writeFile(huge, HUGE);
        await writeFile(tenfold, TENFOLD);
      });

      it("the plan's arithmetic refuses them in well under a second, making no entity", () => {
        const started = performance.now();
        assert.throws(() => planScenario(loadScenarioText(HUGE, "huge.yaml"), 3.5), PETABYTES);
        const loaded = loadScenarioText(TENFOLD, "tenfold.yaml");
        const runs = planScenario(loaded, 0.05);
        assert.throws(() => assertFilesFit(loaded, runs, 0.05, "target_size_mb"), /tenfold\.orders holds about 300,000,000 records \(~[\d.]+ GiB\): files of 0\.05 MiB would take [\d,]+ of them/);
        assert.ok(performance.now() - started < 1000, `${Math.round(performance.now() - started)} ms`);
        const orders = runs.find((r) => r.name === "orders");
        assert.ok(orders && orders.size.bytes > 4 * 1024 ** 3 && orders.size.bytes < 8 * 1024 ** 3, `orders planned at ${orders?.size.bytes} bytes`);
      });

      it("validate says so with the total; generate and preview of a dataset refuse it, exit 2, nothing written", async () => {
        const out = join(tmp, "huge-out");
        const [validate, generate, preview] = await Promise.all([
          synthgen(["validate", huge]),
          synthgen(["generate", "--scenario", huge, "--size-mb", "0.1", "--out", out]),
          synthgen(["preview", "--scenario", huge, "--dataset", "orders", "-n", "3"]),
        ]);
        for (const [command, run] of [
          ["validate", validate],
          ["generate", generate],
          ["preview", preview],
        ] as const) {
          assert.equal(run.code, 2, `${command}: ${run.stderr}`);
          assert.match(run.stderr, PETABYTES, command);
          assert.equal(run.stdout, "", command);
        }
        assert.match(generate.stderr, /^synthgen: --scenario: huge\.orders/);
        await assert.rejects(readdir(out), "generate made no folder");
      });

      it("generate refuses files larger than asked, naming the size that would hold them; the same scenario at that size is planned at its real size", async () => {
        const out = join(tmp, "tenfold-out");
        const run = await synthgen(["generate", "--scenario", tenfold, "--size-mb", "0.05", "--out", out]);
        assert.equal(run.code, 2, run.stderr);
        const m =
          /^synthgen: --size-mb: tenfold\.orders holds about 300,000,000 records \(~[\d.]+ GiB\): files of 0\.05 MiB would take ([\d,]+) of them, more than the 10,000 a dataset may have; in 10,000 files each would be ~[\d.]+ KiB: ask for files of at least ([\d.]+) MiB, or give users fewer entities \(count 1,000,000\)/.exec(
            run.stderr,
          );
        assert.ok(m, run.stderr);
        assert.ok(Number((m[1] as string).replace(/,/g, "")) >= 90_000, "about ten times the file-count limit");
        await assert.rejects(readdir(out));
        // Three users with 50,000 orders each: a file holds whole users, so three files hold them all.
        const few = join(tmp, "few.yaml");
        await writeFile(few, "name: few\ndatasets:\n  users: { count: 3, fields: { id: { sequence: {} } } }\n  orders: { parent: users, per_parent: 50000, fields: { id: { sequence: {} } } }\n");
        const whole = await synthgen(["generate", "--scenario", few, "--size-mb", "0.1", "--out", join(tmp, "few-out")]);
        assert.equal(whole.code, 2);
        assert.match(
          whole.stderr,
          /few\.orders holds about 150,000 records \(~[\d.]+ MiB\), and a file holds the orders of whole users \(3 of them\), so each of its 3 files would be ~[\d.]+ KiB, more than the 0\.1 MiB asked for: ask for files of at least ([\d.]+) MiB/,
        );
        await assert.rejects(readdir(join(tmp, "few-out")));
        const atLeast = /at least ([\d.]+) MiB/.exec(whole.stderr)?.[1] as string;
        const fits = await synthgen(["generate", "--scenario", few, "--size-mb", atLeast, "--out", join(tmp, "few-out"), "--date", "2026-03-01"]);
        assert.equal(fits.code, 0, fits.stderr);
        assert.match(fits.stderr, /orders 3 files \(~150,000 records, ~[\d.]+ MiB\)/);
        assert.equal(JSON.parse(fits.stdout).datasets.orders.total_records, 150_000);
      });

      it("a YAML error in --scenario FILE names --scenario, in generate, preview and emit", async () => {
        const bad = join(tmp, "not-yaml.yaml");
        await writeFile(bad, "name: x\ndatasets: [\n");
        const runs = await Promise.all([
          synthgen(["generate", "--scenario", bad, "--out", join(tmp, "not-yaml-out")]),
          synthgen(["preview", "--scenario", bad]),
          synthgen(["emit", "--scenario", bad, "--dataset", "users", "--to", "http://127.0.0.1:9/x"]),
        ]);
        for (const run of runs) {
          assert.equal(run.code, 2, run.stderr);
          assert.match(run.stderr, /^synthgen: --scenario: .*not-yaml\.yaml: not valid YAML or JSON/);
        }
      });
    });

    it("refuses the flags a scenario decides itself", async () => {
      const { code, stderr } = await synthgen(["generate", "--scenario", shopFile, "--files", "3", "--out", join(tmp, "x")]);
      assert.equal(code, 2);
      assert.match(stderr, /--files does not apply with --scenario/);
    });
  });

  describe("distributions", () => {
    it("Zipf ranks follow k^-s (rejection-inversion against the exact pmf)", () => {
      const n = 50;
      const s = 1.2;
      const zipf = new ZipfSampler(n, s);
      const rng = Prng.fromParts("zipf test");
      const draws = 200_000;
      const observed = new Map<number, number>();
      for (let i = 0; i < draws; i++) {
        const k = zipf.sample(rng) - 1;
        observed.set(k, (observed.get(k) ?? 0) + 1);
      }
      const h = Array.from({ length: n }, (_, k) => (k + 1) ** -s).reduce((a, b) => a + b, 0);
      const { statistic, dof } = chiSquare(observed, draws, (k) => (k + 1) ** -s / h, n - 1);
      assert.ok(statistic < chiCritical001(dof), `chi² ${statistic.toFixed(1)} with ${dof} dof`);
    });

    it("Poisson counts: a mean of 2,000 does not underflow, and its draws average to it", () => {
      const poisson = parseChildCount("p", { distribution: "poisson", mean: 2000 });
      const rng = Prng.fromParts("poisson test");
      let sum = 0;
      for (let i = 0; i < 2000; i++) sum += poisson.sample(rng);
      assert.ok(Math.abs(sum / 2000 - 2000) < 4 * Math.sqrt(2000 / 2000), `mean ${sum / 2000}`);
    });
  });

  describe("entities as functions of their index", () => {
    const doc = () => parseSchemaText(SHOP, "shop.yaml");
    const filesOf = (dataset: string, fileCount: number): FileIdentity[] =>
      Array.from({ length: fileCount }, (_, fileIndex) => ({
        dataset: `shop-test.${dataset}`,
        seed: 11,
        runId: "r",
        datePrefix: "2026-03-01",
        hhmmss: "000000",
        fileIndex,
        fileCount,
        targetBytes: 1 << 20,
        schema: { scenario: doc(), dataset },
      }));
    const text = (ids: FileIdentity[]) => Buffer.concat(ids.flatMap((id) => [...renderFile(id).chunks])).toString();

    it("a dataset's records are the same however many files hold them", () => {
      for (const dataset of ["users", "orders", "lines"]) {
        const one = text(filesOf(dataset, 1));
        assert.ok(one.length > 0);
        assert.equal(text(filesOf(dataset, 7)), one, dataset);
        assert.equal(text(filesOf(dataset, 13).reverse().reverse()), one, dataset);
      }
    });

    it("a file's record count is known before it is written, and its metadata says so", () => {
      const [first] = filesOf("orders", 7);
      const rendered = renderFile(first as FileIdentity);
      const body = Buffer.concat([...rendered.chunks]).toString();
      assert.equal(rendered.stats.records, body.split("\n").length - 1);
    });
  });

  describe("generate --scenario, checked by DuckDB", () => {
    let out: string;
    let summary: Record<string, any>;
    let duck: DuckDBConnection;
    const rows = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, any>[];
    const one = async (sql: string) => Number(Object.values((await rows(sql))[0] as object)[0]);

    before(async () => {
      out = join(tmp, "shop");
      const r = await synthgen(["generate", "--scenario", shopFile, "--out", out, "--seed", "5", "--run-id", "shop-1", "--date", "2026-03-01", "--size-mb", "0.25", "--threads", "2"]);
      assert.equal(r.code, 0, r.stderr);
      summary = JSON.parse(r.stdout);
      duck = await (await DuckDBInstance.create(":memory:")).connect();
      for (const t of ["users", "products", "orders", "lines"]) {
        await duck.run(`create table ${t} as select * from read_json_auto('${join(out, t)}/*.ndjson', format = 'newline_delimited')`);
      }
    });

    it("writes each dataset under its own prefix with the seed's key pattern, and the counts DuckDB finds", async () => {
      assert.deepEqual(Object.keys(summary.datasets), ["users", "products", "orders", "lines"]);
      for (const [name, d] of Object.entries<Record<string, any>>(summary.datasets)) {
        assert.equal(d.key_prefix, `${name}/`);
        const keys = await readdir(join(out, name));
        assert.equal(keys.length, d.total_files);
        for (const k of keys) assert.match(k, /^2026-03-01-test\d{4}-\d{6}\.ndjson$/);
        assert.equal(await one(`select count(*) from ${name}`), d.total_records, name);
      }
      assert.ok(summary.datasets.orders.total_files > 1, "orders span several files");
      assert.equal(await one("select count(*) from users"), 4000);
    });

    it("every child's parent exists: no orphans, no dangling references, keys unique", async () => {
      assert.equal(await one("select count(*) from orders o anti join users u using (user_id)"), 0);
      assert.equal(await one("select count(*) from lines l anti join orders o using (order_id)"), 0);
      assert.equal(await one("select count(*) from orders o anti join products p using (product_id)"), 0);
      assert.equal(await one("select count(*) - count(distinct order_id) from orders"), 0);
      assert.equal(await one("select count(*) - count(distinct line_id) from lines"), 0);
    });

    it("copied fields agree with the parent, through two levels", async () => {
      assert.equal(await one("select count(*) from orders o join users u using (user_id) where o.country <> u.country"), 0);
      assert.equal(await one("select count(*) from lines l join orders o using (order_id) where l.user_id <> o.user_id"), 0);
      assert.equal(await one("select count(*) from orders o join products p using (product_id) where o.price <> p.price"), 0);
    });

    it("every cross-dataset time rule holds", async () => {
      assert.equal(await one("select count(*) from orders o join users u using (user_id) where not (o.placed_at > u.signup_at and o.placed_at <= u.signup_at + interval 30 days)"), 0);
      assert.equal(
        await one("select count(*) from lines l join orders o using (order_id) where l.shipped_at is not null and not (l.shipped_at > o.placed_at and l.shipped_at <= o.placed_at + interval 5 days)"),
        0,
      );
      const nulls = await one("select count(*) from lines where shipped_at is null");
      assert.ok(nulls > 0, "null_probability still applies");
    });

    it("children per parent follow the declared distribution: mean within 4σ, chi-square below its 0.1% critical value", async () => {
      const check = async (sql: string, spec: unknown, parents: number) => {
        const dist = parseChildCount("spec", spec);
        const counts = await rows(sql);
        const observed = new Map(counts.map((r) => [Number(r.n), Number(r.parents)]));
        const total = [...observed.values()].reduce((a, b) => a + b, 0);
        assert.equal(total, parents);
        const mean = [...observed].reduce((m, [k, c]) => m + k * c, 0) / total;
        const variance = Array.from({ length: dist.max + 1 }, (_, k) => dist.pmf(k) * (k - dist.mean) ** 2).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(mean - dist.mean) < 4 * Math.sqrt(variance / total), `mean ${mean} vs ${dist.mean}`);
        const { statistic, dof } = chiSquare(observed, total, dist.pmf, dist.max);
        assert.ok(statistic < chiCritical001(dof), `chi² ${statistic.toFixed(1)} with ${dof} dof (critical ${chiCritical001(dof).toFixed(1)})`);
        return { mean, statistic, dof };
      };
      await check(
        "select n, count(*) parents from (select u.user_id, count(o.order_id) n from users u left join orders o using (user_id) group by 1) group by 1",
        { distribution: "poisson", mean: 3 },
        4000,
      );
      const orders = await one("select count(*) from orders");
      await check(
        "select n, count(*) parents from (select o.order_id, count(l.line_id) n from orders o left join lines l using (order_id) group by 1) group by 1",
        { distribution: "uniform", min: 1, max: 4 },
        orders,
      );
    });

    it("a Zipf reference makes hot keys: the top products take their k^-s shares", async () => {
      const orders = await one("select count(*) from orders");
      const h = Array.from({ length: 500 }, (_, k) => (k + 1) ** -1.2).reduce((a, b) => a + b, 0);
      for (const k of [1, 2, 3]) {
        const p = k ** -1.2 / h;
        const n = await one(`select count(*) from orders where product_id = 'sku-${k}'`);
        assert.ok(Math.abs(n - orders * p) < 4 * Math.sqrt(orders * p * (1 - p)), `sku-${k}: ${n} vs ${Math.round(orders * p)}`);
      }
    });

    it("1 shard and 7 shards, 1 thread and 2, write byte-identical files", async () => {
      const base = await readTree(out);
      for (const [flags, dir] of [
        [["--shards", "1"], "s1"],
        [["--shards", "7"], "s7"],
        [["--threads", "1"], "t1"],
      ] as const) {
        const r = await synthgen(["generate", "--scenario", shopFile, "--out", join(tmp, dir), "--seed", "5", "--run-id", "shop-1", "--date", "2026-03-01", "--size-mb", "0.25", ...flags]);
        assert.equal(r.code, 0, r.stderr);
        const tree = await readTree(join(tmp, dir));
        assert.deepEqual([...tree.keys()].sort(), [...base.keys()].sort(), dir);
        for (const [k, bytes] of base) assert.ok(bytes.equals(tree.get(k) as Buffer), `${dir}: ${k}`);
      }
      const sharded = JSON.parse(
        (await synthgen(["generate", "--scenario", shopFile, "--out", join(tmp, "s7"), "--seed", "5", "--run-id", "shop-1", "--date", "2026-03-01", "--size-mb", "0.25", "--shards", "7"])).stdout,
      );
      assert.equal(sharded.datasets.orders.skipped, sharded.datasets.orders.total_files, "a rerun resumes: every file already there");
      assert.equal(sharded.datasets.orders.totals.records, summary.datasets.orders.total_records);
      // One manifest for the whole scenario, as the fan-out writes it, and none per dataset.
      assert.equal(sharded.manifest, join(tmp, "s7", "_manifests", "shop-1.json"));
      const manifest = JSON.parse(await readFile(sharded.manifest, "utf8"));
      assert.deepEqual([manifest.scenario, manifest.status, Object.keys(manifest.datasets)], ["shop-test", "completed", ["users", "products", "orders", "lines"]]);
      const own = Object.values<{ shard_count: number; first_shard: number }>(manifest.datasets);
      assert.equal(
        manifest.shard_count,
        own.reduce((n, d) => n + d.shard_count, 0),
        "each dataset's shards (up to 7, one per file at most), numbered one after another",
      );
      assert.ok(own.every((d) => d.shard_count >= 1 && d.shard_count <= 7));
      assert.equal(manifest.totals.records, summary.total_records);
      for (const name of ["users", "orders"]) assert.ok(!(await readdir(join(tmp, "s7", name))).includes("_manifests"), name);
      // verify takes the scenario's manifest with the scenario it was written from, and a dataset of it.
      const v = await synthgen(["verify", "--manifest", sharded.manifest, "--scenario", shopFile, "--dataset", "orders", "--output", join(tmp, "s7", "orders")]);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).found, summary.datasets.orders.total_records);
      const other = await synthgen(["verify", "--manifest", sharded.manifest, "--scenario", join(EXAMPLES, "web-world.yaml"), "--dataset", "orders", "--output", join(tmp, "s7", "orders")]);
      assert.equal(other.code, 2);
      assert.match(other.stderr, /is not the text the run was written from/);
    });
  });

  it("orphans and dangling references come at their declared rates and are counted exactly", async () => {
    const file = join(tmp, "broken.yaml");
    await writeFile(
      file,
      SHOP.replace("    per_parent: { distribution: poisson, mean: 3 }\n", "    per_parent: { distribution: poisson, mean: 3 }\n    orphans: 0.05\n").replace(
        "skew: { zipf: 1.2 } }",
        "skew: { zipf: 1.2 }, dangling: 0.03 }",
      ),
    );
    const out = join(tmp, "broken");
    const r = await synthgen(["generate", "--scenario", file, "--out", out, "--seed", "9", "--size-mb", "0.25"]);
    assert.equal(r.code, 0, r.stderr);
    const counted = JSON.parse(r.stdout).datasets.orders.dirty_records as Record<string, number>;
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    const one = async (sql: string) => Number(Object.values((await duck.runAndReadAll(sql)).getRowObjectsJson()[0] as object)[0]);
    for (const t of ["users", "products", "orders", "lines"]) await duck.run(`create table ${t} as select * from read_json_auto('${join(out, t)}/*.ndjson', format = 'newline_delimited')`);
    const orders = await one("select count(*) from orders");
    const orphans = await one("select count(*) from orders anti join users using (user_id)");
    const dangling = await one("select count(*) from orders anti join products using (product_id)");
    assert.equal(orphans, counted.orphan);
    assert.equal(dangling, counted.dangling);
    assert.ok(Math.abs(orphans - orders * 0.05) < 4 * Math.sqrt(orders * 0.05 * 0.95), `${orphans} orphans of ${orders}`);
    assert.ok(Math.abs(dangling - orders * 0.03) < 4 * Math.sqrt(orders * 0.03 * 0.97), `${dangling} dangling of ${orders}`);
    // An orphan's own children still follow it: lines of orphan orders carry the ghost user too.
    assert.equal(await one("select count(*) from lines l join orders o using (order_id) where l.user_id <> o.user_id"), 0);
  });

  it("writes a scenario as Parquet and csv.gz that DuckDB joins the same way", async () => {
    for (const format of ["parquet", "csv.gz"]) {
      const out = join(tmp, `fmt-${format}`);
      const r = await synthgen(["generate", "--scenario", shopFile, "--out", out, "--seed", "5", "--run-id", "shop-1", "--date", "2026-03-01", "--size-mb", "0.25", "--format", format]);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      const duck = await (await DuckDBInstance.create(":memory:")).connect();
      const reader = format === "parquet" ? "read_parquet" : "read_csv_auto";
      for (const t of ["users", "orders"]) await duck.run(`create table ${t} as select * from ${reader}('${join(out, t)}/*.${format}')`);
      const one = async (sql: string) => Number(Object.values((await duck.runAndReadAll(sql)).getRowObjectsJson()[0] as object)[0]);
      assert.equal(await one("select count(*) from orders"), s.datasets.orders.total_records, format);
      assert.equal(await one("select count(*) from orders anti join users using (user_id)"), 0, format);
      assert.equal(await one("select count(*) from orders o join users u using (user_id) where o.placed_at <= u.signup_at"), 0, format);
    }
  });

  it("a file whose parents have no children is empty, and still valid in every format", async () => {
    const file = join(tmp, "sparse.yaml");
    await writeFile(
      file,
      `
name: sparse
datasets:
  users: { count: 40, fields: { user_id: { sequence: {} } } }
  alerts:
    parent: users
    files: 20
    per_parent: { distribution: poisson, mean: 0.05 }
    fields: { user_id: { ref: users.user_id }, at: { timestamp: iso } }
`,
    );
    for (const format of ["ndjson", "parquet", "csv", "ndjson.gz"]) {
      const out = join(tmp, `sparse-${format}`);
      const r = await synthgen(["generate", "--scenario", file, "--out", out, "--seed", "1", "--format", format]);
      assert.equal(r.code, 0, r.stderr);
      const alerts = JSON.parse(r.stdout).datasets.alerts;
      assert.equal(alerts.total_files, 20);
      const duck = await (await DuckDBInstance.create(":memory:")).connect();
      const files = await readdir(join(out, "alerts"));
      let total = 0;
      let empty = 0;
      for (const f of files) {
        const path = join(out, "alerts", f);
        const sql =
          format === "parquet"
            ? `select count(*) n from read_parquet('${path}')`
            : format === "csv"
              ? `select count(*) n from read_csv('${path}', header = true, columns = {'user_id': 'BIGINT', 'at': 'VARCHAR'})`
              : `select count(*) n from read_json('${path}', format = 'newline_delimited', columns = {'user_id': 'BIGINT', 'at': 'VARCHAR'})`;
        const n = Number((await duck.runAndReadAll(sql)).getRowObjectsJson()[0]?.n);
        total += n;
        if (n === 0) empty++;
      }
      assert.equal(total, alerts.total_records, format);
      assert.ok(empty > 0, `${format}: some files are empty`);
    }
  });

  it("streams a file far larger than planned to S3 in parts, never held whole: the same bytes as on disk", async () => {
    const file = join(tmp, "big.yaml");
    await writeFile(
      file,
      `
name: big
datasets:
  users: { count: 2, fields: { user_id: { sequence: {} } } }
  events:
    parent: users
    files: 1
    per_parent: 100000
    fields: { user_id: { ref: users.user_id }, note: { faker: { method: lorem.sentence, pool: 100 } }, at: { timestamp: iso } }
`,
    );
    const s3 = await startTestS3(["big-bucket"]);
    const arn = "arn:aws:s3:::big-bucket";
    const proxy = await startStrictS3(s3.endpoint, {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:AbortMultipartUpload"], Resource: [arn, `${arn}/*`] }],
    });
    try {
      const common = ["generate", "--scenario", file, "--seed", "3", "--run-id", "big", "--date", "2026-03-01", "--size-mb", "1"];
      const toS3 = await synthgen([...common, "--out", "s3://big-bucket/x", "--endpoint", proxy.endpoint]);
      assert.equal(toS3.code, 0, toS3.stderr);
      const local = await synthgen([...common, "--out", join(tmp, "big-local")]);
      assert.equal(local.code, 0, local.stderr);
      const name = (await readdir(join(tmp, "big-local", "events")))[0] as string;
      const onDisk = await readFile(join(tmp, "big-local", "events", name));
      assert.ok(onDisk.length > 16 * 1024 * 1024, `${onDisk.length} bytes: more than a whole PutObject may hold`);
      const key = `x/events/${name}`;
      const stored = await s3.body("big-bucket", key);
      assert.ok(stored.equals(onDisk));
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: "big-bucket", Key: key }));
      assert.equal(head.Metadata?.sha256, createHash("sha256").update(onDisk).digest("hex"));
      assert.equal(head.Metadata?.record_count, "200000");
      const puts = proxy.requests.filter((r) => r.key === key && r.method === "PUT");
      assert.ok(puts.length >= 3 && puts.every((r) => r.query.includes("partNumber=")), `sent in parts: ${puts.map((r) => r.query).join(" | ")}`);
    } finally {
      await proxy.close();
      await s3.stop();
    }
  });

  describe("emit --scenario and runs of one dataset", () => {
    it("streams a scenario's dataset as events: the same records generate writes, split across the streams", async () => {
      const out = join(tmp, "emit-files");
      const g = await synthgen(["generate", "--scenario", shopFile, "--out", out, "--date", "2026-03-02", "--size-mb", "0.25"]);
      assert.equal(g.code, 0, g.stderr);
      const files = await readdir(join(out, "orders"));
      const written = (await Promise.all(files.sort().map((f) => readFile(join(out, "orders", f), "utf8"))))
        .join("")
        .split("\n")
        .filter((l) => l !== "");
      const server = await startIngestServer();
      try {
        const e = await synthgen(["emit", "--scenario", shopFile, "--dataset", "orders", "--to", server.url, "--date", "2026-03-02", "--streams", "5"]);
        assert.equal(e.code, 0, e.stderr);
        const summary = JSON.parse(e.stdout);
        assert.equal(summary.total_events, written.length);
        assert.equal(summary.sent, written.length);
        assert.equal(summary.events_per_stream, undefined);
        // Without --seed both take the scenario's own seed, so the events are the orders of the same users.
        assert.deepEqual(server.accepted.map((a) => JSON.stringify(a.body)).sort(), written.map((l) => JSON.stringify(JSON.parse(l))).sort());
      } finally {
        await server.close();
      }
    });

    it("refuses events_per_stream for a scenario's dataset, and --scenario without --dataset", async () => {
      const resolved = resolveScenarioDataset(SHOP, "shop.yaml", "orders");
      assert.throws(
        () => parseEmitRequest({ ingest_api_url: "http://127.0.0.1:9/x", events_per_stream: 5 }, EMIT_DEFAULTS, { now: new Date() }, resolved),
        /events_per_stream does not apply to a scenario's dataset/,
      );
      // A billion users' orders are refused from the plan's figures, before any entity is counted.
      const huge = resolveScenarioDataset(SHOP.replace("count: 4000", "count: 1000000000"), "shop.yaml", "orders");
      const started = performance.now();
      assert.throws(
        () => parseEmitRequest({ ingest_api_url: "http://127.0.0.1:9/x" }, EMIT_DEFAULTS, { now: new Date() }, huge),
        /holds about 3,000,000,000 entities \(under 1,000,000,000 parents\), more than the 1,000,000 events one run sends/,
      );
      assert.ok(performance.now() - started < 1000);
      const r = await synthgen(["emit", "--scenario", shopFile, "--to", "http://127.0.0.1:9/x"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--scenario needs --dataset, one of its datasets: users, products, orders, lines/);
    });

    it("a stored scenario's dataset (`shop-test.orders`) defaults to the scenario's seed and to the prefix orders/, so runs of its datasets agree", () => {
      const orders = resolveScenarioDataset(SHOP, "shop.yaml", "orders");
      const users = resolveScenarioDataset(SHOP, "shop.yaml", "users");
      const a = parseGenerateRequest({ dataset: orders.name, run_id: "a" }, { fileCount: 2, targetSizeMb: 1 }, { now: new Date() }, orders);
      const b = parseGenerateRequest({ dataset: users.name, run_id: "b" }, { fileCount: 2, targetSizeMb: 1 }, { now: new Date() }, users);
      assert.equal(a.seed, b.seed);
      assert.equal(a.keyPrefix, "orders/");
      assert.equal(parseGenerateRequest({ dataset: orders.name, seed: 3 }, { fileCount: 2, targetSizeMb: 1 }, { now: new Date() }, orders).seed, 3);
      assert.throws(() => resolveScenarioDataset(SHOP, "shop.yaml", "order"), /has no dataset "order"; its datasets: users, products, orders, lines/);
    });
  });

  describe("a scenario backfill, --from/--to: one world over the days, each entity filed under the day of its own time (DuckDB)", () => {
    // Orders follow their user within 2 days (some orphaned), lines their order within 5 days: the walk of a day reaches back 2 and 7 days.
    const BACKFILL = SHOP.replace("within: 30d", "within: 2d").replace(
      "    per_parent: { distribution: poisson, mean: 3 }\n",
      "    per_parent: { distribution: poisson, mean: 3 }\n    orphans: 0.02\n",
    );
    const DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07"];
    let out: string;
    let file: string;
    let summary: Record<string, any>;
    let duck: DuckDBConnection;
    const rows = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, any>[];
    const one = async (sql: string) => Number(Object.values((await rows(sql))[0] as object)[0]);

    before(async () => {
      out = join(tmp, "backfill");
      file = join(tmp, "backfill-shop.yaml");
      await writeFile(file, BACKFILL);
      const r = await synthgen(["generate", "--scenario", file, "--out", out, "--run-id", "bf-1", "--from", DAYS[0]!, "--to", DAYS[6]!, "--size-mb", "0.25", "--threads", "2"]);
      assert.equal(r.code, 0, r.stderr);
      summary = JSON.parse(r.stdout);
      duck = await (await DuckDBInstance.create(":memory:")).connect();
      for (const t of ["users", "products", "orders", "lines"]) {
        await duck.run(`create table ${t} as select * from read_json_auto('${join(out, t)}/*/*.ndjson', format = 'newline_delimited', hive_partitioning = true, union_by_name = true)`);
      }
    });

    it("writes every dataset under dt=DAY/ for each of the 7 days, and every record's first timestamp lies in its partition's day", async () => {
      for (const t of ["users", "products", "orders", "lines"]) {
        assert.deepEqual(
          (await readdir(join(out, t))).sort(),
          DAYS.map((d) => `dt=${d}`),
          t,
        );
      }
      assert.equal(await one("select count(*) from users where cast(signup_at as date) <> dt"), 0);
      assert.equal(await one("select count(*) from orders where cast(placed_at as date) <> dt"), 0);
      assert.equal(await one("select count(*) from lines where shipped_at is not null and cast(shipped_at as date) <> dt"), 0);
      // The roots are spread evenly over the days; a root without timestamps (the catalogue) exists from the first.
      assert.deepEqual(
        (await rows("select cast(dt as varchar) dt, count(*) n from users group by dt order by dt")).map((r) => Number(r.n)),
        DAYS.map((_, k) => Math.ceil(((k + 1) * 4000) / 7) - Math.ceil((k * 4000) / 7)),
      );
      assert.equal(await one(`select count(*) from products where dt = '${DAYS[0]}'`), 500);
      assert.equal(await one(`select count(*) from products where dt <> '${DAYS[0]}'`), 0);
    });

    it("keeps the time rules across day boundaries: every child after its parent, a line without a time under its order's day; every id once, 0 orphans but the declared ones", async () => {
      assert.equal(await one("select count(*) from users"), 4000);
      assert.equal(await one("select count(*) - count(distinct order_id) from orders"), 0);
      assert.equal(await one("select count(*) - count(distinct line_id) from lines"), 0);
      const orders = await one("select count(*) from orders");
      const orphans = summary.datasets.orders.dirty_records?.orphan ?? 0;
      assert.ok(orphans > 0, "some orders are orphans, as declared");
      assert.equal(await one("select count(*) from orders o join users u using (user_id)"), orders - orphans, "every order but the orphans has its user");
      assert.equal(await one("select count(*) from orders o join users u using (user_id) where not (o.placed_at > u.signup_at)"), 0);
      assert.equal(await one("select count(*) from orders o join users u using (user_id) where o.dt < u.dt"), 0);
      const crossing = await one("select count(*) from orders o join users u using (user_id) where o.dt > u.dt");
      assert.ok(crossing > orders / 4, `${crossing} of ${orders} orders are filed on a later day than their user`);
      assert.equal(await one("select count(*) from lines l left join orders o using (order_id) where o.order_id is null"), 0, "every line's order was written");
      assert.equal(await one("select count(*) from lines l join orders o using (order_id) where l.shipped_at is not null and not (l.shipped_at > o.placed_at)"), 0);
      assert.equal(await one("select count(*) from lines l join orders o using (order_id) where l.shipped_at is null and l.dt <> o.dt"), 0);
    });

    it("writes exactly the world's entities filed by the last day, nothing lost: the counts World.filingDay gives, walking every root", async () => {
      const { World } = await import("../src/scenarios/world");
      const scenario = compile(BACKFILL);
      const seed = (await import("../src/scenarios/plan")).scenarioSeed("shop-test");
      const world = new World(scenario, { seed, datePrefix: DAYS[0]!, days: 7 });
      for (const t of ["orders", "lines"]) {
        const d = scenario.datasets.get(t)!;
        const byDay = new Array<number>(8).fill(0);
        for (const path of world.paths(d, 0, 4000)) byDay[Math.min(7, world.filingDay(d, path))]!++;
        const found = (await rows(`select cast(dt as varchar) dt, count(*) n from ${t} group by dt order by dt`)).map((r) => Number(r.n));
        assert.deepEqual(found, byDay.slice(0, 7), t);
        assert.ok(byDay[7]! > 0, `${t}: ${byDay[7]} fall after the last day and are not written`);
      }
    });

    it("verify finds every record of a backfilled dataset under its day's partition", async () => {
      const v = await synthgen(["verify", "--scenario", file, "--dataset", "lines", "--run-id", "bf-1", "--from", DAYS[0]!, "--to", DAYS[6]!, "--size-mb", "0.25", "--output", join(out, "lines")]);
      assert.equal(v.code, 0, v.stderr);
      const report = JSON.parse(v.stdout);
      assert.deepEqual([report.status, report.missing, report.misplaced, report.found], ["passed", 0, 0, await one("select count(*) from lines")]);
    });

    it("a one-day run (--date) is unchanged: the whole world of the day under that day, children past midnight included", async () => {
      const a = parseGenerateRequest(
        { dataset: "shop-test.orders", date_prefix: DAYS[0] },
        { fileCount: 2, targetSizeMb: 1 },
        { now: new Date() },
        resolveScenarioDataset(BACKFILL, "shop.yaml", "orders"),
      );
      assert.equal((a.schema as { range?: unknown }).range, undefined);
      const b = parseGenerateRequest(
        { dataset: "shop-test.orders", date_from: DAYS[0], date_to: DAYS[6] },
        { fileCount: 2, targetSizeMb: 1 },
        { now: new Date() },
        resolveScenarioDataset(BACKFILL, "shop.yaml", "orders"),
      );
      assert.deepEqual((b.schema as { range?: unknown }).range, { from: DAYS[0], days: 7 });
      assert.equal(b.days.length, 7);
    });
  });

  describe("preview --scenario", () => {
    it("shows a parent followed by its children and grandchildren, indented", async () => {
      const { code, stdout } = await synthgen(["preview", "--scenario", shopFile, "-n", "2", "--seed", "5", "--date", "2026-03-01"]);
      assert.equal(code, 0);
      const lines = stdout.trim().split("\n");
      assert.match(lines[0] as string, /^users \[0\] \{"user_id":1,/);
      const order = lines.find((l) => l.startsWith("  orders [0,0] "));
      assert.ok(order, stdout);
      assert.match(order as string, /"user_id":1,/);
      assert.ok(
        lines.some((l) => /^ {4}lines \[0,0,0\] \{"line_id":1011,"order_id":"ord-101","user_id":1/.test(l)),
        stdout,
      );
      assert.ok(lines.some((l) => l.startsWith("users [1] ")));
    });

    it("with --dataset, prints that dataset's first records exactly as generate writes them", async () => {
      const { code, stdout } = await synthgen(["preview", "--scenario", shopFile, "--dataset", "orders", "-n", "3", "--seed", "5", "--date", "2026-03-01"]);
      assert.equal(code, 0);
      const written = (await readFile(join(tmp, "shop", "orders", (await readdir(join(tmp, "shop", "orders"))).sort()[0] as string), "utf8")).split("\n").slice(0, 3).join("\n");
      assert.equal(stdout.trim(), written);
    });
  });
});
