import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { emitEvents, emitResponseBody } from "../src/events/emit";
import { EMIT_DEFAULTS, parseEmitRequest, type EmitRequest } from "../src/events/request";
import { openStreams } from "../src/events/streams";
import type { RetryPolicy } from "../src/core/retry";
import { eventSinkFor } from "../src/events/targets/index";
import { startEventBridge, startFirehose, startSqs, type FailEntry } from "./support/aws-json";
import { synthgen } from "./support/cli";

const FAST: RetryPolicy = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 1000 };

/** Fails a share of entries on their first attempt, chosen by their content (so the same on every run). */
const firstAttemptFails =
  (share: number, code: string): FailEntry =>
  ({ body, attempt }) =>
    attempt === 1 && createHash("md5").update(body).digest().readUInt32BE(0) / 2 ** 32 < share ? code : undefined;

async function emit(fields: Record<string, unknown>, endpoint: string) {
  const request = parseEmitRequest({ run_id: "aws-run", seed: 5, ...fields }, EMIT_DEFAULTS, { now: new Date("2026-03-02T10:00:00Z") });
  const sink = eventSinkFor(request.target, { requestTimeoutMs: 5000, endpoint, region: "us-east-1" });
  try {
    return { request, body: emitResponseBody(await emitEvents(request, sink, { retry: FAST })) };
  } finally {
    await sink.close();
  }
}

/** The events a request sends, by body: which stream and index each is. */
function expected(request: EmitRequest): Map<string, { stream: number; index: number }> {
  const out = new Map<string, { stream: number; index: number }>();
  for (const s of openStreams(request)) for (let e = s.next(); e; e = s.next()) out.set(e.body, { stream: e.stream, index: e.index });
  return out;
}

/** Received bodies: each expected one exactly once; returns each stream's indices in arrival order. */
function assertEachOnce(received: readonly string[], request: EmitRequest): Map<number, number[]> {
  const want = expected(request);
  assert.equal(received.length, want.size, `${received.length} received, ${want.size} sent`);
  const byStream = new Map<number, number[]>();
  const seen = new Set<string>();
  for (const body of received) {
    const at = want.get(body);
    assert.ok(at, `an event that was not sent: ${body.slice(0, 80)}`);
    assert.ok(!seen.has(body), `received twice: ${body.slice(0, 80)}`);
    seen.add(body);
    byStream.set(at.stream, [...(byStream.get(at.stream) ?? []), at.index]);
  }
  return byStream;
}

const inOrder = (byStream: Map<number, number[]>) => [...byStream.values()].every((ix) => ix.every((v, i) => i === 0 || v > ix[i - 1]!));

describe("AWS event targets through the real SDK clients, against loopback stand-ins speaking their JSON protocols", () => {
  before(() => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
  });

  describe("Amazon Data Firehose (PutRecordBatch)", () => {
    it("delivers every event once as an NDJSON line, 20% of records failing their first attempt retried, batches within 500 records and 4 MiB", async () => {
      const fh = await startFirehose(["landing"], { fail: firstAttemptFails(0.2, "ServiceUnavailableException") });
      try {
        const { request, body } = await emit({ firehose_stream_name: "landing", stream_count: 20, events_per_stream: 100 }, fh.endpoint);
        assert.deepEqual([body.status, body.target, body.sent, body.failed], ["completed", "firehose://landing", 2000, 0]);
        assert.ok(body.retried >= 300 && body.retried <= 500, `${body.retried} retried (about 20% of 2,000)`);
        const lines = fh.records.get("landing")!.map((b) => b.toString("utf8"));
        assert.ok(
          lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n")),
          "each record is one line ending in a newline",
        );
        assertEachOnce(
          lines.map((l) => l.slice(0, -1)),
          request,
        );
        assert.equal(fh.calls.refused, 0, "no call broke a limit");
      } finally {
        await fh.close();
      }
    });

    it("throttled past the stream's budget (ServiceUnavailableException: Slow down.), keeps retrying until every record is in", async () => {
      const fh = await startFirehose(["slow"], { perSecond: 1000 });
      try {
        const { request, body } = await emit({ firehose_stream_name: "slow", stream_count: 10, events_per_stream: 300 }, fh.endpoint);
        assert.deepEqual([body.status, body.sent, body.failed], ["completed", 3000, 0], JSON.stringify(body.errors));
        assert.ok(body.retried > 0, "3,000 records at 1,000 a second cannot all go in at once");
        assertEachOnce(
          fh.records.get("slow")!.map((b) => b.toString("utf8").slice(0, -1)),
          request,
        );
      } finally {
        await fh.close();
      }
    });

    it("a stream that does not exist stops the run: every event failed with ResourceNotFoundException, one call made", async () => {
      const fh = await startFirehose(["landing"]);
      try {
        const { body } = await emit({ firehose_stream_name: "missing", stream_count: 3, events_per_stream: 10 }, fh.endpoint);
        assert.deepEqual([body.status, body.sent, body.failed], ["failed", 0, 30]);
        assert.match(body.errors![0]!.error, /ResourceNotFoundException: Firehose missing under account/);
        assert.equal(fh.calls.refused, 1);
      } finally {
        await fh.close();
      }
    });
  });

  describe("SQS (SendMessageBatch)", () => {
    it("FIFO: every event once, each stream a message group kept in strict order although 25% of entries fail first, ≤ 10 entries and 256 KiB a call", async () => {
      const sqs = await startSqs(["events.fifo"], { fail: firstAttemptFails(0.25, "InternalError") });
      try {
        const { request, body } = await emit({ sqs_queue_url: sqs.queueUrl("events.fifo"), stream_count: 12, events_per_stream: 40 }, sqs.endpoint);
        assert.deepEqual([body.status, body.sent, body.failed], ["completed", 480, 0]);
        assert.ok(body.retried > 60, `${body.retried} retried`);
        const messages = sqs.queues.get("/123456789012/events.fifo")!;
        const byStream = assertEachOnce(
          messages.map((m) => m.body),
          request,
        );
        assert.ok(inOrder(byStream), "every group in order");
        for (const m of messages) {
          const at = expected(request).get(m.body)!;
          assert.equal(m.groupId, `aws-run:${at.stream}`);
          assert.equal(m.attributes.idempotency_key, `aws-run:${at.stream}:${at.index}`);
        }
        assert.equal(sqs.calls.refused, 0);
      } finally {
        await sqs.close();
      }
    });

    it("FIFO: a call whose answer is lost after the messages were taken is retried whole, and SQS deduplication keeps each message once", async () => {
      const sqs = await startSqs(["lossy.fifo"], { loseAnswer: (call) => call % 5 === 0 });
      try {
        const { request, body } = await emit({ sqs_queue_url: sqs.queueUrl("lossy.fifo"), stream_count: 8, events_per_stream: 25 }, sqs.endpoint);
        assert.deepEqual([body.status, body.sent, body.failed], ["completed", 200, 0]);
        assert.ok(sqs.calls.refused >= 3, `${sqs.calls.refused} answers lost (the SDK's own retry sent those calls again)`);
        assertEachOnce(
          sqs.queues.get("/123456789012/lossy.fifo")!.map((m) => m.body),
          request,
        );
      } finally {
        await sqs.close();
      }
    });

    it("standard queue: the same lost answers deliver those messages twice (at-least-once), each repeat named by its idempotency_key attribute", async () => {
      const sqs = await startSqs(["lossy"], { loseAnswer: (call) => call % 5 === 0 });
      try {
        const { body } = await emit({ sqs_queue_url: sqs.queueUrl("lossy"), stream_count: 8, events_per_stream: 25 }, sqs.endpoint);
        assert.deepEqual([body.status, body.sent], ["completed", 200]);
        const keys = sqs.queues.get("/123456789012/lossy")!.map((m) => m.attributes.idempotency_key!);
        assert.equal(new Set(keys).size, 200, "every event arrived");
        assert.ok(keys.length > 200, `${keys.length - 200} repeats, which a consumer drops by idempotency_key`);
      } finally {
        await sqs.close();
      }
    });

    it("standard queue: every event once with partial failures; an event over 256 KiB is refused before sending, naming the limit", async () => {
      const sqs = await startSqs(["events"], { fail: firstAttemptFails(0.2, "InternalError") });
      try {
        const { request, body } = await emit({ sqs_queue_url: sqs.queueUrl("events"), stream_count: 6, events_per_stream: 50 }, sqs.endpoint);
        assert.deepEqual([body.status, body.sent, body.failed], ["completed", 300, 0]);
        assertEachOnce(
          sqs.queues.get("/123456789012/events")!.map((m) => m.body),
          request,
        );
        const big = await emit({ sqs_queue_url: sqs.queueUrl("events"), stream_count: 2, events_per_stream: 200, dirty: { oversize: 0.05 }, max_failed_ratio: 1 }, sqs.endpoint);
        const oversize = big.body.dirty_records!.oversize ?? 0;
        assert.ok(oversize > 0);
        assert.equal(big.body.failed, oversize);
        assert.match(big.body.errors![0]!.error, /over the SQS limit of 262144 bytes/);
      } finally {
        await sqs.close();
      }
    });

    it("a queue that does not exist stops the run, naming QueueDoesNotExist", async () => {
      const sqs = await startSqs(["events"]);
      try {
        const { body } = await emit({ sqs_queue_url: sqs.queueUrl("nope"), stream_count: 2, events_per_stream: 5 }, sqs.endpoint);
        assert.deepEqual([body.status, body.failed], ["failed", 10]);
        assert.match(body.errors![0]!.error, /QueueDoesNotExist|NonExistentQueue/);
      } finally {
        await sqs.close();
      }
    });
  });

  describe("EventBridge (PutEvents)", () => {
    it("every event once on the bus, source synthgen.{dataset}, detail-type the event type; throttled entries retried", async () => {
      const eb = await startEventBridge(["default", "loadtest"], { fail: firstAttemptFails(0.2, "ThrottlingException") });
      try {
        const { request, body } = await emit({ event_bus_name: "loadtest", stream_count: 10, events_per_stream: 40 }, eb.endpoint);
        assert.deepEqual([body.status, body.target, body.sent, body.failed], ["completed", "eventbridge://loadtest", 400, 0]);
        assert.ok(body.retried > 40);
        const events = eb.buses.get("loadtest")!;
        assertEachOnce(
          events.map((e) => e.detail),
          request,
        );
        assert.ok(events.every((e) => e.source === "synthgen.tutoring-events"));
        assert.deepEqual(new Set(events.map((e) => e.detailType)), new Set(events.map((e) => (JSON.parse(e.detail) as { event_type: string }).event_type)));
        assert.equal(eb.calls.refused, 0);
      } finally {
        await eb.close();
      }
    });

    it("a malformed event (dirty data) is refused as MalformedDetail and counted failed, once, not retried", async () => {
      const eb = await startEventBridge(["default"]);
      try {
        const { body } = await emit({ event_bus_name: "default", stream_count: 4, events_per_stream: 100, dirty: { malformed: 0.05 }, max_failed_ratio: 1 }, eb.endpoint);
        const malformed = body.dirty_records!.malformed ?? 0;
        assert.ok(malformed > 0);
        assert.deepEqual([body.failed, body.sent, body.retried], [malformed, 400 - malformed, 0]);
        assert.match(body.errors![0]!.error, /^MalformedDetail: Detail is malformed\.$/);
      } finally {
        await eb.close();
      }
    });
  });

  it("synthgen emit --to firehose:// | sqs: | eventbridge:// with --endpoint, and a target the CLI names when it is wrong", async () => {
    const fh = await startFirehose(["cli"]);
    const sqs = await startSqs(["cli.fifo"]);
    const eb = await startEventBridge(["default"]);
    const env = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };
    try {
      for (const [to, endpoint] of [
        ["firehose://cli", fh.endpoint],
        [`sqs:${sqs.queueUrl("cli.fifo")}`, sqs.endpoint],
        ["eventbridge://default", eb.endpoint],
      ] as const) {
        const run = await synthgen(["emit", "--to", to, "--endpoint", endpoint, "--streams", "3", "--events-per-stream", "7"], env);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual([JSON.parse(run.stdout).target, JSON.parse(run.stdout).sent], [to, 21]);
      }
      assert.equal(fh.records.get("cli")!.length + sqs.queues.get("/123456789012/cli.fifo")!.length + eb.buses.get("default")!.length, 63);
      const bad = await synthgen(["emit", "--to", "sqs:https://sqs.us-east-1.amazonaws.com/not-an-account/q", "--streams", "1"], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--to: sqs_queue_url must be a queue URL such as https:\/\/sqs\.us-east-1\.amazonaws\.com\/123456789012\/events/);
    } finally {
      await Promise.all([fh.close(), sqs.close(), eb.close()]);
    }
  });
});
