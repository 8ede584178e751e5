import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
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

  it("ends InvalidRequest on a bad request and writes nothing", async () => {
    const before = await s3.keys(BUCKET);
    const result = await execute("exec-bad", { file_count: 0, run_id: "sfn-bad" });
    assert.deepEqual([result.status, result.error], ["FAILED", "InvalidRequest"]);
    assert.deepEqual(result.invocations, { Plan: 1 });
    assert.deepEqual(await s3.keys(BUCKET), before);
  });
});
