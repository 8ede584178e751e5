import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import aslValidator from "asl-validator";
import { readStackConfig } from "../infra/config";
import { sha256Of } from "../src/catalog/resolve";
import { ValidationError } from "../src/core/errors";
import { datasetOf } from "../src/datasets";
import { ParquetPages } from "../src/formats/parquet";
import { synthgen } from "./support/cli";
import { type CollectorFault, startEventCollector } from "./support/event-collector";
import { simulate } from "./support/iam";
import { convert } from "./support/pipeline-under-test";
import { fanOutDefinitionOf, type LoadedProgram, loadProgram, rolePolicyOf } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { type DriverResult, invokeProgramFunction, runProgramMachine } from "./support/state-machine";
import { writeBundle } from "./support/lambda-runtime";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";

const LANDING = "verify-landing";
const OUT = "pipeline-out";
/** The pipeline output bucket's SSE-KMS key, in one case. */
const OUTPUT_KEY = "arn:aws:kms:us-east-1:123456789012:key/0badc0de-12ab-34cd-56ef-1234567890ab";
const CONFIG = { inputBucketName: LANDING, keyPrefix: "landing/", memoryMb: "512", timeoutSeconds: "60", fanOutConcurrency: "4", verifyOutputUri: `s3://${OUT}/lake/` };
/** The run under test, as generate took it and as the state machine's request names it. */
const RUN_FLAGS = ["--files", "6", "--size-mb", "0.25", "--date", "2026-03-01", "--seed", "7", "--run-id", "vsm-1", "--dirty", "duplicate=0.01,out_of_range=0.01"];
const RUN = { file_count: 6, target_size_mb: 0.25, date_prefix: "2026-03-01", seed: 7, run_id: "vsm-1", dirty: { duplicate: 0.01, out_of_range: 0.01 } };

type Report = Record<string, any>;

/** Stack config from plain values, as `pulumi.Config` reads them. */
const configOf = (values: Record<string, string>) => ({
  get: (k: string) => values[k],
  getNumber: (k: string) => (values[k] === undefined ? undefined : Number(values[k])),
  getBoolean: () => undefined,
  getSecret: () => undefined,
});

describe("the verify state machine as declared, executed: slices digest the run and the pipeline's output, the merge reports what synthgen verify reports", function () {
  this.timeout(300_000);
  let s3: TestS3;
  let strict: StrictS3;
  let bundleDir: string;
  let program: LoadedProgram;
  let definition: Record<string, any>;
  let tmp: string;

  const put = (key: string, body: Buffer | string) => s3.client.send(new PutObjectCommand({ Bucket: OUT, Key: key, Body: body }));
  const execute = (name: string, input: unknown): Promise<DriverResult> =>
    runProgramMachine({ program, component: "generate-files", definition, bundleDir, s3Endpoint: strict.endpoint, executionName: name, input });
  /** What `synthgen verify` prints for the same run and output, read straight from S3 (not through the role). */
  const local = async (prefix: string): Promise<Report> => {
    const r = await synthgen(["verify", ...RUN_FLAGS, "--output", `s3://${OUT}/${prefix}`, "--endpoint", s3.endpoint]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const { duration_ms: _, ...report } = JSON.parse(r.stdout) as Report;
    return report;
  };
  /** One step of the verify machine asked of generate-files directly (the bundle, under the role), its answer whole. */
  const invoke = (event: unknown) => invokeProgramFunction({ program, component: "generate-files", bundleDir, s3Endpoint: strict.endpoint, event }) as Promise<Report>;
  /** `synthgen emit` of `args` through a loopback collector with these faults, what it kept landed under `dir` as NDJSON objects; emit's report. */
  const emitThrough = async (args: string[], dir: string, fault: (key: string) => CollectorFault = () => undefined): Promise<Report> => {
    const collector = await startEventCollector(fault, 150);
    try {
      const e = await synthgen(["emit", "--to", collector.url, ...args]);
      assert.equal(e.code, 0, e.stderr);
      await collector.flush(dir);
      return JSON.parse(e.stdout) as Report;
    } finally {
      await collector.close();
    }
  };
  /** The report the merge step wrote under the execution's folder. */
  const stored = async (execution: string): Promise<Report> => JSON.parse((await s3.body(LANDING, `landing/_verify/vsm-1/${execution}/report.json`)).toString("utf8")) as Report;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "synthgen-verify-sfn-"));
    s3 = await startTestS3([LANDING, OUT]);
    program = await loadProgram(CONFIG);
    definition = fanOutDefinitionOf(program, "verify");
    strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, "generate-files"));
    ({ dir: bundleDir } = await writeBundle({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" }));

    // The run, and two pipelines' output of it: one faithful (NDJSON as landed, and Parquet), one that loses, repeats, alters and adds rows.
    const landing = join(tmp, "landing");
    const g = await synthgen(["generate", ...RUN_FLAGS, "--out", landing]);
    assert.equal(g.code, 0, g.stderr);
    const files = (await readdir(landing)).filter((f) => f.endsWith(".ndjson")).sort();
    assert.equal(files.length, 6);
    for (const [i, f] of files.entries()) {
      const one = join(tmp, `in-${i}`);
      await mkdir(one, { recursive: true });
      await copyFile(join(landing, f), join(one, f));
      // File 0 lands as it was sent; the others go through the converter.
      if (i === 0) {
        const text = await readFile(join(landing, f));
        await put(`lake/faithful/dt=2026-03-01/part-${i}.ndjson`, text);
        await put(`lake/faulty/dt=2026-03-01/part-${i}.ndjson`, text);
        continue;
      }
      await convert(one, join(tmp, `clean-${i}`), "parquet");
      await put(`lake/faithful/dt=2026-03-01/part-${i}.parquet`, await readFile(join(tmp, `clean-${i}`, "part-0.parquet")));
      const faults = { loseEvery: 17 + i, duplicateEvery: 23, alter: { every: 29, field: "country", to: "Atlantis" }, ...(i === 3 ? { extraRows: 2 } : {}) };
      await convert(one, join(tmp, `faulty-${i}`), "parquet", faults);
      await put(`lake/faulty/dt=2026-03-01/part-${i}.parquet`, await readFile(join(tmp, `faulty-${i}`, "part-0.parquet")));
    }
    await put("lake/faulty/README.txt", "not data");

    // Objects read in pieces: NDJSON with some lines lost and altered, Parquet in row groups of 50 rows, and gzip (which is read whole).
    const first = (await readFile(join(landing, files[0] as string), "utf8")).split("\n");
    const altered = first.map((l, i) => (i % 40 === 7 ? l.replace(/"country":"[^"]*"/, '"country":"Atlantis"') : l)).filter((_, i) => i % 53 !== 11);
    await put("lake/pieces/dt=2026-03-01/part-0.ndjson", altered.join("\n"));
    // DuckDB writes row groups of at least 2,048 rows: this Parquet is written by synthgen's own writer, a row group every 50 records.
    const parquet = new ParquetPages(datasetOf({ dataset: "web-events" }).columns, "snappy", "web-events");
    const groups: Uint8Array[] = [];
    const second = (await readFile(join(landing, files[1] as string), "utf8")).split("\n").filter((l) => l !== "");
    let kept = 0;
    for (const [i, line] of second.entries()) {
      if (i % 31 === 5) continue;
      parquet.add(i % 17 === 3 ? line.replace(/"country":"[^"]*"/, '"country":"Atlantis"') : line, kept++);
      if (kept % 50 === 0) {
        parquet.page();
        groups.push(...parquet.rowGroup());
      }
    }
    parquet.page();
    groups.push(...parquet.rowGroup(), parquet.finish());
    await put("lake/pieces/dt=2026-03-01/part-1.parquet", Buffer.concat(groups));
    await put("lake/pieces/dt=2026-03-01/part-2.ndjson.gz", gzipSync(await readFile(join(landing, files[2] as string))));
  });
  after(async () => {
    await strict?.close();
    await s3?.stop();
    await rm(bundleDir, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });

  it("is valid Amazon States Language by asl-validator, whose Map runs the plan's slices at most fanOutConcurrency at a time", () => {
    const verdict = aslValidator(definition as never);
    assert.equal(verdict.isValid, true, verdict.errorsText("\n"));
    assert.equal(definition.States.Slices.MaxConcurrency, 4);
    assert.equal(definition.States.Slices.ItemProcessor.ProcessorConfig.Mode, "DISTRIBUTED");
    assert.ok(program.outputs.verifyStateMachineArn, "the stack exports the verify machine");
    assert.match(String(program.outputs.startVerifyCommand), /start-execution .*"output":"s3:\/\/pipeline-out\/lake\/"/);
  });

  it("a pipeline that lost, repeated, altered and added rows: PipelineCheckFailed, and report.json equals the single process's report (4 read slices, every run file recomputed in slices)", async () => {
    const result = await execute("verify-faulty", { run: RUN, output: `s3://${OUT}/lake/faulty/` });
    assert.deepEqual([result.status, result.error], ["FAILED", "PipelineCheckFailed"], `${result.error}: ${result.cause}`);
    // A failed execution has no output: what the slices left under the run's folder says what ran.
    const scratch = "landing/_verify/vsm-1/verify-faulty/";
    const kept = await s3.keys(LANDING, scratch);
    const expectSlices = kept.filter((k) => /expect-\d{5}\.bin$/.test(k)).length;
    const readSlices = kept.filter((k) => /read-\d{5}\.bin$/.test(k)).length;
    assert.equal(readSlices, 4, "6 objects in 4 slices (fanOutConcurrency)");
    assert.ok(expectSlices >= 2, `the run's 6 files recomputed in ${expectSlices} slices`);
    assert.deepEqual(result.invocations, { Plan: 1, Slice: expectSlices + readSlices, Merge: 1 });
    const merged = await stored("verify-faulty");
    const single = await local("lake/faulty/");
    assert.equal(single.status, "failed");
    assert.ok(single.missing > 0 && single.duplicated > 0 && single.changed > 0 && single.unexpected === 2, JSON.stringify(single));
    assert.ok(single.changed_fields.country.examples.length > 0, "examples of found values, which the merge reads again");
    assert.deepEqual(merged, single);
    assert.deepEqual(
      strict.requests.filter((r) => r.outcome === "denied"),
      [],
      "the role allowed everything the verify needed",
    );
  });

  it("a faithful pipeline: the execution succeeds with a passed report equal to the single process's", async () => {
    const result = await execute("verify-faithful", { run: RUN, output: `s3://${OUT}/lake/faithful/` });
    assert.equal(result.status, "SUCCEEDED", `${result.error}: ${result.cause}`);
    assert.equal((result.output as { verify: { body: { report_uri: string } } }).verify.body.report_uri, `s3://${LANDING}/landing/_verify/vsm-1/verify-faithful/report.json`);
    const merged = await stored("verify-faithful");
    assert.equal(merged.status, "passed");
    assert.deepEqual(merged, await local("lake/faithful/"));
  });

  it("the request's expect holds the merge to it: a pipeline that kept dirt's duplicates fails expect duplicate=deduplicated, as the CLI's --expect does", async () => {
    const result = await execute("verify-expect", { run: RUN, output: `s3://${OUT}/lake/faithful/`, expect: { duplicate: "deduplicated" }, examples: 1 });
    assert.deepEqual([result.status, result.error], ["FAILED", "PipelineCheckFailed"], `${result.error}: ${result.cause}`);
    const merged = await stored("verify-expect");
    const r = await synthgen(["verify", ...RUN_FLAGS, "--output", `s3://${OUT}/lake/faithful/`, "--endpoint", s3.endpoint, "--expect", "duplicate=deduplicated", "--examples", "1"]);
    assert.equal(r.code, 1, r.stderr);
    const { duration_ms: _, ...single } = JSON.parse(r.stdout) as Report;
    assert.equal(single.dirty.duplicate.holds, false, JSON.stringify(single.dirty));
    assert.deepEqual(merged, single);
  });

  it("an object larger than a read slice is read in pieces by several slices (NDJSON by bytes, Parquet by row groups; gzip whole, with a warning): the merged report, its examples' found values read again by line, equals the single process's; an object written again after the plan is refused", async () => {
    const request = { run: RUN, output: `s3://${OUT}/lake/pieces/`, slice_mb: 0.05, examples: 5 };
    const plan = await invoke({ action: "verify-plan", request, execution_name: "pieces-plan" });
    assert.equal(plan.statusCode, 200, JSON.stringify(plan));
    assert.equal(plan.body.output.objects, 3);
    assert.equal(plan.body.output.split_objects, 2, JSON.stringify(plan.body.output));
    assert.ok(plan.body.output.pieces >= 6 && plan.body.read_slices >= 5, `${plan.body.output.pieces} pieces in ${plan.body.read_slices} read slices`);
    assert.equal(plan.body.warnings.length, 1);
    assert.match(plan.body.warnings[0], /part-2\.ndjson\.gz: .* of ndjson\.gz cannot be split/);
    const result = await execute("verify-pieces", request);
    assert.deepEqual([result.status, result.error], ["FAILED", "PipelineCheckFailed"], `${result.error}: ${result.cause}`);
    const merged = await stored("verify-pieces");
    const r = await synthgen(["verify", ...RUN_FLAGS, "--output", `s3://${OUT}/lake/pieces/`, "--endpoint", s3.endpoint, "--examples", "5"]);
    assert.equal(r.code, 1, r.stderr);
    const { duration_ms: _, ...single } = JSON.parse(r.stdout) as Report;
    // The merge reads each example's found value again by its line: a piece numbered wrong would show another row's country.
    assert.equal(single.changed_fields.country.examples.length, 5);
    assert.deepEqual(new Set(single.changed_fields.country.examples.map((e: { found: unknown }) => e.found)), new Set(["Atlantis"]));
    assert.ok(single.missing > 0, JSON.stringify(single));
    assert.deepEqual(merged, single);

    // An object written again after the plan: its pieces would not meet, so a slice refuses it (400, not retried) rather than read lines twice or not at all.
    const piecePlan = await invoke({ action: "verify-plan", request, execution_name: "pieces-rewritten" });
    const planned = await s3.body(OUT, "lake/pieces/dt=2026-03-01/part-0.ndjson");
    await put("lake/pieces/dt=2026-03-01/part-0.ndjson", `${planned.toString("utf8")}\n{"id":"late"}`);
    const ndjsonSlice = piecePlan.body.slices.find((x: { kind: string; first: number }) => x.kind === "read" && x.first === 0);
    const refused = await invoke({ action: "verify-slice", request: piecePlan.body.request, slice: ndjsonSlice });
    assert.equal(refused.statusCode, 400, JSON.stringify(refused));
    assert.match(JSON.stringify(refused.body), /part-0\.ndjson is \d+ bytes now, \d+ when its pieces were planned: it was written again/);
    await put("lake/pieces/dt=2026-03-01/part-0.ndjson", planned);
  });

  it("plans before reading: how many objects and bytes, the slices, and what the execution costs", async () => {
    const answer = await invoke({ action: "verify-plan", request: { run: RUN, output: `s3://${OUT}/lake/faulty/` }, execution_name: "plan-only" });
    assert.equal(answer.statusCode, 200, JSON.stringify(answer.body));
    const plan = answer.body;
    assert.deepEqual([plan.output.objects, plan.output.skipped, plan.read_slices], [6, 1, 4]);
    const sizes = await Promise.all((await s3.keys(OUT, "lake/faulty/dt=")).map(async (k) => (await s3.body(OUT, k)).length));
    assert.equal(
      plan.output.bytes,
      sizes.reduce((a, b) => a + b, 0),
      "the bytes it will read, from the listing",
    );
    assert.equal(plan.slices.length, plan.expect_slices + plan.read_slices);
    assert.ok(plan.estimate.usd > 0 && plan.estimate.lambda_gb_seconds > 0 && plan.estimate.s3_requests.get >= 6 && plan.estimate.state_transitions > 0, JSON.stringify(plan.estimate));
    assert.match(plan.estimate.assumes, /MiB of output read/);
    // The merge's memory, from the run's records estimated by its first file (the single process counts them all): 30 compared fields,
    // 172 bytes a record merged, and 258 a record of the largest expect digest while it is merged.
    const single = await local("lake/faulty/");
    assert.ok(Math.abs(plan.merge.records - single.expected_records) < 0.02 * single.expected_records, `${plan.merge.records} estimated, ${single.expected_records} counted`);
    const largest = Math.max(...plan.slices.filter((x: { kind: string }) => x.kind === "expect").map((x: { count: number }) => x.count)) / 6;
    assert.equal(plan.merge.memory_mb, Math.ceil(160 + (plan.merge.records * (172 + largest * 258)) / 1048576));
  });

  it("refuses, before reading anything, a run whose merge would not fit the function's memory: naming memoryMb and what else helps", async () => {
    const mark = strict.requests.length;
    const big = { ...RUN, file_count: 2000, target_size_mb: 3.5, run_id: "vsm-big" };
    const answer = await invoke({ action: "verify-plan", request: { run: big, output: `s3://${OUT}/lake/faulty/` }, execution_name: "too-big" });
    assert.equal(answer.statusCode, 400, JSON.stringify(answer.body));
    assert.match(JSON.stringify(answer.body), /the merge step holds about \d+ MB for this run's \d+ records .* more than 409 MB of the function's 512 MB: raise memoryMb/);
    assert.deepEqual(
      strict.requests.slice(mark).filter((r) => r.bucket === OUT),
      [],
      "nothing of the output was read",
    );
  });

  it("an SSE-KMS output bucket: without verifyOutputKmsKeyArn every read is 403 naming kms:Decrypt and the execution fails; with it the report equals the single process's, the key usable only to decrypt through S3 for that bucket", async () => {
    const kms = { keyArn: OUTPUT_KEY, region: "us-east-1", buckets: [OUT] };
    const run = async (p: LoadedProgram, name: string) => {
      const proxy = await startStrictS3(s3.endpoint, rolePolicyOf(p, "generate-files"), "synthgen-role", { kms });
      try {
        const result = await runProgramMachine({
          program: p,
          component: "generate-files",
          definition: fanOutDefinitionOf(p, "verify"),
          bundleDir,
          s3Endpoint: proxy.endpoint,
          executionName: name,
          input: { run: RUN, output: `s3://${OUT}/lake/faithful/` },
        });
        return { result, requests: proxy.requests };
      } finally {
        await proxy.close();
      }
    };
    const without = await run(program, "verify-kms-without");
    assert.equal(without.result.status, "FAILED", "a read S3 refused is never a passed check");
    assert.match(String(without.result.cause), /reading s3:\/\/pipeline-out\/lake\/faithful\/\S+ failed: AccessDenied: .*kms:Decrypt/, "the failure names the object and the key action");
    const refused = without.requests.filter((r) => r.outcome === "kms-denied");
    assert.ok(refused.length > 0 && refused.every((r) => r.bucket === OUT && r.status === 403 && r.kms?.join() === "kms:Decrypt"), JSON.stringify(refused.slice(0, 2)));
    assert.deepEqual(
      without.requests.filter((r) => r.bucket === LANDING && r.outcome !== "forwarded"),
      [],
      "the landing bucket is not encrypted here: only the output's reads are refused",
    );

    const keyed = await loadProgram({ ...CONFIG, verifyOutputKmsKeyArn: OUTPUT_KEY });
    const withKey = await run(keyed, "verify-kms-with");
    assert.equal(withKey.result.status, "SUCCEEDED", `${withKey.result.error}: ${withKey.result.cause}`);
    assert.deepEqual(
      withKey.requests.filter((r) => r.outcome !== "forwarded"),
      [],
    );
    assert.ok(
      withKey.requests.some((r) => r.bucket === OUT && r.kms?.join() === "kms:Decrypt"),
      "the output's objects were read through the key",
    );
    assert.deepEqual(await stored("verify-kms-with"), await local("lake/faithful/"));

    const policy = rolePolicyOf(keyed, "generate-files");
    const s3Via = "s3.us-east-1.amazonaws.com";
    const context = (service: string, arn: string) => ({ "kms:ViaService": service, "kms:EncryptionContext:aws:s3:arn": arn });
    assert.equal(await simulate(policy, "kms:Decrypt", OUTPUT_KEY, context(s3Via, `arn:aws:s3:::${OUT}`)), true, "with S3 Bucket Keys");
    assert.equal(await simulate(policy, "kms:Decrypt", OUTPUT_KEY, context(s3Via, `arn:aws:s3:::${OUT}/lake/faithful/x.parquet`)), true, "without them, an object under the prefix");
    assert.equal(await simulate(policy, "kms:Decrypt", OUTPUT_KEY, context(s3Via, `arn:aws:s3:::${OUT}/elsewhere/x.parquet`)), false, "an object outside the prefix");
    assert.equal(await simulate(policy, "kms:Decrypt", OUTPUT_KEY, context(s3Via, "arn:aws:s3:::another-bucket")), false, "another bucket");
    assert.equal(await simulate(policy, "kms:Decrypt", OUTPUT_KEY, context("sqs.us-east-1.amazonaws.com", `arn:aws:s3:::${OUT}`)), false, "through another service");
    assert.equal(await simulate(policy, "kms:GenerateDataKey", OUTPUT_KEY, context(s3Via, `arn:aws:s3:::${OUT}`)), false, "never to encrypt: verify does not write the output");
    assert.throws(
      () => readStackConfig(configOf({ ...CONFIG, verifyOutputKmsKeyArn: "alias/pipeline" })),
      (e: unknown) => e instanceof ValidationError && e.field === "verifyOutputKmsKeyArn" && /not an alias/.test(e.message),
    );
    assert.throws(
      () => readStackConfig(configOf({ inputBucketName: LANDING, verifyOutputKmsKeyArn: OUTPUT_KEY })),
      (e: unknown) => e instanceof ValidationError && /set verifyOutputUri too/.test(e.message),
    );
  });

  it("one dataset of a stored scenario's run (run.scenario, dataset): the merged report equals synthgen verify --scenario's; a scenario stored again after the plan is refused by the later steps", async () => {
    const shopKey = "landing/_datasets/shop.yaml";
    await s3.client.send(new PutObjectCommand({ Bucket: LANDING, Key: shopKey, Body: await readFile("examples/shop.yaml") }));
    const flags = ["--size-mb", "1", "--date", "2026-03-02", "--run-id", "vsm-shop"];
    const out = join(tmp, "shop");
    const g = await synthgen(["generate", "--scenario", "examples/shop.yaml", ...flags, "--out", out]);
    assert.equal(g.code, 0, g.stderr);
    // The pipeline lands the orders files as they are, less the first file's first 3 lines.
    const files = (await readdir(join(out, "orders"))).filter((f) => f.endsWith(".ndjson")).sort();
    assert.ok(files.length > 1, `${files.length} orders files`);
    for (const [i, f] of files.entries()) {
      const text = await readFile(join(out, "orders", f), "utf8");
      await put(`lake/shop-orders/${f}`, i === 0 ? text.split("\n").slice(3).join("\n") : text);
    }
    const request = { run: { scenario: "shop", target_size_mb: 1, date_prefix: "2026-03-02", run_id: "vsm-shop" }, dataset: "orders", output: `s3://${OUT}/lake/shop-orders/` };
    const result = await execute("verify-shop", request);
    assert.deepEqual([result.status, result.error], ["FAILED", "PipelineCheckFailed"], `${result.error}: ${result.cause}`);
    const merged = JSON.parse((await s3.body(LANDING, "landing/_verify/vsm-shop/verify-shop/report.json")).toString("utf8")) as Report;
    const r = await synthgen(["verify", "--scenario", "examples/shop.yaml", "--dataset", "orders", ...flags, "--output", `s3://${OUT}/lake/shop-orders/`, "--endpoint", s3.endpoint]);
    assert.equal(r.code, 1, r.stderr);
    const { duration_ms: _, ...single } = JSON.parse(r.stdout) as Report;
    assert.equal(single.missing, 3);
    assert.deepEqual(merged, single);

    // The plan pinned the scenario's text; a slice after it was stored again refuses to go on.
    const plan = await invoke({ action: "verify-plan", request, execution_name: "shop-pinned" });
    assert.equal(plan.statusCode, 200, JSON.stringify(plan.body));
    assert.match(plan.body.request.scenario_sha256, /^[0-9a-f]{64}$/);
    await s3.client.send(new PutObjectCommand({ Bucket: LANDING, Key: shopKey, Body: `${await readFile("examples/shop.yaml", "utf8")}\n# edited\n` }));
    const slice = await invoke({ action: "verify-slice", request: plan.body.request, slice: plan.body.slices[0] });
    assert.equal(slice.statusCode, 400);
    assert.match(JSON.stringify(slice.body), /scenario_sha256.*changed since this verify was planned/);
    const noDataset = await invoke({ action: "verify-plan", request: { ...request, dataset: "carts" }, execution_name: "shop-bad" });
    assert.equal(noDataset.statusCode, 400);
    assert.match(JSON.stringify(noDataset.body), /one of users, products, orders, order_lines, tickets/);
  });

  it("an emit run (emit: the report emit printed, or a fan-out run's run_id): lost, redelivered and held events, idempotency keys and delays; the merged report equals synthgen verify --emit-report's, its options (in_order, examples) applied; a report stored again after the plan is refused", async () => {
    // 3 streams of 200 events through a collector that loses, redelivers and holds some, landed as NDJSON objects.
    const dir = join(tmp, "emitted");
    const emitted = await emitThrough(
      ["--streams", "3", "--events-per-stream", "200", "--dataset", "web-events", "--date", "2026-03-01", "--seed", "9", "--run-id", "vsm-emit", "--dirty", "duplicate=0.02"],
      join(dir, "landed"),
      (key) => {
        if (key.endsWith(":dup")) return undefined;
        const i = Number(key.split(":").pop());
        return i % 31 === 3 ? "lose" : i % 37 === 5 ? "land-then-fail" : i % 41 === 7 ? "hold" : undefined;
      },
    );
    const reportFile = join(dir, "emit-report.json");
    await writeFile(reportFile, JSON.stringify(emitted));
    const objects = (await readdir(join(dir, "landed"))).sort();
    assert.ok(objects.length >= 4, `${objects.length} objects`);
    for (const f of objects) await put(`lake/events/${f}`, await readFile(join(dir, "landed", f)));
    const columns = { idempotency_field: "idempotency_key", sent_field: "sent_at", arrival_field: "received_at" };
    const result = await execute("verify-emit", { emit: emitted, output: `s3://${OUT}/lake/events/`, ...columns, in_order: true, examples: 2 });
    assert.deepEqual([result.status, result.error], ["FAILED", "PipelineCheckFailed"], `${result.error}: ${result.cause}`);
    const merged = JSON.parse((await s3.body(LANDING, "landing/_verify/vsm-emit/verify-emit/report.json")).toString("utf8")) as Report;
    const r = await synthgen([
      "verify",
      "--emit-report",
      reportFile,
      "--output",
      `s3://${OUT}/lake/events/`,
      "--endpoint",
      s3.endpoint,
      "--idempotency-field",
      "idempotency_key",
      "--sent-field",
      "sent_at",
      "--arrival-field",
      "received_at",
      "--in-order",
      "--examples",
      "2",
    ]);
    assert.equal(r.code, 1, r.stderr);
    const { duration_ms: _, ...single } = JSON.parse(r.stdout) as Report;
    assert.ok(single.missing > 0 && single.duplicated > 0 && single.events.order.out_of_order > 0 && single.events.idempotency.redelivered > 0, JSON.stringify(single));
    assert.deepEqual(single.failed_by, ["missing", "duplicated", "out of order"]);
    assert.ok(single.events.delay_ms.events > 500);
    assert.deepEqual(merged, single);

    // A fan-out run is named by its run_id (its report lists every stream, too long for an execution's input): report.json is read from the run's folder and pinned by the plan.
    await s3.client.send(new PutObjectCommand({ Bucket: LANDING, Key: "landing/_emit/vsm-emit/report.json", Body: JSON.stringify(emitted) }));
    const byId = await execute("verify-emit-by-id", { emit: "vsm-emit", output: `s3://${OUT}/lake/events/`, ...columns, in_order: true, examples: 2 });
    assert.deepEqual([byId.status, byId.error], ["FAILED", "PipelineCheckFailed"], `${byId.error}: ${byId.cause}`);
    assert.deepEqual(JSON.parse((await s3.body(LANDING, "landing/_verify/vsm-emit/verify-emit-by-id/report.json")).toString("utf8")), single);
    assert.deepEqual(
      strict.requests.filter((q) => q.outcome === "denied"),
      [],
    );
    const plan = await invoke({ action: "verify-plan", request: { emit: "vsm-emit", output: `s3://${OUT}/lake/events/` }, execution_name: "emit-pinned" });
    assert.equal(plan.statusCode, 200, JSON.stringify(plan));
    assert.match(plan.body.request.emit_sha256, /^[0-9a-f]{64}$/);
    await s3.client.send(new PutObjectCommand({ Bucket: LANDING, Key: "landing/_emit/vsm-emit/report.json", Body: JSON.stringify({ ...emitted, seed: 10 }) }));
    const slice = await invoke({ action: "verify-slice", request: plan.body.request, slice: plan.body.slices[0] });
    assert.equal(slice.statusCode, 400);
    assert.match(JSON.stringify(slice.body), /emit vsm-emit .* changed since this verify was planned/);
    const missing = await invoke({ action: "verify-plan", request: { emit: "no-such-run", output: `s3://${OUT}/lake/events/` }, execution_name: "emit-missing" });
    assert.equal(missing.statusCode, 400);
    assert.match(JSON.stringify(missing.body), /emit no-such-run: no emit fan-out run of that run_id has a report here/);
  });

  it("an emit fan-out run of a stored dataset is recomputed from the copy its plan pinned, not from the dataset as stored since", async () => {
    const text = await readFile(join(__dirname, "..", "..", "examples", "orders.yaml"), "utf8");
    const emitted = await emitThrough(
      ["--dataset", join(__dirname, "..", "..", "examples", "orders.yaml"), "--streams", "2", "--events-per-stream", "60", "--date", "2026-03-01", "--run-id", "vsm-orders"],
      join(tmp, "orders-landed"),
    );
    assert.equal(emitted.dataset, "orders");
    for (const f of await readdir(join(tmp, "orders-landed"))) await put(`lake/orders-events/${f}`, await readFile(join(tmp, "orders-landed", f)));
    // The run's pinned copy (as the emit fan-out's plan writes it), and the dataset stored again since with other currencies.
    const landingPut = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: LANDING, Key: key, Body: body }));
    await landingPut("landing/_emit/vsm-orders/definition.json", JSON.stringify({ dataset: "orders", source_key: "landing/_datasets/orders.yaml", sha256: sha256Of(text), text }));
    await landingPut("landing/_datasets/orders.yaml", text.replace("currency: { choice: [USD, EUR, GBP] }", "currency: { choice: [JPY, CHF, AUD] }"));
    const request = { emit: emitted, output: `s3://${OUT}/lake/orders-events/`, idempotency_field: "idempotency_key" };
    const pinned = await execute("verify-orders-pinned", request);
    assert.equal(pinned.status, "SUCCEEDED", `${pinned.error}: ${pinned.cause}`);
    const passed = JSON.parse((await s3.body(LANDING, "landing/_verify/vsm-orders/verify-orders-pinned/report.json")).toString("utf8")) as Report;
    assert.deepEqual([passed.status, passed.found, passed.changed], ["passed", 120, 0]);
    // Without the copy, the dataset as stored now: every event's currency (and the summary made from it) is another.
    await s3.client.send(new DeleteObjectCommand({ Bucket: LANDING, Key: "landing/_emit/vsm-orders/definition.json" }));
    const unpinned = await execute("verify-orders-stored", request);
    assert.deepEqual([unpinned.status, unpinned.error], ["FAILED", "PipelineCheckFailed"]);
    const changed = JSON.parse((await s3.body(LANDING, "landing/_verify/vsm-orders/verify-orders-stored/report.json")).toString("utf8")) as Report;
    assert.deepEqual(Object.keys(changed.changed_fields).sort(), ["currency", "summary"]);
  });

  it("an emit run's request is checked like the CLI's flags, a 400 naming the field: run and emit together, event columns with a generate run, sent_field without arrival_field, a report that is not one, a slice_mb of 0", async () => {
    const base = { output: `s3://${OUT}/lake/events/` };
    const emitted = { run_id: "x", date_prefix: "2026-03-01", hhmmss: "101010", streams: 2, events_per_stream: 5, dataset: "web-events" };
    for (const [input, message] of [
      [{ ...base, run: RUN, emit: emitted }, /give run .* or emit .*, not both/],
      [{ ...base, run: RUN, arrival_field: "received_at" }, /arrival_field applies to an emit run's events/],
      [{ ...base, emit: emitted, sent_field: "sent_at" }, /sent_field needs arrival_field/],
      [{ ...base, emit: { run_id: "x" } }, /emit: not a synthgen emit report/],
      [{ ...base, emit: 7 }, /emit must be the report of the emit run to verify/],
      [{ ...base, emit: "../x" }, /emit must be an emit run's report, or the run_id of an emit fan-out run/],
      [{ ...base, emit: emitted, emit_sha256: "0".repeat(64) }, /emit_sha256 is set by the plan for an emit run named by its run_id/],
      [{ ...base, run: RUN, slice_mb: 0 }, /slice_mb must be a number from 0.01 to 1048576 \(got 0\)/],
    ] as const) {
      const answer = await invoke({ action: "verify-plan", request: input, execution_name: "bad" });
      assert.equal(answer.statusCode, 400, JSON.stringify(answer));
      assert.match(JSON.stringify(answer.body), message);
    }
  });

  it("refuses output outside verifyOutputUri before reading anything (InvalidRequest), and the role could not read it anyway", async () => {
    const mark = strict.requests.length;
    const result = await execute("verify-outside", { run: RUN, output: `s3://${OUT}/elsewhere/` });
    assert.deepEqual([result.status, result.error], ["FAILED", "InvalidRequest"]);
    assert.deepEqual(
      strict.requests.slice(mark).filter((r) => r.bucket === OUT),
      [],
      "nothing of the output bucket was touched",
    );
    const policy = rolePolicyOf(program, "generate-files");
    assert.equal(await simulate(policy, "s3:GetObject", `arn:aws:s3:::${OUT}/lake/faulty/dt=2026-03-01/part-1.parquet`), true);
    assert.equal(await simulate(policy, "s3:GetObject", `arn:aws:s3:::${OUT}/elsewhere/x.parquet`), false);
    assert.equal(await simulate(policy, "s3:PutObject", `arn:aws:s3:::${OUT}/lake/faulty/x.parquet`), false, "verify never writes the pipeline's output");
    assert.equal(await simulate(policy, "s3:ListBucket", `arn:aws:s3:::${OUT}`, { "s3:prefix": "elsewhere/" }), false);
    assert.equal(await simulate(policy, "s3:ListBucket", `arn:aws:s3:::${OUT}`, { "s3:prefix": "lake/faulty/" }), true);
  });
});
