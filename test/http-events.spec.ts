import assert from "node:assert/strict";
import { emitEvents, emitResponseBody } from "../src/events/emit";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { HttpEventSink } from "../src/events/targets/http";
import type { RetryPolicy } from "../src/core/retry";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { LOCALHOST_CERT, LOCALHOST_KEY } from "./support/tls";
import { startIngestServer, type IngestAnswer, type IngestRequestInfo, type IngestServer } from "./support/ingest-server";

const FAST_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 40, maxRetryAfterMs: 5000 };

async function emitTo(server: IngestServer, fields: Record<string, unknown>, retry = FAST_RETRY) {
  const request = parseEmitRequest({ ingest_api_url: server.url, run_id: "http-run", seed: 1, ...fields }, EMIT_DEFAULTS, { now: new Date("2025-12-23T14:00:00Z") });
  const sink = new HttpEventSink(server.url, request.requestTimeoutMs);
  try {
    return emitResponseBody(await emitEvents(request, sink, { retry }));
  } finally {
    await sink.close();
  }
}

describe("HTTP event sink against a loopback ingest server", () => {
  let server: IngestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("POSTs every event once as JSON {event_type, payload}, each stream's events in order", async () => {
    server = await startIngestServer();
    const body = await emitTo(server, { stream_count: 20, events_per_stream: 15 });
    assert.equal(body.status, "completed");
    assert.deepEqual([body.sent, body.failed, body.retried], [300, 0, 0]);
    assert.equal(server.accepted.length, 300);
    assert.deepEqual(server.duplicates, []);
    assert.deepEqual([...server.contentTypes], ["application/json"]);
    for (let s = 0; s < 20; s++) {
      const order: number[] = server.accepted.filter((a) => a.key.startsWith(`http-run:${s}:`)).map((a) => Number(a.key.split(":")[2]));
      assert.deepEqual(
        order,
        Array.from({ length: 15 }, (_, i) => i),
      );
    }
    assert.deepEqual(Object.keys(server.accepted[0]!.body as object), ["event_type", "payload"]);
    assert.equal(
      Object.values(body.by_event_type).reduce((n, c) => n + c.sent, 0),
      300,
    );
    assert.ok(body.latency.requests === 300 && body.latency.p50_ms <= body.latency.p95_ms && body.latency.p95_ms <= body.latency.p99_ms);
  });

  it("sends the same events for the same run id and seed", async () => {
    server = await startIngestServer();
    await emitTo(server, { stream_count: 3, events_per_stream: 5 });
    const first = server.accepted.map((a) => JSON.stringify(a.body)).sort();
    await server.close();
    server = await startIngestServer();
    await emitTo(server, { stream_count: 3, events_per_stream: 5 });
    assert.deepEqual(server.accepted.map((a) => JSON.stringify(a.body)).sort(), first);
  });

  it("waits out a 429's Retry-After before trying again", async () => {
    let firstAt = 0;
    server = await startIngestServer((r) => {
      if (r.key !== "http-run:0:0") return { kind: "accept" };
      if (r.attempt === 1) {
        firstAt = Date.now();
        return { kind: "status", status: 429, retryAfter: "1" };
      }
      return { kind: "accept" };
    });
    const body = await emitTo(server, { stream_count: 1, events_per_stream: 2 });
    const second = server.accepted.find((a) => a.key === "http-run:0:0")!;
    assert.ok(second.at - firstAt >= 950, `retried after ${second.at - firstAt} ms`);
    assert.deepEqual([body.sent, body.failed, body.retried], [2, 0, 1]);
  });

  it("retries a 500 and a response that never comes, and loses nothing", async () => {
    const answer = (r: IngestRequestInfo): IngestAnswer => {
      if (r.key.endsWith(":1") && r.attempt === 1) return { kind: "status", status: 500 };
      if (r.key.endsWith(":2") && r.attempt === 1) return { kind: "hang" };
      return { kind: "accept" };
    };
    server = await startIngestServer(answer);
    const body = await emitTo(server, { stream_count: 4, events_per_stream: 4, request_timeout_ms: 300 });
    assert.deepEqual([body.sent, body.failed, body.retried], [16, 0, 8]);
    assert.equal(server.accepted.length, 16);
    assert.deepEqual(server.duplicates, []);
  });

  it("retries a connection dropped without an answer, and reports a long error body by its first 200 characters", async () => {
    const long = `${"é".repeat(150)}${"x".repeat(5000)}`;
    server = await startIngestServer((r) => {
      if (r.key === "http-run:0:1" && r.attempt === 1) return { kind: "reset" };
      if (r.key === "http-run:1:0") return { kind: "status", status: 422, body: long };
      return { kind: "accept" };
    });
    const body = await emitTo(server, { stream_count: 2, events_per_stream: 3, max_failed_ratio: 0.5 });
    assert.deepEqual([body.sent, body.failed, body.retried], [5, 1, 1]);
    assert.equal(server.accepted.filter((a) => a.key === "http-run:0:1").length, 1);
    assert.equal(body.errors?.[0]?.error, `HTTP 422: ${long.slice(0, 200)}`);
  });

  it("reports a 400 without retrying it, and fails the run past max_failed_ratio", async () => {
    server = await startIngestServer((r) => (r.key === "http-run:1:3" ? { kind: "status", status: 400, body: '{"message":"invalid payload"}' } : { kind: "accept" }));
    const body = await emitTo(server, { stream_count: 5, events_per_stream: 10, max_failed_ratio: 0 });
    assert.deepEqual([body.sent, body.failed, body.retried], [49, 1, 0]);
    assert.equal(server.requests.filter((r) => r.key === "http-run:1:3").length, 1);
    assert.equal(body.status, "failed");
    assert.deepEqual(body.errors?.[0], { stream: 1, index: 3, eventType: body.errors?.[0]?.eventType, error: 'HTTP 400: {"message":"invalid payload"}' });
    const tolerant = await emitTo(server, { stream_count: 5, events_per_stream: 10, max_failed_ratio: 0.05, run_id: "http-run" });
    assert.equal(tolerant.status, "completed");
  });

  it("gives up after the last attempt and says how many were made", async () => {
    server = await startIngestServer((r) => (r.key === "http-run:0:0" ? { kind: "status", status: 503 } : { kind: "accept" }));
    const body = await emitTo(server, { stream_count: 1, events_per_stream: 1 });
    assert.equal(body.failed, 1);
    assert.match(body.errors![0]!.error, /^HTTP 503.* after 4 attempts$/);
    assert.equal(server.requests.length, 4);
  });

  it("sends dirty events on purpose and counts them: malformed ones come back 400, duplicates arrive twice", async () => {
    server = await startIngestServer();
    const body = await emitTo(server, { stream_count: 10, events_per_stream: 100, dirty: { malformed: 0.05, duplicate: 0.05 }, max_failed_ratio: 1 });
    const d = body.dirty_records as { malformed: number; duplicate: number };
    assert.ok(d.malformed > 0 && d.duplicate > 0);
    assert.equal(body.failed, d.malformed);
    assert.ok(body.errors!.every((e) => e.error.startsWith("HTTP 400")));
    assert.equal(server.accepted.filter((a) => a.key.endsWith(":dup")).length, d.duplicate);
    assert.equal(body.sent, 1000 - d.malformed + d.duplicate);
  });

  it("keeps to events_per_second", async () => {
    server = await startIngestServer();
    const started = Date.now();
    await emitTo(server, { stream_count: 10, events_per_stream: 10, events_per_second: 200 });
    assert.ok(Date.now() - started >= 450, `100 events at 200/s took ${Date.now() - started} ms`);
  });

  it("speaks TLS to an https: ingest URL, and fails each event at once, by its reason, when the certificate is not trusted", async () => {
    let requests = 0;
    const tls = createHttpsServer({ cert: LOCALHOST_CERT, key: LOCALHOST_KEY }, (_req, res) => {
      requests++;
      res.end("{}");
    });
    await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://localhost:${(tls.address() as AddressInfo).port}/ingest`;
      const request = parseEmitRequest({ ingest_api_url: url, run_id: "http-run", seed: 1, stream_count: 2, events_per_stream: 2, max_failed_ratio: 1 }, EMIT_DEFAULTS, {
        now: new Date("2025-12-23T14:00:00Z"),
      });
      const sink = new HttpEventSink(url, request.requestTimeoutMs);
      const body = emitResponseBody(await emitEvents(request, sink, { retry: FAST_RETRY }));
      await sink.close();
      assert.deepEqual([body.sent, body.failed, body.retried, requests], [0, 4, 0, 0]);
      assert.match(body.errors?.[0]?.error ?? "", /^DEPTH_ZERO_SELF_SIGNED_CERT: self[- ]signed certificate$/);
    } finally {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
    }
  });
});
