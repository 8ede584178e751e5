import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { S3RVER_CREDENTIALS, startEmbeddedS3 } from "../cli/embedded-s3";
import { pinCpus, pinned } from "./child";

/**
 * Where the time of a 1-thread S3 whole-file run goes before its first file leaves and after:
 * `node dist/bench/s3-timeline.js [files]`. The run is the ratios' own (bench/generate-run.js's
 * request, 30 × 3.5 MiB to the embedded S3, pinned as there), in a child process whose S3 client
 * and renderer are wrapped with timestamps. Prints when the SDK was loaded, when the first
 * PutObject left, and the pace of the files after it.
 */
async function main(): Promise<void> {
  if (process.argv[2] === "--child") return child(process.argv[3] as string, Number(process.argv[4]));
  const files = Number(process.argv[2] ?? 30);
  const pin = pinCpus();
  const dir = await mkdtemp(join(tmpdir(), "synthgen-s3-timeline-"));
  const s3 = await startEmbeddedS3(dir, ["bench-bucket"]);
  try {
    console.log(`S3 timeline of ${files} × 3.5 MiB, 1 thread; ${pin.note}\n`);
    for (let round = 0; round < 3; round++) {
      const [program, args] = pinned(process.execPath, [__filename, "--child", s3.endpoint, String(files)]);
      const { stdout } = await promisify(execFile)(program, args, {
        env: { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: "us-east-1" },
      });
      console.log(stdout.trim());
    }
  } finally {
    await s3.close();
    pin.release();
    await rm(dir, { recursive: true, force: true });
  }
}

async function child(endpoint: string, files: number): Promise<void> {
  const t0 = performance.now();
  const at = () => performance.now() - t0;
  const sdkStarted = at();
  const { S3Client } = require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
  const sdkMs = at() - sdkStarted;
  const sends: number[] = [];
  const send = S3Client.prototype.send;
  S3Client.prototype.send = function (this: InstanceType<typeof S3Client>, ...args: Parameters<typeof send>) {
    sends.push(at());
    return send.apply(this, args);
  } as typeof send;
  const { generate } = require("../src/files/generate") as typeof import("../src/files/generate");
  const { createFilePool } = require("../src/files/pool") as typeof import("../src/files/pool");
  const pool = createFilePool(1);
  const started = at();
  const { body } = await generate(
    { file_count: files, target_size_mb: 3.5, run_id: "timeline", seed: 1, date_prefix: "2025-12-23" },
    { defaults: { fileCount: 10, targetSizeMb: 3.5 }, configuredPrefix: `t-${process.pid}/`, sink: { kind: "s3", bucket: "bench-bucket", endpoint }, pool, context: { now: new Date() } },
  );
  const ended = at();
  await pool.close();
  const first = (sends[0] ?? ended) - started;
  const last = (sends[sends.length - 1] ?? ended) - started;
  const pace = sends.length > 1 ? (last - first) / (sends.length - 1) : 0;
  console.log(
    `run ${(ended - started).toFixed(0)} ms (generate's own clock ${body.duration_ms} ms), the S3 SDK loaded in ${sdkMs.toFixed(0)} ms before it; ` +
      `first PutObject at ${first.toFixed(0)} ms, then one every ${pace.toFixed(1)} ms (${((3.5 * 1000) / pace).toFixed(0)} MiB/s), the last at ${last.toFixed(0)} ms`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
