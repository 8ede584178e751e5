import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { DuckDBInstance } from "@duckdb/node-api";
import { synthgen } from "./support/cli";
import aslValidator from "asl-validator";
import { LAMBDA_NODE_MAJOR, writeBundle } from "./support/lambda-runtime";
import { fanOutDefinitionOf, loadProgram, rolePolicyOf, type LoadedProgram } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { runProgramMachine, type DriverResult } from "./support/state-machine";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";

const BUCKET = "fan-out-bucket";
const PREFIX = "fanout/";
// A small function so that 300 quarter-MiB files need several shards: the plan sizes shards by
// the function's memory (CPU share) and timeout, and makes at least fanOutConcurrency of them.
const CONFIG = { inputBucketName: BUCKET, keyPrefix: PREFIX, memoryMb: "128", timeoutSeconds: "10", fanOutConcurrency: "3" };

type Manifest = { status: string; files: { key: string; bytes: number; sha256: string }[]; totals: { files: number }; missing_shards?: number[] };

describe("the fan-out state machine as declared, executed: States Language interpreter → bundled generate-files → S3 as strict as AWS", () => {
  let s3: TestS3;
  let strict: StrictS3;
  let bundleDir: string;
  let definition: Record<string, any>;
  let program: LoadedProgram;

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    program = await loadProgram(CONFIG);
    definition = fanOutDefinitionOf(program);
    strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, "generate-files"));
    ({ dir: bundleDir } = await writeBundle({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" }));
  });
  after(async () => {
    await strict.close();
    await s3.stop();
    await rm(bundleDir, { recursive: true, force: true });
  });

  /** One execution: the program's definition, the function's declared memory, timeout and environment. */
  const execute = (executionName: string, input: unknown): Promise<DriverResult> =>
    runProgramMachine({ program, component: "generate-files", definition, bundleDir, s3Endpoint: strict.endpoint, executionName, input });

  const dataKeys = async (date: string) => (await s3.keys(BUCKET, `${PREFIX}${date}-`)).filter((k) => k.endsWith(".ndjson"));
  const json = async <T>(key: string) => JSON.parse((await s3.body(BUCKET, key)).toString("utf8")) as T;
  const dataPuts = (from: number, date: string) =>
    strict.requests.slice(from).filter((r) => r.method === "PUT" && r.outcome === "forwarded" && r.key?.startsWith(`${PREFIX}${date}-`) && r.key.endsWith(".ndjson"));

  it("is valid Amazon States Language by asl-validator, which does catch a broken definition", () => {
    const verdict = aslValidator(definition as never);
    assert.equal(verdict.isValid, true, verdict.errorsText("\n"));
    const broken = structuredClone(definition);
    broken.States.Shards.Next = "Manifst";
    const refused = aslValidator(broken as never);
    assert.equal(refused.isValid, false);
    assert.match(refused.errorsText("\n"), /Manifst/);
  });

  it(`plans, maps the shards at most MaxConcurrency at a time, and writes 300 of 300 files and a manifest whose sha256s are the objects' (on Node ${LAMBDA_NODE_MAJOR})`, async () => {
    const result = await execute("exec-300", { file_count: 300, target_size_mb: 0.25, date_prefix: "2025-10-01", run_id: "sfn-300", seed: 3 });
    assert.equal(result.status, "SUCCEEDED", `${result.error}: ${result.cause}`);
    assert.match(result.node, new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
    const plan = (result.output as { plan: { body: { shard_count: number; files_per_shard: number } } }).plan.body;
    assert.deepEqual([plan.shard_count, plan.files_per_shard], [9, 34], "shards sized for 128 MB and 10 s");
    assert.deepEqual(result.invocations, { Plan: 1, Shard: 9, Manifest: 1 });
    assert.equal(result.maxInFlight.Shard, definition.States.Shards.MaxConcurrency, "as many shards at once as MaxConcurrency allows, never more");
    assert.equal(definition.States.Shards.MaxConcurrency, 3);

    const keys = await dataKeys("2025-10-01");
    assert.equal(keys.length, 300);
    const manifest = await json<Manifest>(`${PREFIX}_manifests/sfn-300.json`);
    assert.deepEqual([manifest.status, manifest.totals.files, manifest.files.length], ["completed", 300, 300]);
    assert.deepEqual(manifest.files.map((f) => f.key).sort(), keys);
    for (const f of manifest.files) {
      const bytes = await s3.body(BUCKET, f.key);
      assert.equal(createHash("sha256").update(bytes).digest("hex"), f.sha256, f.key);
      assert.equal(bytes.length, f.bytes);
    }
    assert.deepEqual(
      strict.requests.filter((r) => r.outcome === "denied"),
      [],
      "the role allowed everything the run needed",
    );
  });

  it("ends ShardsMissing with a failed manifest when a shard keeps failing; the same run_id again writes only what is missing, to 300 of 300", async () => {
    const input = { file_count: 300, target_size_mb: 0.25, date_prefix: "2025-10-02", run_id: "sfn-resume", seed: 4 };
    // File 150 (in shard 4: files 136–169) cannot be written, whatever the retries.
    strict.block((key) => key.startsWith(`${PREFIX}2025-10-02-test0150-`));
    const failed = await execute("exec-resume-1", input);
    strict.block(undefined);
    assert.deepEqual([failed.status, failed.error], ["FAILED", "ShardsMissing"]);
    assert.equal(failed.invocations.Manifest, 1, "a failed Map still reaches the manifest step");
    const report = await json<Manifest>(`${PREFIX}_manifests/sfn-resume.failed.json`);
    assert.equal(report.status, "failed");
    assert.ok(report.missing_shards!.includes(4), `missing shards ${report.missing_shards}`);
    assert.deepEqual(await s3.keys(BUCKET, `${PREFIX}_manifests/sfn-resume.json`), [], "no manifest for an incomplete run");
    const before = await dataKeys("2025-10-02");
    assert.ok(before.length < 300 && !before.some((k) => k.includes("-test0150-")), `${before.length} files before resuming`);

    const mark = strict.requests.length;
    const resumed = await execute("exec-resume-2", input);
    assert.equal(resumed.status, "SUCCEEDED", `${resumed.error}: ${resumed.cause}`);
    const after = await dataKeys("2025-10-02");
    assert.equal(after.length, 300);
    const written = dataPuts(mark, "2025-10-02").map((r) => r.key);
    assert.deepEqual(
      written.sort(),
      after.filter((k) => !before.includes(k)),
      "only the missing files were written, each once",
    );
    const manifest = await json<Manifest>(`${PREFIX}_manifests/sfn-resume.json`);
    assert.equal(manifest.totals.files, 300);
    assert.deepEqual(await s3.keys(BUCKET, `${PREFIX}_manifests/sfn-resume.failed.json`), [], "the stale failed manifest is gone");
  });

  describe("a stored scenario, whole: one execution writes every dataset", () => {
    const SHOP_DATASETS = ["users", "products", "orders", "order_lines", "tickets"];
    const input = { scenario: "shop", target_size_mb: 1, date_prefix: "2026-02-01", run_id: "sfn-shop" };
    let local: string;
    /** The files `synthgen generate --scenario` writes for the same run: name → sha256, per dataset. */
    const cliFiles: Record<string, Record<string, string>> = {};
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const scenarioKeys = async (dataset: string) => (await s3.keys(BUCKET, `${PREFIX}${dataset}/`)).filter((k) => !k.includes("/_manifests/"));
    type ScenarioManifest = {
      status: string;
      scenario: string;
      run_id: string;
      shard_count: number;
      missing_shards?: number[];
      totals: { files: number; records: number; bytes: number };
      datasets: Record<
        string,
        {
          status: string;
          first_shard: number;
          shard_count: number;
          missing_shards?: number[];
          totals: { files: number; records: number; bytes: number };
          files?: { key: string; bytes: number; records: number; sha256: string }[];
        }
      >;
    };

    before(async () => {
      local = await mkdtemp(join(tmpdir(), "sfn-shop-"));
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}_datasets/shop.yaml`, Body: await readFile("examples/shop.yaml") }));
      const out = join(local, "cli");
      const r = await synthgen(["generate", "--scenario", "examples/shop.yaml", "--size-mb", "1", "--date", input.date_prefix, "--run-id", input.run_id, "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      for (const d of SHOP_DATASETS) {
        cliFiles[d] = {};
        for (const name of await readdir(join(out, d))) (cliFiles[d] as Record<string, string>)[name] = sha(await readFile(join(out, d, name)));
      }
    });
    after(() => rm(local, { recursive: true, force: true }));

    it("plans every dataset as shards of one Map, writes each file once, byte for byte what generate --scenario writes, and one manifest for the run", async () => {
      const mark = strict.requests.length;
      const result = await execute("exec-shop", input);
      assert.equal(result.status, "SUCCEEDED", `${result.error}: ${result.cause}`);
      const plan = (result.output as { plan: { body: { shard_count: number; files_per_shard: number[]; datasets: { dataset: string; shard_count: number; first_shard: number }[] } } }).plan.body;
      assert.deepEqual(
        plan.datasets.map((d) => d.dataset),
        SHOP_DATASETS,
      );
      assert.equal(plan.files_per_shard.length, SHOP_DATASETS.length, "a layout per dataset");
      assert.equal(
        plan.shard_count,
        plan.datasets.reduce((n, d) => n + d.shard_count, 0),
      );
      assert.ok(
        plan.datasets.some((d) => d.shard_count > 1),
        `a large dataset spans shards: ${JSON.stringify(plan.datasets)}`,
      );
      assert.deepEqual(result.invocations, { Plan: 1, Shard: plan.shard_count, Manifest: 1 });

      const puts = strict.requests.slice(mark).filter((r) => r.method === "PUT" && r.outcome === "forwarded" && !r.key?.includes("_manifests/"));
      for (const d of SHOP_DATASETS) {
        const keys = await scenarioKeys(d);
        const want = cliFiles[d] as Record<string, string>;
        assert.deepEqual(
          keys.map((k) => k.slice(`${PREFIX}${d}/`.length)),
          Object.keys(want).sort(),
          `${d}: the same files as the CLI`,
        );
        for (const k of keys) assert.equal(sha(await s3.body(BUCKET, k)), want[k.slice(`${PREFIX}${d}/`.length)], k);
      }
      const written = puts.map((r) => r.key as string);
      assert.equal(new Set(written).size, written.length, "no file written twice");
      assert.equal(
        written.length,
        Object.values(cliFiles).reduce((n, f) => n + Object.keys(f).length, 0),
      );

      const manifestKeys = (await s3.keys(BUCKET, PREFIX)).filter(
        (k) => k.includes("_manifests/") && !k.includes("/shards/") && (k.includes("sfn-shop") || SHOP_DATASETS.some((d) => k.startsWith(`${PREFIX}${d}/`))),
      );
      assert.deepEqual(manifestKeys, [`${PREFIX}_manifests/sfn-shop.json`], "one manifest for the scenario, none per dataset");
      const manifest = await json<ScenarioManifest>(`${PREFIX}_manifests/sfn-shop.json`);
      assert.deepEqual([manifest.status, manifest.scenario, manifest.run_id, manifest.shard_count], ["completed", "shop", "sfn-shop", plan.shard_count]);
      assert.deepEqual(Object.keys(manifest.datasets), SHOP_DATASETS);
      let files = 0;
      let records = 0;
      for (const [name, d] of Object.entries(manifest.datasets)) {
        assert.equal(d.status, "completed", name);
        assert.equal(d.files!.length, Object.keys(cliFiles[name] as object).length, name);
        for (const f of d.files!) {
          const body = await s3.body(BUCKET, f.key);
          assert.deepEqual([sha(body), body.length], [f.sha256, f.bytes], f.key);
          assert.equal(body.toString("utf8").split("\n").filter(Boolean).length, f.records, f.key);
        }
        assert.equal(
          d.totals.records,
          d.files!.reduce((n, f) => n + f.records, 0),
        );
        files += d.totals.files;
        records += d.totals.records;
      }
      assert.deepEqual([manifest.totals.files, manifest.totals.records], [files, records]);
      assert.equal(manifest.datasets.users!.totals.records, 20_000, "the scenario's count, exactly");
      assert.deepEqual(
        strict.requests.slice(mark).filter((r) => r.outcome === "denied"),
        [],
        "the role allowed everything the run needed",
      );
    });

    it("the datasets join in DuckDB with 0 orphans and 0 dangling references", async () => {
      const dir = join(local, "s3");
      const duck = await (await DuckDBInstance.create(":memory:")).connect();
      for (const d of SHOP_DATASETS) {
        await mkdir(join(dir, d), { recursive: true });
        for (const k of await scenarioKeys(d)) await writeFile(join(dir, d, k.slice(k.lastIndexOf("/") + 1)), await s3.body(BUCKET, k));
        await duck.run(`create table ${d} as select * from read_json_auto('${join(dir, d)}/*.ndjson', format = 'newline_delimited')`);
      }
      const one = async (sql: string) => Number(Object.values((await duck.runAndReadAll(sql)).getRowObjectsJson()[0] as object)[0]);
      assert.ok((await one("select count(*) from orders")) > 20_000, "orders were written");
      assert.equal(await one("select count(*) from orders anti join users using (user_id)"), 0);
      assert.equal(await one("select count(*) from orders anti join products using (product_id)"), 0);
      assert.equal(await one("select count(*) from order_lines anti join orders using (order_id)"), 0);
      assert.equal(await one("select count(*) from tickets anti join users using (user_id)"), 0);
      assert.equal(await one("select count(*) from orders o join users u using (user_id) where not (o.placed_at > u.signup_at)"), 0, "every order after its user signed up");
    });

    it("a shard of one dataset keeps failing: ShardsMissing, a failed manifest naming it per dataset; the same run_id again writes only the missing files, whichever dataset", async () => {
      const again = { ...input, date_prefix: "2026-02-02", run_id: "sfn-shop-resume" };
      const ordersFiles = Object.keys(cliFiles.orders as object);
      // The third orders file cannot be written, whatever the retries.
      const blocked = (key: string) => key.startsWith(`${PREFIX}orders/2026-02-02-test0002-`);
      const runKeys = async () => (await Promise.all(SHOP_DATASETS.map(scenarioKeys))).flat().filter((k) => k.includes("/2026-02-02-"));
      strict.block(blocked);
      const failed = await execute("exec-shop-resume-1", again);
      strict.block(undefined);
      assert.deepEqual([failed.status, failed.error], ["FAILED", "ShardsMissing"]);
      const report = await json<ScenarioManifest>(`${PREFIX}_manifests/sfn-shop-resume.failed.json`);
      assert.equal(report.status, "failed");
      const orders = report.datasets.orders!;
      assert.equal(orders.status, "failed");
      assert.ok(orders.missing_shards!.includes(orders.first_shard), `orders' first shard (file 2) is missing: ${orders.missing_shards}`);
      // A failed Map item stops the Map, so shards not yet run are missing too: each dataset says which of its own.
      const perDataset = SHOP_DATASETS.flatMap((d) => report.datasets[d]!.missing_shards ?? []);
      assert.deepEqual(
        [...perDataset].sort((a, b) => a - b),
        report.missing_shards,
        "the run's missing shards are the datasets' missing shards",
      );
      for (const d of SHOP_DATASETS) {
        const part = report.datasets[d]!;
        assert.equal(part.status, part.missing_shards?.length ? "failed" : "completed", d);
        for (const k of part.missing_shards ?? []) assert.ok(k >= part.first_shard && k < part.first_shard + part.shard_count, `shard ${k} is one of ${d}'s`);
      }
      assert.deepEqual(await s3.keys(BUCKET, `${PREFIX}_manifests/sfn-shop-resume.json`), [], "no manifest for an incomplete run");
      const before = await runKeys();
      assert.ok(!before.some(blocked), "the blocked file is not there");

      const mark = strict.requests.length;
      const resumed = await execute("exec-shop-resume-2", again);
      assert.equal(resumed.status, "SUCCEEDED", `${resumed.error}: ${resumed.cause}`);
      const rewritten = strict.requests
        .slice(mark)
        .filter((r) => r.method === "PUT" && r.outcome === "forwarded" && !r.key?.includes("_manifests/"))
        .map((r) => r.key as string);
      const after = await runKeys();
      assert.deepEqual([...rewritten].sort(), after.filter((k) => !before.includes(k)).sort(), "only the missing files were written, each once");
      assert.equal(rewritten.filter(blocked).length, 1, "the blocked file is written now");
      const manifest = await json<ScenarioManifest>(`${PREFIX}_manifests/sfn-shop-resume.json`);
      assert.equal(manifest.status, "completed");
      assert.equal(manifest.datasets.orders!.files!.length, ordersFiles.length);
      assert.equal(manifest.totals.files, after.length);
      for (const f of Object.values(manifest.datasets).flatMap((d) => d.files!)) assert.equal(sha(await s3.body(BUCKET, f.key)), f.sha256, f.key);
      assert.deepEqual(await s3.keys(BUCKET, `${PREFIX}_manifests/sfn-shop-resume.failed.json`), [], "the stale failed manifest is gone");
    });

    it("ends InvalidRequest for a scenario that is not stored, or a field a scenario decides, and writes nothing", async () => {
      const before = await s3.keys(BUCKET);
      for (const bad of [
        { scenario: "nope", run_id: "sfn-nope" },
        { ...input, run_id: "sfn-files", file_count: 3 },
      ]) {
        const result = await execute(`exec-${bad.run_id}`, bad);
        assert.deepEqual([result.status, result.error], ["FAILED", "InvalidRequest"], JSON.stringify(bad));
        assert.deepEqual(result.invocations, { Plan: 1 });
      }
      assert.deepEqual(await s3.keys(BUCKET), before);
    });
  });

  it("ends InvalidRequest on a bad request and writes nothing", async () => {
    const before = await s3.keys(BUCKET);
    const result = await execute("exec-bad", { file_count: 0, run_id: "sfn-bad" });
    assert.deepEqual([result.status, result.error], ["FAILED", "InvalidRequest"]);
    assert.deepEqual(result.invocations, { Plan: 1 });
    assert.deepEqual(await s3.keys(BUCKET), before);
  });
});
