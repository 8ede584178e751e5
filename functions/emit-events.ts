import { availableParallelism } from "node:os";
import { RunFailedError } from "../src/core/errors";
import { assertEmitFitsInTime, emitEvents, emitResponseBody, type EventSink } from "../src/events/emit";
import { emitFanOutAction, isEmitFanOutEvent } from "../src/events/fan-out-actions";
import { parseEmitRequest, type EmitRequest } from "../src/events/request";
import { eventSinkFor } from "../src/events/targets/index";
import { resolveDataset, storedDatasetLoader } from "../src/catalog/resolve";
import { readEmitEnvironment } from "./environment";
import { log, rejectingBadInput, RESPONSE_MARGIN_MS, type LambdaContext } from "./lambda";
import { publishEmitRun } from "./run-metrics";

const env = readEmitEnvironment(process.env);
const cores = availableParallelism();
const store = env.bucket ? { kind: "s3" as const, bucket: env.bucket, ...(env.s3Endpoint ? { endpoint: env.s3Endpoint } : {}) } : undefined;
// A dataset that is not built in is a schema (or `SCENARIO.DATASET` of a scenario) stored under {KEY_PREFIX}_datasets/.
const loadDataset = store ? storedDatasetLoader(store, env.keyPrefix) : undefined;
/** Sinks outlive the invocation, so a warm container reuses its keep-alive connections. */
const sinks = new Map<string, EventSink>();

function sinkOf(request: EmitRequest): EventSink {
  const key = JSON.stringify([request.target, request.requestTimeoutMs]);
  let sink = sinks.get(key);
  if (!sink) {
    sink = eventSinkFor(request.target, { requestTimeoutMs: request.requestTimeoutMs, ...(env.targetEndpoint ? { endpoint: env.targetEndpoint } : {}) });
    sinks.set(key, sink);
  }
  return sink;
}

/**
 * `emit-events`: sends `stream_count` concurrent streams of `events_per_stream` events to the
 * ingestion API or Kinesis stream. Bad input returns 400 and sends nothing. More than
 * `max_failed_ratio` failed logs the summary and then throws, so the Errors alarm and the
 * dead-letter queue see it. An event with an `action` is a step of the emit state machine.
 */
export async function handler(event: unknown, context: LambdaContext) {
  const budgetMs = () => context.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS;
  if (isEmitFanOutEvent(event)) {
    const step = await rejectingBadInput(() =>
      emitFanOutAction(event, {
        defaults: env.defaults,
        store,
        keyPrefix: env.keyPrefix,
        context: { requestId: context.awsRequestId, now: new Date() },
        // Every step runs in this function, so the plan's own timeout is the emitters'.
        settings: { memoryMb: env.memoryMb, timeoutSeconds: Math.round(context.getRemainingTimeInMillis() / 1000), cores, maxEmitters: env.fanOutConcurrency },
        remainingMs: () => context.getRemainingTimeInMillis(),
        sinkFor: sinkOf,
      }),
    );
    if (!step.ok) return step.response;
    log(step.value.action === "report" && step.value.status === "failed" ? "error" : "info", `emit fan-out ${step.value.action} finished`, { ...step.value, emitter_list: undefined });
    if (step.value.action === "emit" && !("skipped" in step.value)) {
      const cell = step.value;
      publishEmitRun("emit-events", {
        dataset: cell.dataset,
        run_id: cell.run_id,
        sent: cell.sent,
        failed: cell.failed,
        retried: cell.retried,
        durationMs: cell.duration_ms,
        targetPerS: cell.target_events_per_s,
      });
    }
    return { statusCode: 200, body: step.value };
  }
  const parsed = await rejectingBadInput(async () => {
    const custom = await resolveDataset(event, loadDataset);
    const request = parseEmitRequest(event, env.defaults, { requestId: context.awsRequestId, now: new Date() }, custom);
    assertEmitFitsInTime(request, budgetMs());
    return request;
  });
  if (!parsed.ok) return parsed.response;
  const request = parsed.value;
  const body = emitResponseBody(await emitEvents(request, sinkOf(request), { timeBudgetMs: budgetMs() }));
  log(body.status === "failed" ? "error" : "info", "run finished", body);
  const shapedFor = "duration_s" in body ? (body.duration_s ?? 0) : 0;
  const targetPerS = shapedFor > 0 ? body.total_events / shapedFor : request.eventsPerSecond;
  publishEmitRun("emit-events", {
    dataset: body.dataset,
    run_id: body.run_id,
    sent: body.sent,
    failed: body.failed,
    retried: body.retried,
    durationMs: body.duration_ms,
    ...(targetPerS !== undefined ? { targetPerS } : {}),
    ...(body.dirty_records ? { dirty_records: body.dirty_records } : {}),
  });
  if (body.status === "failed") {
    throw new RunFailedError(
      `${body.failed} of ${body.total_events} events failed (${body.failed_ratio} > max_failed_ratio ${body.max_failed_ratio}, run ${body.run_id}): ${body.errors?.[0]?.error ?? ""}`,
    );
  }
  return { statusCode: 200, body };
}
