import { join, resolve } from "node:path";
import { startEmbeddedS3, useS3rverCredentials } from "./embedded-s3";
import { runGenerateCommand } from "./generate-command";

/**
 * `npm start`: the main job on the embedded default. Starts s3rver on loopback with its data in
 * `.synthgen/s3`, writes the original generator's default run (10 files × 3.5 MiB) into the
 * bucket `synthgen-local` through the same code the Lambda function runs, and says where it went.
 */
async function main(): Promise<number> {
  const bucket = "synthgen-local";
  const directory = resolve(".synthgen", "s3");
  useS3rverCredentials();
  const s3 = await startEmbeddedS3(directory, [bucket]);
  process.stderr.write(`synthgen: embedded S3 (s3rver) at ${s3.endpoint}, data in ${directory}\n`);
  try {
    const code = await runGenerateCommand({ out: `s3://${bucket}`, endpoint: s3.endpoint });
    process.stderr.write(`synthgen: files are in s3://${bucket} (s3rver keeps each object as ${join(directory, bucket)}/<key>._S3rver_object)\n`);
    return code;
  } finally {
    await s3.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`synthgen: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
