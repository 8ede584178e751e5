import { RunFailedError } from "../src/errors";
import { assertEmitFitsInTime, emitEvents, emitResponseBody, type EventSink } from "../src/events/emit";
import { parseEmitRequest } from "../src/events/request";
import { eventSinkFor } from "../src/sinks/event-sinks";
import { readEmitEnvironment } from "./environment";
import { log, rejectingBadInput, RESPONSE_MARGIN_MS, type LambdaContext } from "./lambda";

const env = readEmitEnvironment(process.env);
/** Sinks outlive the invocation, so a warm container reuses its keep-alive connections. */
const sinks = new Map<string, EventSink>();

/**
 * `emit-events`: sends `stream_count` concurrent streams of `events_per_stream` events to the
 * ingestion API or Kinesis stream. Bad input returns 400 and sends nothing. More than
 * `max_failed_ratio` failed logs the summary and then throws, so the Errors alarm and the
 * dead-letter queue see it.
 */
export async function handler(event: unknown, context: LambdaContext) {
  const budgetMs = () => context.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS;
  const parsed = await rejectingBadInput(async () => {
    const request = parseEmitRequest(event, env.defaults, { requestId: context.awsRequestId, now: new Date() });
    assertEmitFitsInTime(request, budgetMs());
    return request;
  });
  if (!parsed.ok) return parsed.response;
  const request = parsed.value;

  const sinkKey = JSON.stringify([request.target, request.requestTimeoutMs]);
  let sink = sinks.get(sinkKey);
  if (!sink) {
    sink = eventSinkFor(request.target, { requestTimeoutMs: request.requestTimeoutMs, ...(env.kinesisEndpoint ? { kinesisEndpoint: env.kinesisEndpoint } : {}) });
    sinks.set(sinkKey, sink);
  }
  const body = emitResponseBody(await emitEvents(request, sink, { timeBudgetMs: budgetMs() }));
  log(body.status === "failed" ? "error" : "info", "run finished", body);
  if (body.status === "failed") {
    throw new RunFailedError(
      `${body.failed} of ${body.total_events} events failed (${body.failed_ratio} > max_failed_ratio ${body.max_failed_ratio}, run ${body.run_id}): ${body.errors?.[0]?.error ?? ""}`,
    );
  }
  return { statusCode: 200, body };
}
