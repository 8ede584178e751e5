import { execFile, fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { openStreams } from "../src/events/streams";
import { fmt, interleaved, line, type Spread } from "./ratios";

const run = promisify(execFile);

interface TargetCase {
  readonly name: string;
  readonly server: "firehose" | "sqs" | "eventbridge";
  readonly field: (endpoint: string) => Record<string, string>;
  readonly eventsPerStream: number;
  /** Entries in one call, and the call's JSON body and protocol headers for `events` event bodies. */
  readonly batch: number;
  readonly call: (endpoint: string, bodies: readonly string[]) => { body: string; target: string; contentType: string; service: string };
}

const CASES: readonly TargetCase[] = [
  {
    name: "Firehose (PutRecordBatch, 500 a call)",
    server: "firehose",
    field: () => ({ firehose_stream_name: "bench" }),
    // 400 calls: autocannon's duration is too coarse for fewer.
    eventsPerStream: 4000,
    batch: 500,
    call: (_, bodies) => ({
      body: JSON.stringify({ DeliveryStreamName: "bench", Records: bodies.map((b) => ({ Data: Buffer.from(`${b}\n`).toString("base64") })) }),
      target: "Firehose_20150804.PutRecordBatch",
      contentType: "application/x-amz-json-1.1",
      service: "firehose",
    }),
  },
  {
    name: "SQS standard (SendMessageBatch, 10 a call)",
    server: "sqs",
    field: (e) => ({ sqs_queue_url: `${e}/123456789012/bench` }),
    eventsPerStream: 200,
    batch: 10,
    call: (e, bodies) => ({
      body: JSON.stringify({
        QueueUrl: `${e}/123456789012/bench`,
        Entries: bodies.map((b, i) => ({ Id: `m${i}`, MessageBody: b, MessageAttributes: { idempotency_key: { DataType: "String", StringValue: `bench:0:${i}` } } })),
      }),
      target: "AmazonSQS.SendMessageBatch",
      contentType: "application/x-amz-json-1.0",
      service: "sqs",
    }),
  },
  {
    name: "SQS FIFO (one message of a group a call)",
    server: "sqs",
    field: (e) => ({ sqs_queue_url: `${e}/123456789012/bench.fifo` }),
    eventsPerStream: 200,
    batch: 10,
    call: (e, bodies) => ({
      body: JSON.stringify({
        QueueUrl: `${e}/123456789012/bench.fifo`,
        Entries: bodies.map((b, i) => ({
          Id: `m${i}`,
          MessageBody: b,
          MessageGroupId: `bench:${i}`,
          MessageDeduplicationId: `d${i}`,
          MessageAttributes: { idempotency_key: { DataType: "String", StringValue: `bench:${i}:0` } },
        })),
      }),
      target: "AmazonSQS.SendMessageBatch",
      contentType: "application/x-amz-json-1.0",
      service: "sqs",
    }),
  },
  {
    name: "EventBridge (PutEvents, 10 a call)",
    server: "eventbridge",
    field: () => ({ event_bus_name: "bench" }),
    eventsPerStream: 200,
    batch: 10,
    call: (_, bodies) => ({
      body: JSON.stringify({ Entries: bodies.map((b) => ({ EventBusName: "bench", Source: "synthgen.tutoring-events", DetailType: "session_started", Detail: b })) }),
      target: "AWSEvents.PutEvents",
      contentType: "application/x-amz-json-1.1",
      service: "events",
    }),
  },
];

/**
 * One emitter (50 streams, its own process) per AWS target against the loopback stand-in (its own
 * process), and the limit: autocannon replaying one full batch call of the same events with as
 * many connections as the sender keeps calls in flight (4). The ratio is the emitter's events/s
 * over the stand-in's calls/s × entries per call.
 */
export async function targetsBench(): Promise<void> {
  console.log("## one emitter per AWS target vs the stand-in's own limit (autocannon replaying a full batch call), 3 alternated runs, min / median\n");
  console.log(line("path", "emit", "limit (calls/s × batch)", "median ratio"));
  console.log(line("---", "---", "---", "---"));
  const dir = await mkdtemp(join(tmpdir(), "synthgen-targets-"));
  const specFile = join(dir, "autocannon.json");
  for (const c of CASES) {
    const server = fork(join(__dirname, "loopback-server.js"), [c.server], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const endpoint = await new Promise<string>((resolve, reject) => {
      server.once("message", (m) => resolve((m as { url: string }).url));
      server.once("exit", (code) => reject(new Error(`${c.server} stand-in exited with ${code}`)));
    });
    try {
      const request = parseEmitRequest({ ...c.field(endpoint), stream_count: 1, events_per_stream: c.batch, run_id: "bench", seed: 1 }, EMIT_DEFAULTS, { now: new Date() });
      const stream = openStreams(request)[0]!;
      const bodies: string[] = [];
      for (let e = stream.next(); e; e = stream.next()) bodies.push(e.body);
      const call = c.call(endpoint, bodies);
      const headers = {
        "content-type": call.contentType,
        "x-amz-target": call.target,
        "x-amz-date": "20260101T000000Z",
        authorization: `AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/${call.service}/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=${"0".repeat(64)}`,
      };
      const events = 50 * c.eventsPerStream;
      const [emit, cannon] = await interleaved(
        3,
        async () => {
          const spec = { kind: "emit", endpoint, event: { ...c.field(endpoint), stream_count: 50, events_per_stream: c.eventsPerStream, run_id: `bench-${Math.random()}`, seed: 1 } };
          const { stdout } = await run(process.execPath, [join(__dirname, "stream-scenario.js"), JSON.stringify(spec)], { env: process.env, maxBuffer: 1 << 20 });
          return (JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { perS: number }).perS;
        },
        async () => {
          await writeFile(specFile, JSON.stringify({ url: `${endpoint}/`, body: call.body, headers, connections: 4, amount: Math.ceil(events / c.batch) }));
          const { stdout } = await run(process.execPath, [join(__dirname, "autocannon-run.js"), `@${specFile}`], { maxBuffer: 1 << 20 });
          const out = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { perS: number; errors: number };
          if (out.errors > 0) throw new Error(`autocannon: ${out.errors} calls refused by the ${c.server} stand-in`);
          return out.perS * c.batch;
        },
      );
      const k = (x: Spread) => ({ min: x.min / 1000, median: x.median / 1000 });
      console.log(line(c.name, fmt(k(emit), 1, "k ev/s"), fmt(k(cannon), 1, "k ev/s"), (emit.median / cannon.median).toFixed(2)));
    } finally {
      server.kill();
    }
  }
  await rm(dir, { recursive: true, force: true });
  console.log("");
}
