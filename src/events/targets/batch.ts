import { NodeHttpHandler } from "@smithy/node-http-handler";
import { failRemaining, OUT_OF_TIME, type DeliveryContext, type EventSink } from "../emit";
import type { ShardRange } from "../fan-out";
import type { EventStream, StreamEvent } from "../streams";
import { ValidationError } from "../../core/errors";
import { backoffDelay, sleep } from "../../core/retry";

/** One event on its way: its bytes as the service counts them, and how its attempts went. */
export interface Pending {
  readonly event: StreamEvent;
  readonly data: Buffer;
  /** The stream's key at the service: Kinesis partition key, SQS message group. */
  readonly partitionKey: string;
  attempts: number;
  readyAt: number;
  firstAttemptAt?: number;
}

/** What the service said of one entry of a batch. */
export type EntryResult = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string; readonly retryable: boolean };

/**
 * One AWS batch API (Kinesis PutRecords, Firehose PutRecordBatch, SQS SendMessageBatch,
 * EventBridge PutEvents): its documented limits, how an entry is sized and sent, and which
 * answers mean "later" rather than "never".
 */
export interface BatchApi {
  /** For messages: "Kinesis", "Firehose", "SQS", "EventBridge". */
  readonly service: string;
  readonly maxRecords: number;
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
  /** At most one entry of a stream per call, so a partial failure cannot reorder it (SQS FIFO). */
  readonly onePerStream?: boolean;
  /** Bytes an entry counts for, as the service sizes it. */
  size(entry: Pending): number;
  /** The entry's payload bytes (the record, message body or event detail); default: the event's JSON in UTF-8. */
  encode?(event: StreamEvent): Buffer;
  /** One call; one result per entry, in order. Throws what the call as a whole failed with. */
  put(batch: readonly Pending[]): Promise<EntryResult[]>;
  /** Whole-call error names worth retrying (throttles, service faults); anything else ends the run. */
  readonly retryableCallErrors: ReadonlySet<string>;
  /** Entry codes that mean the service is throttling (retried past attempts within the TTL). */
  readonly throttleCodes: ReadonlySet<string>;
  /** Checks region and credentials before the first call. */
  readonly client: { config: { region(): Promise<string>; credentials(): Promise<unknown> } };
  shards?(): Promise<ShardRange[]>;
  destroy(): void;
}

/** Where an AWS client sends: AWS in the configured Region, or a compatible endpoint (spoken to over HTTP/1.1). */
export function awsClientConfig(options: { readonly region?: string; readonly endpoint?: string }) {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint, requestHandler: new NodeHttpHandler() } : {}),
  };
}

/** Calls in flight at most. */
export const BATCH_CONCURRENCY = 4;
/**
 * How long a throttled record keeps being retried past its attempts, as the Kinesis Producer
 * Library's record TTL: throttling means "later", not "never".
 */
export const DEFAULT_THROTTLED_RECORD_TTL_MS = 30_000;

const RETRYABLE_CALL_ERRORS_COMMON = ["ThrottlingException", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException", "TimeoutError", "RequestTimeout", "RequestThrottled"];
export const retryableCalls = (...more: string[]): ReadonlySet<string> => new Set([...RETRYABLE_CALL_ERRORS_COMMON, ...more]);

/**
 * Sends a run's events through one batch API within its limits. Records a partial failure returns
 * go back in the queue with backoff and full jitter — only those, never the batch's delivered
 * ones — and are never dropped silently; a throttled call slows the whole sender so the retries
 * get the room. A stream's next records wait for its previous call, so a stream keeps its order
 * unless a record had to be retried (or never, with `onePerStream`).
 */
export class BatchEventSink implements EventSink {
  /** Calls in a row that came back throttled; the whole sender backs off, not just the records. */
  private throttledCalls = 0;
  private pauseUntil = 0;

  constructor(
    private readonly api: BatchApi,
    private readonly throttledRecordTtlMs = DEFAULT_THROTTLED_RECORD_TTL_MS,
  ) {}

  /** A missing region or credentials fails every call the same way: say what to set, once. */
  async preflight(): Promise<void> {
    const { service, client } = this.api;
    try {
      await client.config.region();
    } catch {
      throw new ValidationError("AWS_REGION", `${service} needs a region: set AWS_REGION (for example AWS_REGION=us-east-1), or a region in the AWS_PROFILE you use`);
    }
    try {
      await client.config.credentials();
    } catch (err) {
      throw new ValidationError("credentials", `${service} needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (${(err as Error).message.split("\n")[0]})`);
    }
  }

  get shards(): (() => Promise<ShardRange[]>) | undefined {
    return this.api.shards?.bind(this.api);
  }

  async deliver(streams: readonly EventStream[], ctx: DeliveryContext): Promise<void> {
    const api = this.api;
    const retries: Pending[] = [];
    const inFlight = new Set<Promise<void>>();
    let fatal: string | undefined;
    // A stream with records in flight waits for them, so its records reach the service in order
    // (unless one has to be retried). Records taken but not fitting a batch are held for the next.
    const busy = new Set<number>();
    const held = new Map<number, Pending>();
    const fresh = (stream: EventStream): Pending | undefined => {
      const kept = held.get(stream.index);
      if (kept) {
        held.delete(stream.index);
        return kept;
      }
      const event = stream.next();
      return event && { event, data: api.encode ? api.encode(event) : Buffer.from(event.body, "utf8"), partitionKey: stream.partitionKey, attempts: 0, readyAt: 0 };
    };
    const exhausted = () => held.size === 0 && streams.every((s) => s.remaining === 0);

    const takeBatch = (now: number): Pending[] => {
      const batch: Pending[] = [];
      const inBatch = new Set<number>();
      let bytes = 0;
      const add = (p: Pending): boolean => {
        const size = api.size(p);
        if (batch.length >= Math.min(api.maxRecords, ctx.limiter.burst) || bytes + size > api.maxBatchBytes) return false;
        batch.push(p);
        inBatch.add(p.event.stream);
        bytes += size;
        return true;
      };
      for (let i = 0; i < retries.length; ) {
        const p = retries[i] as Pending;
        if (p.readyAt <= now && !(api.onePerStream && inBatch.has(p.event.stream)) && add(p)) retries.splice(i, 1);
        else i++;
      }
      // Round-robin over the idle streams, so every batch carries many partition keys.
      for (let progress = true; progress; ) {
        progress = false;
        for (const stream of streams) {
          if (busy.has(stream.index) || (api.onePerStream && inBatch.has(stream.index))) continue;
          // A stream with a record waiting to be retried sends nothing newer first (onePerStream: order).
          if (api.onePerStream && retries.some((r) => r.event.stream === stream.index)) continue;
          const p = fresh(stream);
          if (!p) continue;
          const size = api.size(p);
          if (size > api.maxRecordBytes) {
            this.fail(p, ctx, `record of ${size} bytes is over the ${api.service} limit of ${api.maxRecordBytes} bytes`);
            progress = true;
            continue;
          }
          if (!add(p)) {
            held.set(stream.index, p);
            return batch;
          }
          progress = true;
        }
      }
      return batch;
    };

    for (;;) {
      if (fatal !== undefined || performance.now() > ctx.deadline) break;
      // A throttled target is full: sending fresh records would only take the room retries need.
      if (this.pauseUntil > performance.now()) await sleep(this.pauseUntil - performance.now());
      const batch = takeBatch(performance.now());
      if (batch.length === 0) {
        if (exhausted() && retries.length === 0 && inFlight.size === 0) return;
        const soonest = retries.reduce((t, p) => Math.min(t, p.readyAt), Infinity);
        const waits: Promise<unknown>[] = [...inFlight];
        if (soonest < Infinity) waits.push(sleep(soonest - performance.now()));
        await Promise.race(waits);
        continue;
      }
      const streamsInBatch = new Set(batch.map((p) => p.event.stream));
      for (const s of streamsInBatch) busy.add(s);
      await ctx.limiter.take(batch.length);
      const call: Promise<void> = this.put(batch, ctx, retries)
        .then((error) => {
          if (error !== undefined) fatal = error;
        })
        .finally(() => {
          for (const s of streamsInBatch) busy.delete(s);
          inFlight.delete(call);
        });
      inFlight.add(call);
      if (inFlight.size >= BATCH_CONCURRENCY) await Promise.race(inFlight);
    }

    await Promise.all(inFlight);
    const reason = fatal ?? OUT_OF_TIME;
    for (const p of retries.splice(0)) this.fail(p, ctx, reason);
    for (const p of held.values()) this.fail(p, ctx, reason);
    held.clear();
    failRemaining(streams, ctx, reason);
  }

  private fail(p: Pending, ctx: DeliveryContext, error: string): void {
    ctx.stats.recordFailed({ stream: p.event.stream, index: p.event.index, eventType: p.event.eventType, error });
    ctx.onSettled?.(1);
  }

  /** Retries a record later, or fails it when its attempts (and, throttled, its TTL) are used up. */
  private requeue(p: Pending, ctx: DeliveryContext, retries: Pending[], error: string, throttled: boolean): void {
    const throttledWithTime = throttled && performance.now() - (p.firstAttemptAt ?? 0) < this.throttledRecordTtlMs;
    if (p.attempts >= ctx.retry.maxAttempts && !throttledWithTime) {
      this.fail(p, ctx, `${error} after ${p.attempts} attempts`);
      return;
    }
    ctx.stats.retried += 1;
    p.readyAt = performance.now() + backoffDelay(ctx.retry, p.attempts);
    retries.push(p);
  }

  /** One call; returns an error message when the target cannot take any record. */
  private async put(batch: Pending[], ctx: DeliveryContext, retries: Pending[]): Promise<string | undefined> {
    for (const p of batch) {
      p.attempts++;
      p.firstAttemptAt ??= performance.now();
    }
    const started = performance.now();
    try {
      const results = await this.api.put(batch);
      ctx.stats.recordLatency(performance.now() - started);
      this.noteThrottling(
        results.some((r) => !r.ok && this.api.throttleCodes.has(r.code)),
        ctx,
      );
      batch.forEach((p, i) => {
        const r = results[i];
        if (r?.ok) {
          ctx.stats.recordSent(p.event.eventType);
          ctx.onSettled?.(1);
        } else if (!r) {
          this.requeue(p, ctx, retries, "no result for the record", false);
        } else if (r.retryable) {
          this.requeue(p, ctx, retries, `${r.code}: ${r.message}`.trim(), this.api.throttleCodes.has(r.code));
        } else {
          this.fail(p, ctx, `${r.code}: ${r.message}`.trim());
        }
      });
      return undefined;
    } catch (err) {
      ctx.stats.recordLatency(performance.now() - started);
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const message = `${e.name ?? "Error"}: ${e.message ?? String(err)}`;
      const status = e.$metadata?.httpStatusCode;
      if (this.api.retryableCallErrors.has(e.name ?? "") || status === undefined || status >= 500) {
        this.noteThrottling(true, ctx);
        for (const p of batch) this.requeue(p, ctx, retries, message, this.api.throttleCodes.has(e.name ?? ""));
        return undefined;
      }
      for (const p of batch) this.fail(p, ctx, message);
      return message;
    }
  }

  private noteThrottling(throttled: boolean, ctx: DeliveryContext): void {
    if (!throttled) {
      this.throttledCalls = 0;
      return;
    }
    this.throttledCalls++;
    const wait = Math.max(ctx.retry.baseDelayMs, backoffDelay(ctx.retry, this.throttledCalls));
    this.pauseUntil = Math.max(this.pauseUntil, performance.now() + wait);
  }

  async close(): Promise<void> {
    this.api.destroy();
  }
}
