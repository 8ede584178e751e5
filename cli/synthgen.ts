#!/usr/bin/env node
import { Command } from "commander";
import { DATASET_NAMES } from "../src/datasets/names";
import { LIMITS } from "../src/limits";
import { runGenerateCommand, type GenerateFlags } from "./generate-command";

const program = new Command()
  .name("synthgen")
  .description("Synthetic test data at load-test scale: the same generator the Lambda functions run.")
  .showHelpAfterError();

program
  .command("generate")
  .description("Write NDJSON files to a local folder or an S3 bucket; prints the run summary as JSON on stdout.")
  .option("--files <n>", `number of files, ${LIMITS.MIN_FILE_COUNT}-${LIMITS.MAX_FILE_COUNT} (default 10)`)
  .option("--size-mb <mib>", `target size of each file in MiB, ${LIMITS.MIN_TARGET_SIZE_MB}-${LIMITS.MAX_TARGET_SIZE_MB} (default 3.5)`)
  .option("--date <yyyy-mm-dd>", "day of the data and of the keys (default: today, UTC)")
  .option("--dataset <name>", `record schema: ${DATASET_NAMES.join(", ")} (default web-events)`)
  .option("--seed <n>", "PRNG seed, a whole number; same seed and run id give the same bytes (default: derived from the run id)")
  .option("--run-id <id>", "run identity; the same run id always writes the same keys (default: random)")
  .option("--key-prefix <prefix>", "prefix under the destination, e.g. loadtest/ (default none)")
  .option("--threads <n>", "worker threads (default: the machine's cores)")
  .option("--out <dest>", "a local folder, or s3://bucket/prefix", "synthgen-out")
  .option("--endpoint <url>", "S3-compatible endpoint for an s3:// --out, e.g. http://127.0.0.1:4568 (path-style)")
  .addHelpText(
    "after",
    `
Keys follow the original generator: {date}-test{seq:04d}-{HHMMSS}.ndjson, HHMMSS derived from the run id.
S3 uses the usual AWS credentials (environment, profile, SSO). For the embedded s3rver, set
AWS_ACCESS_KEY_ID=S3RVER and AWS_SECRET_ACCESS_KEY=S3RVER.

Exit codes: 0 all files written, 1 a file failed (see "errors" in the summary), 2 bad input (nothing written).

Examples:
  synthgen generate --files 100 --size-mb 3.5 --out ./data
  synthgen generate --files 10 --out s3://my-landing-bucket/loadtest --seed 42 --run-id lt-001`,
  )
  .action(async (flags: GenerateFlags) => {
    process.exitCode = await runGenerateCommand(flags);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`synthgen: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
