import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { bundleFiles } from "../infra/bundle";
import { S3RVER_CREDENTIALS } from "../cli/embedded-s3";
import { lambdaEnvironment, lambdaNode, LAMBDA_NODE_MAJOR, writeBundle } from "./support/lambda-runtime";
import { loadProgram, rolePolicyOf } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";

const run = promisify(execFile);
const ENTRIES = { handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" };
const BUCKET = "bundle-bucket";

describe("the Lambda bundle", () => {
  let s3: TestS3;
  let strict: StrictS3;
  let dir: string;
  let files: Map<string, string>;

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    const program = await loadProgram({ inputBucketName: BUCKET, keyPrefix: "bundled/" });
    strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, "generate-files"));
    ({ dir, files } = await writeBundle(ENTRIES));
  });
  after(async () => {
    await strict.close();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("holds the handler, the worker and piscina's thread bootstrap beside the handler", () => {
    assert.deepEqual([...files.keys()].sort(), ["functions/generate-files.js", "functions/worker.js", "workers/generate-file.js"]);
  });

  it("is byte-identical when built twice, so an unchanged program deploys no diff", () => {
    assert.deepEqual(bundleFiles(ENTRIES), files);
  });

  /** Invokes the bundled handler once in a fresh process on Lambda's Node, as a cold container would. */
  async function invoke(event: Record<string, unknown>): Promise<{ statusCode: number; body: Record<string, any> }> {
    const script = `
      const { handler } = require(${JSON.stringify(join(dir, "functions/generate-files.js"))});
      const context = { awsRequestId: "bundle-req", getRemainingTimeInMillis: () => 300000 };
      handler(${JSON.stringify(event)}, context).then(
        (res) => { process.stdout.write("RESULT " + JSON.stringify({ node: process.version, ...res }) + "\\n"); process.exit(0); },
        (err) => { process.stderr.write(String(err && err.stack) + "\\n"); process.exit(1); });`;
    const { stdout } = await run(lambdaNode(), ["--max-old-space-size=384", "-e", script], {
      cwd: dir,
      env: lambdaEnvironment(512, {
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        BUCKET_NAME: BUCKET,
        KEY_PREFIX: "bundled/",
        S3_ENDPOINT: strict.endpoint,
      }),
    });
    const result = JSON.parse(
      stdout
        .split("\n")
        .find((l) => l.startsWith("RESULT "))!
        .slice(7),
    ) as { node: string; statusCode: number; body: Record<string, any> };
    assert.match(result.node, new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`), "runs on Lambda's Node major");
    return result;
  }

  it(`runs on Node.js ${LAMBDA_NODE_MAJOR} in a Lambda-like process (512 MB, capped heap) and writes the files under its role's permissions`, async () => {
    const result = await invoke({ file_count: 4, target_size_mb: 1, run_id: "bundle-run", date_prefix: "2025-12-23" });
    assert.equal(result.statusCode, 200);
    assert.equal(result.body.successful, 4);
    const keys = await s3.keys(BUCKET, "bundled/");
    assert.deepEqual(keys, (result.body.files as { key: string }[]).map((f) => f.key).sort());
    for (const f of result.body.files as { key: string; sha256: string }[]) {
      const head = await s3.head(BUCKET, f.key);
      assert.equal(head.contentLength, 1024 * 1024);
      assert.equal(head.metadata.sha256, f.sha256);
    }
    assert.deepEqual(
      strict.requests.filter((r) => r.outcome !== "forwarded"),
      [],
      "no request was denied",
    );
  });

  it("writes Parquet and gzip NDJSON from the bundle (its Parquet writer is an ES module, bundled), each file's bytes as its metadata says", async () => {
    for (const format of ["parquet", "ndjson.gz"]) {
      const result = await invoke({ file_count: 2, target_size_mb: 0.5, run_id: `bundle-${format}`, date_prefix: "2025-12-23", format });
      assert.equal(result.statusCode, 200, JSON.stringify(result.body));
      assert.equal(result.body.format, format);
      for (const f of result.body.files as { key: string; sha256: string; size_bytes: number }[]) {
        assert.ok(f.key.endsWith(`.${format}`), f.key);
        const body = await s3.body(BUCKET, f.key);
        assert.equal(body.length, f.size_bytes);
        assert.equal(createHash("sha256").update(body).digest("hex"), f.sha256);
        assert.equal(body.subarray(0, 4).toString("latin1"), format === "parquet" ? "PAR1" : "\x1f\x8b\x08\x00");
      }
    }
  });

  it(`writes zstd Parquet on Node.js ${LAMBDA_NODE_MAJOR} (its zlib's zstd), which DuckDB reads back as ZSTD column chunks holding the metadata's records`, async () => {
    const result = await invoke({ file_count: 1, target_size_mb: 0.5, run_id: "bundle-zstd", date_prefix: "2025-12-23", format: "parquet", parquet_codec: "zstd" });
    assert.equal(result.statusCode, 200, JSON.stringify(result.body));
    const [file] = result.body.files as { key: string; record_count: number }[];
    const path = join(dir, "zstd.parquet");
    await writeFile(path, await s3.body(BUCKET, file!.key));
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    const rows = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    assert.deepEqual(await rows(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`), [{ compression: "ZSTD" }]);
    const [count] = await rows(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM read_parquet('${path}')`);
    assert.equal(Number(count?.n), file!.record_count);
    assert.equal(Number(count?.ids), file!.record_count);
    duck.closeSync();
  });

  it("answers 400 naming dataset and listing the stored ones for an unknown stored dataset, on S3's 403 semantics", async () => {
    await s3.client.send(new (await import("@aws-sdk/client-s3")).PutObjectCommand({ Bucket: BUCKET, Key: "bundled/_datasets/sensors.yaml", Body: "name: sensors\nfields:\n  v: { number: {} }\n" }));
    const result = await invoke({ dataset: "sensorz", run_id: "unknown-dataset" });
    assert.equal(result.statusCode, 400);
    assert.equal(result.body.field, "dataset");
    assert.match(result.body.error as string, /or a stored dataset \(sensors\) \(got "sensorz": not found\)/);
  });
});
