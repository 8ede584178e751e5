#!/usr/bin/env node
import { Command } from "commander";
import { DATASET_NAMES } from "../src/datasets/names";
import { LIMITS } from "../src/limits";
import { EMIT_LIMITS } from "../src/events/request";
import { INDEX_DEFAULTS, INDEX_LIMITS } from "../src/metrics/request";
import { runPreviewCommand, runValidateCommand, type PreviewFlags } from "./dataset-commands";
import { runEmitCommand, type EmitFlags } from "./emit-command";
import { runGenerateCommand, type GenerateFlags } from "./generate-command";
import { runIndexCommand, type IndexFlags } from "./index-command";

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
  .option("--dataset <name|file>", `record schema: ${DATASET_NAMES.join(", ")} (default web-events), or a dataset file (.yaml/.json)`)
  .option("--seed <n>", "PRNG seed, a whole number; same seed and run id give the same bytes (default: derived from the run id)")
  .option("--run-id <id>", "run identity; the same run id always writes the same keys (default: random)")
  .option("--key-prefix <prefix>", "prefix under the destination, e.g. loadtest/ (default none)")
  .option("--threads <n>", "worker threads (default: the machine's cores)")
  .option("--out <dest>", "a local folder, or s3://bucket/prefix", "synthgen-out")
  .option("--endpoint <url>", "S3-compatible endpoint for an s3:// --out, e.g. http://127.0.0.1:4568 (path-style)")
  .option("--from <yyyy-mm-dd>", "backfill: first day (with --to); --files is per day")
  .option("--to <yyyy-mm-dd>", "backfill: last day, inclusive (at most 366 days)")
  .option("--partition <layout>", "backfill keys: dt (under dt=YYYY-MM-DD/, default) or flat (the original pattern side by side)")
  .option("--daily-curve", "timestamps follow a daily curve (busier by day than by night) instead of spreading evenly")
  .option("--dirty <kinds>", "inject dirty records, e.g. malformed=0.01,duplicate=0.005,late=0.02 (kinds: malformed, duplicate, wrong_type, missing_required, out_of_range, oversize, late)")
  .option("--shards <n>", "run as N shards, as the fan-out state machine does, and write {prefix}_manifests/{run_id}.json; the same --run-id again resumes")
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

program
  .command("emit")
  .description("Send concurrent streams of events to an HTTP ingestion API or a Kinesis stream; prints the summary as JSON on stdout.")
  .option("--to <target>", "http(s)://HOST/PATH (one POST per event) or kinesis://STREAM")
  .option("--endpoint <url>", "Kinesis-compatible endpoint for a kinesis:// target, e.g. http://127.0.0.1:4567 (kinesalite)")
  .option("--dataset <name>", `record schema: ${DATASET_NAMES.join(", ")} (default tutoring-events)`)
  .option("--streams <n>", `concurrent streams, 1-${EMIT_LIMITS.MAX_STREAMS} (default 50)`)
  .option("--events-per-stream <n>", `events per stream, 1-${EMIT_LIMITS.MAX_EVENTS_PER_STREAM} (default 10)`)
  .option("--rate <events_per_s>", "cap on the whole run's events per second (default: no cap)")
  .option("--weights <pairs>", "event type mix, e.g. session_started=3,session_completed=3,ib_call_logged=1 (default: even)")
  .option("--max-failed-ratio <r>", "share of events that may fail before the run counts as failed, 0-1 (default 0.01)")
  .option("--timeout-ms <ms>", "per-request timeout for HTTP targets (default 5000)")
  .option("--dirty <kinds>", "inject dirty events, e.g. malformed=0.01,oversize=0.001 (kinds as for generate)")
  .option("--seed <n>", "PRNG seed (default: derived from the run id)")
  .option("--run-id <id>", "run identity; sent as part of each event's Idempotency-Key (default: random)")
  .addHelpText(
    "after",
    `
Kinesis uses the usual AWS credentials and region. HTTP retries 408/429/5xx and timeouts with
backoff and full jitter (honouring Retry-After); other 4xx answers are reported, not retried.

Exit codes: 0 done, 1 more than --max-failed-ratio failed, 2 bad input (nothing sent).

Examples:
  synthgen emit --to http://localhost:3000/ingest --streams 50 --events-per-stream 10
  synthgen emit --to kinesis://iops-dashboard-events --rate 500`,
  )
  .action(async (flags: EmitFlags) => {
    process.exitCode = await runEmitCommand(flags);
  });

program
  .command("index")
  .description("Bulk-index merchant metrics into Elasticsearch (20 merchants per hour); prints the summary as JSON on stdout.")
  .option("--node <url>", "the cluster, e.g. https://my-deployment.es.us-east-1.aws.elastic.cloud")
  .option("--index <name>", `index name (default ${INDEX_DEFAULTS.index})`)
  .option("--hours <h>", `hours of history ending now, ${INDEX_LIMITS.MIN_HOURS}-${INDEX_LIMITS.MAX_HOURS} (default 1; 720 = 30 days)`)
  .option("--seed <n>", `merchant catalogue seed; keep it fixed so runs extend the same trends (default ${INDEX_DEFAULTS.seed})`)
  .option("--run-id <id>", "run identity for the summary (default: random)")
  .addHelpText(
    "after",
    `
The API key (encoded, as Elastic Cloud shows it) is read from ELASTICSEARCH_API_KEY; none is sent if unset.
Documents have ids {merchant_id}_{YYYYMMDDHH}: running again updates them instead of adding more.

Exit codes: 0 all indexed, 1 a document was not indexed, 2 bad input (nothing sent).`,
  )
  .action(async (flags: IndexFlags) => {
    process.exitCode = await runIndexCommand(flags);
  });

program
  .command("preview")
  .description("Print sample records of a dataset (built-in or a schema file) as NDJSON, exactly as generate would write them.")
  .option("--dataset <name|file>", "built-in name or a .yaml/.json schema file (default web-events)")
  .option("-n <count>", "how many records (default 5)")
  .option("--seed <n>", "PRNG seed (default 1)")
  .option("--date <yyyy-mm-dd>", "day of the timestamps (default today)")
  .option("--daily-curve", "timestamps along a daily curve")
  .option("--dirty <kinds>", "inject dirt, as for generate")
  .action(async (flags: PreviewFlags) => {
    process.exitCode = await runPreviewCommand(flags);
  });

program
  .command("validate")
  .description("Check a dataset schema file; names the bad field and suggests the closest valid name.")
  .argument("<file>", "a .yaml or .json dataset schema")
  .action(async (file: string) => {
    process.exitCode = await runValidateCommand(file);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`synthgen: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
