import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { bundleFiles } from "../infra/bundle";
import { S3RVER_CREDENTIALS } from "../cli/embedded-s3";
import { startTestS3, type TestS3 } from "./support/s3";

const run = promisify(execFile);
const ENTRIES = { handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" };

describe("the Lambda bundle", () => {
  let s3: TestS3;
  let dir: string;
  let files: Map<string, string>;

  before(async () => {
    s3 = await startTestS3(["bundle-bucket"]);
    files = bundleFiles(ENTRIES);
    // Outside the project: nothing can be resolved from its node_modules, as on Lambda.
    dir = await mkdtemp(join(tmpdir(), "synthgen-bundle-"));
    for (const [path, text] of files) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
  });
  after(async () => {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("holds the handler, the worker and piscina's thread bootstrap beside the handler", () => {
    assert.deepEqual([...files.keys()].sort(), ["functions/generate-files.js", "functions/worker.js", "workers/generate-file.js"]);
  });

  it("is byte-identical when built twice, so an unchanged program deploys no diff", () => {
    assert.deepEqual(bundleFiles(ENTRIES), files);
  });

  it("runs its handler in a Lambda-like process (512 MB, capped heap) and writes the files to S3", async () => {
    const invoke = `
      const { handler } = require(${JSON.stringify(join(dir, "functions/generate-files.js"))});
      const event = { file_count: 4, target_size_mb: 1, run_id: "bundle-run", date_prefix: "2025-12-23" };
      const context = { awsRequestId: "bundle-req", getRemainingTimeInMillis: () => 300000 };
      handler(event, context).then(
        (res) => { process.stdout.write("RESULT " + JSON.stringify(res) + "\\n"); process.exit(0); },
        (err) => { process.stderr.write(String(err && err.stack) + "\\n"); process.exit(1); });`;
    const { stdout } = await run(process.execPath, ["--max-old-space-size=384", "-e", invoke], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
        AWS_REGION: "us-east-1",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        BUCKET_NAME: "bundle-bucket",
        KEY_PREFIX: "bundled/",
        S3_ENDPOINT: s3.endpoint,
      },
    });
    const result = JSON.parse(stdout.split("\n").find((l) => l.startsWith("RESULT "))!.slice(7)) as {
      statusCode: number;
      body: { successful: number; files: { key: string; size_bytes: number; sha256: string }[] };
    };
    assert.equal(result.statusCode, 200);
    assert.equal(result.body.successful, 4);
    const keys = await s3.keys("bundle-bucket", "bundled/");
    assert.deepEqual(keys, result.body.files.map((f) => f.key).sort());
    for (const f of result.body.files) {
      const head = await s3.head("bundle-bucket", f.key);
      assert.equal(head.contentLength, 1024 * 1024);
      assert.equal(head.metadata.sha256, f.sha256);
    }
  });
});
