import assert from "node:assert/strict";
import { ValidationError } from "../src/core/errors";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { parseIndexRequest } from "../src/metrics/request";

const now = { now: new Date("2025-12-23T14:00:00Z") };
const withUrl = { ...EMIT_DEFAULTS, target: { kind: "http" as const, url: "http://ingest.example/ingest" } };

describe("emit and index requests: bad input names the field and what is allowed", () => {
  const emitCases: [string, Record<string, unknown>, string, RegExp][] = [
    ["missing target", {}, "ingest_api_url", /no target: give one of ingest_api_url, kinesis_stream_name, firehose_stream_name, sqs_queue_url, event_bus_name/],
    ["malformed URL", { ingest_api_url: "not a url" }, "ingest_api_url", /must be an http:\/\/ or https:\/\/ URL \(got "not a url"\)/],
    ["both targets", { ingest_api_url: "http://a/b", kinesis_stream_name: "s" }, "ingest_api_url", /give one target, not ingest_api_url and kinesis_stream_name/],
    ["bad stream name", { kinesis_stream_name: "a/b" }, "kinesis_stream_name", /1 to 128 letters/],
    ["bad Firehose name", { firehose_stream_name: "x".repeat(65) }, "firehose_stream_name", /1 to 64 letters/],
    [
      "SQS URL without an account",
      { sqs_queue_url: "https://sqs.us-east-1.amazonaws.com/events" },
      "sqs_queue_url",
      /a queue URL such as https:\/\/sqs\.us-east-1\.amazonaws\.com\/123456789012\/events/,
    ],
    ["bad bus name", { event_bus_name: "my bus" }, "event_bus_name", /an event bus name/],
    ["stream_count 0", { ingest_api_url: "http://a/b", stream_count: 0 }, "stream_count", /from 1 to 1000 \(got 0\)/],
    ["stream_count huge", { ingest_api_url: "http://a/b", stream_count: 1e9 }, "stream_count", /from 1 to 1000/],
    ["too many events", { ingest_api_url: "http://a/b", stream_count: 1000, events_per_stream: 5000 }, "events_per_stream", /at most 1000000 per invocation/],
    ["unknown event type weight", { ingest_api_url: "http://a/b", event_weights: { session_begun: 1 } }, "event_weights", /unknown event type "session_begun"; known types: session_started/],
    ["all weights 0", { ingest_api_url: "http://a/b", event_weights: { session_started: 0 } }, "event_weights", /at least one event type a weight above 0/],
    ["weights on a dataset without types", { ingest_api_url: "http://a/b", dataset: "web-events", event_weights: { page_view: 1 } }, "event_weights", /applies to tutoring-events/],
    ["negative rate", { ingest_api_url: "http://a/b", events_per_second: -5 }, "events_per_second", /from 1 to 100000/],
    ["ratio over 1", { ingest_api_url: "http://a/b", max_failed_ratio: 2 }, "max_failed_ratio", /from 0 to 1/],
    ["misspelt field", { ingest_api_url: "http://a/b", streams: 5 }, "streams", /unknown field streams; allowed fields: ingest_api_url/],
  ];
  for (const [what, event, field, message] of emitCases) {
    it(`emit: rejects ${what}`, () => {
      assert.throws(
        () => parseEmitRequest(event, EMIT_DEFAULTS, now),
        (err: unknown) => err instanceof ValidationError && err.field === field && message.test(err.message),
      );
    });
  }

  it("emit: fills the original simulator's defaults and takes the schedule's time as the run's time", () => {
    const r = parseEmitRequest({ id: "evt-9", time: "2025-12-23T14:05:00Z" }, withUrl, now);
    assert.deepEqual([r.streamCount, r.eventsPerStream, r.eventsPerSecond, r.maxFailedRatio, r.dataset], [50, 10, undefined, 0.01, "tutoring-events"]);
    assert.deepEqual([r.runId, r.datePrefix, r.hhmmss], ["evt-9", "2025-12-23", "140500"]);
  });

  const indexCases: [string, Record<string, unknown>, string, RegExp][] = [
    ["hours 0", { hours: 0 }, "hours", /from 1 to 8784 \(got 0\)/],
    ["an index name with capitals", { index: "PP-MerchantAI" }, "index", /lowercase/],
    ["a misspelt field", { hour: 3 }, "hour", /unknown field hour/],
  ];
  for (const [what, event, field, message] of indexCases) {
    it(`index: rejects ${what}`, () => {
      assert.throws(
        () => parseIndexRequest(event, { index: "pp-merchantai", seed: 1 }, now),
        (err: unknown) => err instanceof ValidationError && err.field === field && message.test(err.message),
      );
    });
  }
});
