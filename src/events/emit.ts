import { addCounts, type DirtyCounts } from "../records/dirty";
import { CapacityError } from "../core/errors";
import { DEFAULT_RETRY, type RetryPolicy } from "../core/retry";
import { RateLimiter, ShapeLimiter, type Pacer } from "./rate-limiter";
import { cumulative } from "./shape";
import { totalEvents, type EmitRequest, type EventTarget } from "./request";
import { DeliveryStats } from "./stats";
import type { ShardRange } from "./fan-out";
import { openStreams, type EventStream, type StreamEvent } from "./streams";

/** What a sink gets besides the streams: where to count, how fast and how long it may go on. */
export interface DeliveryContext {
  readonly stats: DeliveryStats;
  readonly limiter: Pacer;
  readonly retry: RetryPolicy;
  /** `performance.now()` after which nothing new is sent; what is left is counted as failed. */
  readonly deadline: number;
  /** Called as events end (sent or failed), for progress displays. */
  readonly onSettled?: (n: number) => void;
}

/** Delivers the events of a run's streams to one target. Every event ends sent or failed. */
export interface EventSink {
  /**
   * Settings the target cannot work without (region, credentials), checked before the first event:
   * throws a ValidationError naming what to set. Retrying would not fix them.
   */
  preflight?(): Promise<void>;
  /** The target's open shards and their hash key ranges, where it has them (Kinesis), for planning. */
  shards?(): Promise<ShardRange[]>;
  deliver(streams: readonly EventStream[], ctx: DeliveryContext): Promise<void>;
  close(): Promise<void>;
}

export const OUT_OF_TIME = "not sent: the invocation ran out of time";

/** Marks every event the streams have left as failed with `error` (a target that cannot take any). */
export function failRemaining(streams: readonly EventStream[], ctx: DeliveryContext, error: string, first?: StreamEvent): void {
  let n = 0;
  const fail = (event: StreamEvent) => {
    ctx.stats.recordFailed({ stream: event.stream, index: event.index, eventType: event.eventType, error });
    n++;
  };
  if (first) fail(first);
  for (const stream of streams) for (let event = stream.next(); event; event = stream.next()) fail(event);
  ctx.onSettled?.(n);
}

export interface EmitOptions {
  /** Milliseconds the run may take at most (the Lambda's remaining time less a margin). */
  readonly timeBudgetMs?: number;
  readonly retry?: RetryPolicy;
  readonly onSettled?: (n: number) => void;
}

export interface EmitOutcome {
  readonly request: EmitRequest;
  readonly stats: DeliveryStats;
  readonly durationMs: number;
  /** Dirty events injected, by kind (duplicates are extra sends). */
  readonly dirty?: DirtyCounts;
}

/**
 * Refuses, before anything is sent, a capped run that cannot finish in its time budget; the
 * message says what to change.
 */
export function assertEmitFitsInTime(request: EmitRequest, budgetMs: number): void {
  if (request.shape) {
    if (request.shape.durationS * 1000 > budgetMs) {
      throw new CapacityError(
        "shape",
        `shape ${request.shape.text} lasts ${request.shape.durationS} s, more than the ${Math.floor(budgetMs / 1000)} s this invocation has; split it into shorter runs`,
      );
    }
    return;
  }
  if (!request.eventsPerSecond) return;
  const total = totalEvents(request);
  const needMs = (total / request.eventsPerSecond) * 1000;
  if (needMs > budgetMs) {
    throw new CapacityError(
      "events_per_second",
      `${total} events at ${request.eventsPerSecond} per second take ${Math.ceil(needMs / 1000)} s, more than the ${Math.floor(budgetMs / 1000)} s this invocation has; raise events_per_second or send fewer events per invocation`,
    );
  }
}

/** Sends every event of a request through a sink and counts the outcome. */
export async function emitEvents(request: EmitRequest, sink: EventSink, options: EmitOptions = {}): Promise<EmitOutcome> {
  const budget = options.timeBudgetMs ?? Infinity;
  assertEmitFitsInTime(request, budget);
  await sink.preflight?.();
  const started = performance.now();
  const streams = openStreams(request);
  const stats = new DeliveryStats();
  await sink.deliver(streams, {
    stats,
    limiter: request.shape ? new ShapeLimiter(request.shape, request.arrivals, [request.runId, request.seed]) : new RateLimiter(request.eventsPerSecond),
    retry: options.retry ?? DEFAULT_RETRY,
    deadline: started + budget,
    ...(options.onSettled ? { onSettled: options.onSettled } : {}),
  });
  const dirty = request.dirty ? streams.reduce((t, s) => addCounts(t, s.dirtyCounts), {} as DirtyCounts) : undefined;
  return { request, stats, durationMs: Math.round(performance.now() - started), ...(dirty ? { dirty } : {}) };
}

/** How summaries name a target: the URL, `kinesis://NAME`, `firehose://NAME`, `sqs:QUEUE_URL`, `eventbridge://BUS` (as the CLI's `--to`). */
export function targetLabel(target: EventTarget): string {
  switch (target.kind) {
    case "http":
      return target.url;
    case "kinesis":
      return `kinesis://${target.streamName}`;
    case "firehose":
      return `firehose://${target.deliveryStreamName}`;
    case "sqs":
      return `sqs:${target.queueUrl}`;
    case "eventbridge":
      return `eventbridge://${target.eventBusName}`;
  }
}

/** The summary an emit run returns and logs. */
export function emitResponseBody(outcome: EmitOutcome) {
  const { request, stats } = outcome;
  const total = totalEvents(request);
  const failedRatio = total ? stats.failed / total : 0;
  return {
    status: failedRatio > request.maxFailedRatio ? "failed" : "completed",
    target: targetLabel(request.target),
    dataset: request.dataset,
    run_id: request.runId,
    seed: request.seed,
    // The rest of the run's identity, so `synthgen verify --emit-report` recomputes the very events.
    date_prefix: request.datePrefix,
    hhmmss: request.hhmmss,
    ...(request.eventWeights ? { event_weights: request.eventWeights } : {}),
    streams: request.streamCount,
    ...(request.streamEvents ? { events_by_stream: request.streamEvents } : { events_per_stream: request.eventsPerStream }),
    total_events: total,
    sent: stats.sent,
    failed: stats.failed,
    retried: stats.retried,
    failed_ratio: Math.round(failedRatio * 10_000) / 10_000,
    max_failed_ratio: request.maxFailedRatio,
    duration_ms: outcome.durationMs,
    events_per_s: outcome.durationMs > 0 ? Math.round((stats.sent * 1000) / outcome.durationMs) : 0,
    latency: stats.latency(),
    by_event_type: stats.perType(),
    ...(outcome.dirty ? { dirty_rates: request.dirty, dirty_records: outcome.dirty } : {}),
    ...(request.shape ? shapeSummary(request, stats) : {}),
    ...(request.streamSkew ? { stream_skew: { zipf: request.streamSkew.zipf } } : {}),
    ...(stats.failures.length ? { errors: stats.failures } : {}),
  };
}

export type EmitResponseBody = ReturnType<typeof emitResponseBody>;

/**
 * A shaped run's target against what it achieved, second by second (the sender's count of
 * events sent in each second since it started), and the largest relative miss after the first
 * second among seconds whose target is at least 10 events.
 */
function shapeSummary(request: EmitRequest, stats: DeliveryStats) {
  const shape = request.shape as NonNullable<EmitRequest["shape"]>;
  const seconds = Math.max(Math.ceil(shape.durationS), stats.perSecond.length);
  const rows = Array.from({ length: seconds }, (_, s) => {
    const target = cumulative(shape, Math.min(s + 1, shape.durationS)) - cumulative(shape, Math.min(s, shape.durationS));
    return { second: s, target: Math.round(target * 10) / 10, achieved: stats.perSecond[s] ?? 0 };
  });
  const misses = rows
    .slice(1)
    .filter((r) => r.target >= 10)
    .map((r) => Math.abs(r.achieved - r.target) / r.target);
  return {
    shape: shape.text,
    arrivals: request.arrivals,
    duration_s: shape.durationS,
    started_at: new Date(stats.startedAtMs).toISOString(),
    max_rate_error: misses.length ? Math.round(Math.max(...misses) * 1000) / 1000 : 0,
    seconds: rows,
  };
}
