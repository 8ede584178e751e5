#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { DATASET_NAMES } from "../src/datasets/names";
import { LIMITS } from "../src/core/limits";
import { EMIT_LIMITS } from "../src/events/limits";
import { INDEX_DEFAULTS, INDEX_LIMITS } from "../src/metrics/limits";
import type { PreviewFlags } from "./dataset-commands";
import type { EmitFlags } from "./emit-flags";
import type { GenerateFlags } from "./generate-options";
import type { IndexFlags } from "./index-command";
import type { InferFlags } from "./infer-command";
import type { LocalFlags } from "./local-command";
import { EXIT } from "./common";

// Each command's module (and what it needs: the S3 SDK and worker pool, the Kinesis client, the
// Elasticsearch client, faker) is loaded only when that command runs: `--help` loads none of them.
const LOCAL_DEFAULTS = { s3Port: 4568, kinesisPort: 4567, bucket: "synthgen-local", stream: "synthgen-events", dir: ".synthgen" } as const;

// `synthgen … | head` closes the pipe early: stop quietly, as other command-line tools do.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
  process.exit(0);
});

const VERSION = (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version;

const program = new Command()
  .name("synthgen")
  .description("Synthetic test data at load-test scale: the same generator the Lambda functions run.")
  .version(VERSION, "-V, --version", "print the version")
  // Usage errors (unknown command or flag, missing argument) exit 2, as bad input does; commander's own exit is 1.
  .exitOverride()
  .addHelpText("after", `\nExit codes: 0 done, 1 a failure (see the summary), 2 bad input or usage (nothing done).`);

program
  .command("generate")
  .description("Write files (NDJSON by default; gzip NDJSON, CSV, Parquet with --format) to a local folder or an S3 bucket; prints the run summary as JSON on stdout.")
  .option("--files <n>", `number of files, ${LIMITS.MIN_FILE_COUNT}-${LIMITS.MAX_FILE_COUNT} (default 10)`)
  .option("--size-mb <mib>", `target size of each file in MiB, ${LIMITS.MIN_TARGET_SIZE_MB}-${LIMITS.MAX_TARGET_SIZE_MB} (default 3.5)`)
  .option("--date <yyyy-mm-dd>", "day of the data and of the keys (default: today, UTC)")
  .option("--dataset <name|file>", `record schema: ${DATASET_NAMES.join(", ")} (default web-events), or a dataset file (.yaml/.json)`)
  .option("--scenario <file>", "a scenario (.yaml/.json): related datasets, each written under {prefix}{dataset}/ (see docs/scenarios.md)")
  .option("--seed <n>", "PRNG seed, a whole number; same seed and run id give the same bytes (default: derived from the run id)")
  .option("--run-id <id>", "run identity; the same run id always writes the same keys (default: random)")
  .option("--key-prefix <prefix>", "prefix under the destination, e.g. loadtest/ (default none)")
  .option("--threads <n>", "threads (default: one per 64 MiB planned, at most the machine's cores; 1 runs without a worker)")
  .option("--out <dest>", "a local folder, s3://bucket/prefix, or a database: postgres://USER@HOST/DB, mysql://USER@HOST/DB, pglite://FOLDER (docs/databases.md)", "synthgen-out")
  .option("--create-tables", "with a database --out: create the tables that are missing, with the scenario's primary and foreign keys")
  .option("--endpoint <url>", "S3-compatible endpoint for an s3:// --out, e.g. http://127.0.0.1:4568 (path-style)")
  .option("--from <yyyy-mm-dd>", "backfill: first day (with --to); --files is per day; with --scenario one world over the days, each entity under its own day")
  .option("--to <yyyy-mm-dd>", "backfill: last day, inclusive (at most 366 days)")
  .option("--partition <layout>", "backfill keys: dt (under dt=YYYY-MM-DD/, default) or flat (the original pattern side by side)")
  .option("--daily-curve", "timestamps follow a daily curve (busier by day than by night) instead of spreading evenly")
  .option("--format <format>", "ndjson (default), ndjson.gz, csv, csv.gz or parquet; --size-mb is the stored size")
  .option("--parquet-codec <codec>", "with --format parquet: snappy (default), gzip, zstd (Node.js 22.15+) or uncompressed")
  .option("--dirty <kinds>", "inject dirty records, e.g. malformed=0.01,duplicate=0.005,late=0.02 (kinds: malformed, duplicate, wrong_type, missing_required, out_of_range, oversize, late)")
  .option("--shards <n>", "run as N shards, as the fan-out state machine does, and write {prefix}_manifests/{run_id}.json; the same --run-id again resumes")
  .option("--ignore-free-space", "write to a local folder even when the run is larger than its free space")
  .addHelpText(
    "after",
    `
Keys follow the original generator: {date}-test{seq:04d}-{HHMMSS}.ndjson, HHMMSS derived from the run id.
S3 uses the usual AWS credentials (environment, profile, SSO). For the embedded s3rver, set
AWS_ACCESS_KEY_ID=S3RVER and AWS_SECRET_ACCESS_KEY=S3RVER.

Before writing, it prints the plan (files, total size, where) on stderr; a local --out that cannot be
written to, or that lacks the free space for the run, is refused (exit 2, nothing written).
Ctrl-C (or SIGTERM) stops the run: files in progress are abandoned and cleaned up, the summary so
far is printed (status "interrupted"), and the exit code is 130 (143).

Exit codes: 0 all files written, 1 a file failed (see "errors" in the summary), 2 bad input (nothing
written), 130/143 interrupted.

Examples:
  synthgen generate --files 100 --size-mb 3.5 --out ./data
  synthgen generate --files 10 --out s3://my-landing-bucket/loadtest --seed 42 --run-id lt-001
  synthgen generate --scenario examples/shop.yaml --out pglite://./shop-db --create-tables`,
  )
  .action(async (flags: GenerateFlags) => {
    const { runGenerateCommand } = require("./generate-command") as typeof import("./generate-command");
    process.exitCode = await runGenerateCommand(flags);
  });

program
  .command("emit")
  .description("Send concurrent streams of events to an HTTP ingestion API, Kinesis, Firehose, SQS or EventBridge; prints the summary as JSON on stdout.")
  .option("--to <target>", "http(s)://HOST/PATH (one POST per event), kinesis://STREAM, firehose://STREAM, sqs:QUEUE_URL (FIFO when it ends .fifo) or eventbridge://BUS")
  .option("--endpoint <url>", "a compatible endpoint for an AWS target, e.g. http://127.0.0.1:4567 (kinesalite)")
  .option("--dataset <name|file>", `record schema: ${DATASET_NAMES.join(", ")} (default tutoring-events), or a dataset file (.yaml/.json); with --scenario, one of its datasets`)
  .option("--scenario <file>", "send one dataset of a scenario (with --dataset): its entities, split across the streams, the same as generate --scenario writes")
  .option("--date <yyyy-mm-dd>", "day of the run identity (default today); a scenario's timestamps fall on it")
  .option("--streams <n>", `concurrent streams, 1-${EMIT_LIMITS.MAX_STREAMS} (default 50)`)
  .option("--events-per-stream <n>", `events per stream, 1-${EMIT_LIMITS.MAX_EVENTS_PER_STREAM} (default 10)`)
  .option("--rate <events_per_s>", "cap on the whole run's events per second (default: no cap)")
  .option(
    "--shape <shape>",
    "a load shape instead of --events-per-stream and --rate (or @FILE holding one): constant:500/2m, ramp:100..5000/10m, steps:100/30s,500/1m, spike:200,2000@60s+10s/5m, profile:R0,…,R23/6h (docs/events-and-metrics.md)",
  )
  .option("--duration <d>", "with --rate instead of --events-per-stream: send that rate for this long, e.g. 10m")
  .option("--arrivals <kind>", "with --shape: paced (default, evenly spaced) or poisson")
  .option("--skew <skew>", "events across streams: uniform (default) or zipf:S (stream 0 the hottest: a hot partition or tenant)")
  .option("--weights <pairs>", "event type mix, e.g. session_started=3,session_completed=3,ib_call_logged=1 (default: even)")
  .option("--max-failed-ratio <r>", "share of events that may fail before the run counts as failed, 0-1 (default 0.01)")
  .option("--timeout-ms <ms>", "per-request timeout for HTTP targets (default 5000)")
  .option("--dirty <kinds>", "inject dirty events, e.g. malformed=0.01,oversize=0.001 (kinds as for generate)")
  .option("--seed <n>", "PRNG seed (default: derived from the run id)")
  .option("--run-id <id>", "run identity; sent as part of each event's Idempotency-Key (default: random)")
  .option("--plan", "print what the emit state machine would run for this request (emitters, waves, Kinesis shards, cost) and send nothing")
  .option("--memory-mb <mb>", "with --plan: emit-events' memory (default 512, the stack's emitMemoryMb)")
  .option("--timeout-s <s>", "with --plan: emit-events' timeout, 1-900 (default 300)")
  .option("--max-emitters <n>", "with --plan: emitters that may run at once (default 50, the stack's emitFanOutConcurrency)")
  .option("--kinesis-shards <n>", "with --plan and a kinesis:// target: the stream's shards, evenly split (default: the fewest that carry the peak)")
  .option("--target-quota <pairs>", "with --plan: your account's quota for the target, e.g. records_per_s=500000,mib_per_s=5,calls_per_s=2000 (default: the documented one)")
  .option("--architecture <arch>", "with --plan: arm64 (default) or x86_64, for the cost")
  .addHelpText(
    "after",
    `
AWS targets use the usual AWS credentials and region. HTTP retries 408/429/5xx and timeouts with
backoff and full jitter (honouring Retry-After); other 4xx answers are reported, not retried.

Exit codes: 0 done, 1 more than --max-failed-ratio failed, 2 bad input (nothing sent).

Examples:
  synthgen emit --to http://localhost:3000/ingest --streams 50 --events-per-stream 10
  synthgen emit --to kinesis://iops-dashboard-events --rate 500
  synthgen emit --plan --to kinesis://loadtest --shape constant:100000/30m --streams 1000 --memory-mb 1769 --timeout-s 900 --max-emitters 100`,
  )
  .action(async (flags: EmitFlags) => {
    const { runEmitCommand } = require("./emit-command") as typeof import("./emit-command");
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
    const { runIndexCommand } = require("./index-command") as typeof import("./index-command");
    process.exitCode = await runIndexCommand(flags);
  });

program
  .command("verify")
  .description("Check a pipeline's output against the run that fed it: every record found once, with its values; prints the report as JSON on stdout.")
  .requiredOption(
    "--output <dest>",
    "the pipeline's output: a local folder, s3://bucket/prefix (.ndjson, .jsonl, .json, .csv, .parquet, optionally .gz), or a table: postgres://USER@HOST/DB, mysql://USER@HOST/DB, pglite://FOLDER, or an Elasticsearch index: https://HOST:9200/INDEX",
  )
  .option("--table <name>", "with a database --output: the table (default: the dataset's name)")
  .option("--endpoint <url>", "S3-compatible endpoint for s3:// locations (path-style)")
  .option("--run-id <id>", "the run to check: the run id generate printed")
  .option("--manifest <file|s3-uri>", "or the run's manifest (generate --shards, the fan-out): its identity and request")
  .option("--dataset <name|file>", "as given to generate (with --scenario: which of its datasets)")
  .option("--scenario <file>", "the scenario generate --scenario wrote (with --dataset)")
  .option("--files <n>", "as given to generate")
  .option("--size-mb <mib>", "as given to generate")
  .option("--date <yyyy-mm-dd>", "as given to generate")
  .option("--seed <n>", "as given to generate")
  .option("--from <yyyy-mm-dd>", "as given to generate")
  .option("--to <yyyy-mm-dd>", "as given to generate")
  .option("--partition <layout>", "as given to generate")
  .option("--daily-curve", "as given to generate")
  .option("--format <format>", "as given to generate (the run's format decides how many records each file held)")
  .option("--parquet-codec <codec>", "as given to generate")
  .option("--dirty <kinds>", "as given to generate")
  .option("--key <fields>", "fields that identify a record, comma-separated (default: the dataset's id, or a schema's first sequence field)")
  .option("--map <pairs>", "renamed columns, output=generated, e.g. event_id=id,ts=timestamp")
  .option("--drop <fields>", "generated fields the pipeline drops: not compared")
  .option("--ignore <columns>", "output columns the pipeline adds: not listed as unknown")
  .option("--expect <pairs>", "what the pipeline should do with dirty records, e.g. malformed=dropped,duplicate=deduplicated,late=kept")
  .option("--examples <n>", "examples per problem in the report (default 3)")
  .option("--junit <file>", "also write the checks as JUnit XML")
  .option(
    "--threads <n>",
    "threads recomputing the run's files and reading the output (default: one per 64 MiB a files run planned, else the machine's cores; at most the cores); the report is the same for any count",
  )
  .option("--precision <unit>", "compare timestamps to the us (default), or to the ms or s a pipeline keeps: ms, s (it truncates), ms-rounded, s-rounded")
  .option("--index-report <file>", "an index run instead: the report synthgen index printed; --output is then the index, https://HOST:9200/INDEX (API key from ELASTICSEARCH_API_KEY)")
  .option("--require <columns>", "columns the pipeline adds that every row must hold a value in (a load time, a batch id): rows without one fail the check")
  .option("--emit-report <file>", "an emit run instead: the report synthgen emit printed (its identity, streams and events)")
  .option("--streams <n>", "or an emit run by its flags, as given to emit (with --events-per-stream, --date, --run-id)")
  .option("--events-per-stream <n>", "as given to emit")
  .option("--weights <pairs>", "as given to emit")
  .option("--skew <skew>", "as given to emit")
  .option("--idempotency-field <column>", "an emit run: the column holding each event's Idempotency-Key as received (redeliveries, wrong keys)")
  .option("--sent-field <column>", "an emit run: the column holding when each event was sent (e.g. the Synthgen-Sent-At header kept)")
  .option("--arrival-field <column>", "an emit run: the column holding when each event landed (orders the landing; with --sent-field, the delay p50/p95/p99/max)")
  .option("--in-order", "an emit run: fail when a stream's events landed out of the order they were sent")
  .addHelpText(
    "after",
    `
Nothing of the run is stored or read back: its records are recomputed from its identity. Output rows
are matched to them by key; the report counts missing, duplicated, changed (per field, with
examples), unexpected and unreadable rows, per day's partition and per generated file, and what the
pipeline did with each kind of dirty record (dropped, kept, repaired, deduplicated, changed).

Exit codes: 0 every check holds, 1 the pipeline lost, added or changed data (or an --expect does not
hold), 2 bad input.

Examples:
  synthgen generate --files 4 --size-mb 0.5 --run-id lt-1 --out ./landing
  synthgen verify --run-id lt-1 --files 4 --size-mb 0.5 --output ./pipeline-out
  synthgen emit --to http://localhost:3000/ingest --streams 4 --events-per-stream 100 > emit.json
  synthgen verify --emit-report emit.json --output ./landed --idempotency-field idempotency_key`,
  )
  .action(async (flags: import("./verify-flags").VerifyFlags) => {
    const { runVerifyCommand } = require("./verify-command") as typeof import("./verify-command");
    process.exitCode = await runVerifyCommand(flags);
  });

program
  .command("preview")
  .description("Print sample records of a dataset (built-in or a schema file) as NDJSON, exactly as generate would write them.")
  .option("--dataset <name|file>", "built-in name or a .yaml/.json schema file (default web-events); with --scenario, one of its datasets")
  .option("--scenario <file>", "a scenario file: its first entities, each with a few of its children (or with --dataset, that dataset's records)")
  .option("-n <count>", "how many records (default 5)")
  .option("--seed <n>", "PRNG seed (default 1)")
  .option("--date <yyyy-mm-dd>", "day of the timestamps (default today)")
  .option("--daily-curve", "timestamps along a daily curve")
  .option("--dirty <kinds>", "inject dirt, as for generate")
  .addHelpText("after", "\nExit codes: 0 records printed, 2 bad input (an unknown dataset, a schema error, a bad flag).")
  .action(async (flags: PreviewFlags) => {
    const { runPreviewCommand } = require("./dataset-commands") as typeof import("./dataset-commands");
    process.exitCode = await runPreviewCommand(flags);
  });

program
  .command("validate")
  .description("Check a dataset schema or scenario file; names the bad field and suggests the closest valid name.")
  .argument("<file>", "a .yaml or .json dataset schema or scenario")
  .addHelpText("after", "\nExit codes: 0 valid, 2 invalid (the path of the bad field and what is allowed), or the file cannot be read.")
  .action(async (file: string) => {
    const { runValidateCommand } = require("./dataset-commands") as typeof import("./dataset-commands");
    process.exitCode = await runValidateCommand(file);
  });

program
  .command("infer")
  .description(
    "Write a dataset file from a sample (NDJSON, CSV, Parquet) or a schema (JSON Schema, Avro), or a scenario file from a PostgreSQL or MySQL database or PostgreSQL DDL (.sql), that generate can run (docs/infer.md).",
  )
  .argument("<source>", "a sample (.ndjson, .jsonl, .json, .csv, .parquet), a schema (.json, .avsc, .sql), or postgres://USER@HOST/DB, mysql://USER@HOST/DB, pglite://FOLDER")
  .option("--name <name>", "the dataset's or scenario's name (default: from the file or database name)")
  .option("--out <file>", "write the file here (default: stdout)")
  .option("--force", "replace --out when it exists")
  .option("--records <n>", "records of the sample to read, 1-1000000 (default 100000)")
  .addHelpText(
    "after",
    "\nA database is read by aggregates only (counts, ranges, moments, the frequencies of columns with few values), never its rows.\nExit codes: 0 written, 2 bad input or a source infer cannot read (nothing written).",
  )
  .action(async (source: string, flags: InferFlags) => {
    const { runInferCommand } = require("./infer-command") as typeof import("./infer-command");
    process.exitCode = await runInferCommand(source, flags);
  });

program
  .command("local")
  .description("Run the embedded servers in the foreground until Ctrl-C: S3 (s3rver, with the bucket) and Kinesis (kinesalite, with the stream).")
  .option("--s3-port <port>", "S3 port", String(LOCAL_DEFAULTS.s3Port))
  .option("--kinesis-port <port>", "Kinesis port", String(LOCAL_DEFAULTS.kinesisPort))
  .option("--bucket <name>", "bucket to create", LOCAL_DEFAULTS.bucket)
  .option("--stream <name>", "stream to create", LOCAL_DEFAULTS.stream)
  .option("--dir <folder>", "where s3rver keeps its objects (under <folder>/s3)", LOCAL_DEFAULTS.dir)
  .addHelpText("after", "\nExit codes: 0 stopped by Ctrl-C or SIGTERM, 1 a server could not start (a port in use).")
  .action(async (flags: LocalFlags) => {
    const { runLocalCommand } = require("./local-command") as typeof import("./local-command");
    process.exitCode = await runLocalCommand(flags);
  });

for (const command of program.commands) {
  command.showHelpAfterError(`Usage: synthgen ${command.name()} ${command.usage()}\nRun "synthgen ${command.name()} --help" for the options.`);
}
program.showHelpAfterError(`Usage: synthgen ${program.usage()}\nRun "synthgen --help" for the commands.`);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0; every other commander error is a usage error.
    process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT;
    return;
  }
  process.stderr.write(`synthgen: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = EXIT.FAILED;
});
