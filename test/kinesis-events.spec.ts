import assert from "node:assert/strict";
import { emitEvents, emitResponseBody } from "../src/events/emit";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { KinesisEventSink } from "../src/events/targets/kinesis";
import type { RetryPolicy } from "../src/core/retry";
import { synthgen } from "./support/cli";
import { startTestKinesis, type TestKinesis } from "./support/kinesis";

async function emitTo(kinesis: TestKinesis, stream: string, fields: Record<string, unknown>, retry?: RetryPolicy, throttledRecordTtlMs?: number) {
  const request = parseEmitRequest({ kinesis_stream_name: stream, run_id: "kin-run", seed: 2, ...fields }, EMIT_DEFAULTS, { now: new Date() });
  const sink = new KinesisEventSink({ streamName: stream, endpoint: kinesis.endpoint, region: "us-east-1", ...(throttledRecordTtlMs !== undefined ? { throttledRecordTtlMs } : {}) });
  try {
    return emitResponseBody(await emitEvents(request, sink, retry ? { retry } : {}));
  } finally {
    await sink.close();
  }
}

describe("Kinesis event sink against kinesalite", () => {
  before(() => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
  });

  it("puts every event once, in batches of at most 500, one partition key per stream, in stream order", async () => {
    const kinesis = await startTestKinesis();
    try {
      await kinesis.createStream("events", 2);
      const body = await emitTo(kinesis, "events", { stream_count: 50, events_per_stream: 30 });
      assert.deepEqual([body.status, body.sent, body.failed, body.retried], ["completed", 1500, 0, 0]);
      assert.ok(body.latency.requests >= 3, `${body.latency.requests} PutRecords calls for 1500 records`);
      const records = await kinesis.readAll("events");
      assert.equal(records.length, 1500);
      assert.equal(new Set(records.map((r) => r.data)).size, 1500);
      assert.equal(new Set(records.map((r) => r.partitionKey)).size, 50);
      const first = JSON.parse(records[0]!.data) as Record<string, unknown>;
      assert.deepEqual(Object.keys(first), ["event_type", "payload"]);
      // Without throttling nothing is retried, so each stream's records keep their order.
      const stamps = records.filter((r) => r.partitionKey === "kin-run:7").map((r) => (JSON.parse(r.data) as { payload: { timestamp: string } }).payload.timestamp);
      assert.deepEqual(stamps, [...stamps].sort());
    } finally {
      await kinesis.close();
    }
  });

  it("retries the records a throttled stream rejects until all are in: none lost, none twice", async () => {
    // One shard's worth of budget (1,000 records/s) against a burst of 3,000.
    const kinesis = await startTestKinesis(1000);
    try {
      await kinesis.createStream("small");
      const body = await emitTo(kinesis, "small", { stream_count: 50, events_per_stream: 60 });
      assert.ok(kinesis.throttled.count > 0, "the burst must exceed the stream's budget");
      assert.equal(body.retried, kinesis.throttled.count);
      assert.deepEqual([body.status, body.sent, body.failed], ["completed", 3000, 0]);
      const records = await kinesis.readAll("small");
      assert.equal(records.length, 3000);
      assert.equal(new Set(records.map((r) => r.data)).size, 3000);
    } finally {
      await kinesis.close();
    }
  });

  it("reports throttled records as failed once their attempts and TTL are used up, never silently", async () => {
    const kinesis = await startTestKinesis(100);
    try {
      await kinesis.createStream("tiny");
      const body = await emitTo(kinesis, "tiny", { stream_count: 10, events_per_stream: 100 }, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 0 }, 0);
      const records = await kinesis.readAll("tiny");
      assert.ok(body.failed > 0);
      assert.equal(body.sent + body.failed, 1000);
      assert.equal(records.length, body.sent);
      assert.match(body.errors![0]!.error, /ProvisionedThroughputExceededException.* after 2 attempts/);
      assert.equal(body.status, "failed");
    } finally {
      await kinesis.close();
    }
  });

  it("stops at a stream that does not exist and counts every event as failed", async () => {
    const kinesis = await startTestKinesis();
    try {
      const body = await emitTo(kinesis, "missing", { stream_count: 5, events_per_stream: 200 });
      assert.deepEqual([body.sent, body.failed], [0, 1000]);
      assert.match(body.errors![0]!.error, /ResourceNotFoundException/);
      assert.ok(body.latency.requests <= 4, `${body.latency.requests} calls made to a missing stream`);
    } finally {
      await kinesis.close();
    }
  });

  it("keeps to --rate as the stream receives it: 1,000 events at 500/s take 2 s, and no second holds more than 10% over", async () => {
    const kinesis = await startTestKinesis();
    try {
      await kinesis.createStream("paced", 2);
      const body = await emitTo(kinesis, "paced", { stream_count: 10, events_per_stream: 100, events_per_second: 500 });
      assert.deepEqual([body.sent, body.failed], [1000, 0]);
      const times = kinesis.arrivals;
      assert.equal(times.length, 1000);
      let busiest = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while ((times[i] as number) - (times[j] as number) >= 1000) j++;
        busiest = Math.max(busiest, i - j + 1);
      }
      assert.ok(busiest <= 550, `${busiest} records arrived within one second`);
      const span = (times.at(-1) as number) - (times[0] as number);
      assert.ok(span >= 1800, `1,000 records arrived over ${Math.round(span)} ms`);
    } finally {
      await kinesis.close();
    }
  });

  it("stops at once, before sending, naming AWS_REGION when no region is set, and naming the credentials when none are found (CLI exit 2)", async () => {
    const kinesis = await startTestKinesis();
    try {
      const noRegion = { AWS_REGION: "", AWS_DEFAULT_REGION: "", AWS_PROFILE: "", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" };
      const started = performance.now();
      const region = await synthgen(["emit", "--to", "kinesis://events", "--endpoint", kinesis.endpoint, "--streams", "5", "--events-per-stream", "500"], noRegion);
      assert.equal(region.code, 2, region.stderr);
      assert.match(region.stderr, /Kinesis needs a region: set AWS_REGION/);
      const creds = await synthgen(["emit", "--to", "kinesis://events", "--endpoint", kinesis.endpoint], {
        ...noRegion,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "",
        AWS_SECRET_ACCESS_KEY: "",
        AWS_EC2_METADATA_DISABLED: "true",
      });
      assert.equal(creds.code, 2, creds.stderr);
      assert.match(creds.stderr, /Kinesis needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/);
      assert.ok(performance.now() - started < 15_000, "no retries");
      assert.equal(region.stdout, "");
    } finally {
      await kinesis.close();
    }
  });
});
