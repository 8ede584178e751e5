import { KinesisClient, ListShardsCommand, PutRecordsCommand, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { failRemaining, OUT_OF_TIME, type DeliveryContext, type EventSink } from "../events/emit";
import type { ShardRange } from "../events/fan-out";
import type { EventStream, StreamEvent } from "../events/streams";
import { ValidationError } from "../errors";
import { backoffDelay, sleep } from "../retry";

/** PutRecords limits (Kinesis Data Streams quotas): per call, and per record (data + partition key). */
export const KINESIS_LIMITS = Object.freeze({ MAX_RECORDS: 500, MAX_BATCH_BYTES: 5 * 1024 * 1024, MAX_RECORD_BYTES: 1024 * 1024 });
/** PutRecords calls in flight at most. */
export const KINESIS_CONCURRENCY = 4;

/** Whole-call errors worth retrying; anything else (no such stream, access denied) ends the run. */
const RETRYABLE_CALL_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "KMSThrottlingException",
  "InternalFailure",
  "ServiceUnavailable",
  "ThrottlingException",
  "TimeoutError",
  "RequestTimeout",
]);

interface Pending {
  readonly event: StreamEvent;
  readonly data: Buffer;
  readonly partitionKey: string;
  attempts: number;
  readyAt: number;
  firstAttemptAt?: number;
}

export interface KinesisSinkOptions {
  readonly streamName: string;
  readonly region?: string;
  /** A Kinesis-compatible endpoint (kinesalite); spoken to over HTTP/1.1. */
  readonly endpoint?: string;
  /**
   * How long a throttled record keeps being retried past its attempts, as the Kinesis Producer
   * Library's record TTL: throttling means "later", not "never". Default 30 s.
   */
  readonly throttledRecordTtlMs?: number;
}

const THROTTLED = "ProvisionedThroughputExceededException";
export const DEFAULT_THROTTLED_RECORD_TTL_MS = 30_000;

/**
 * Sends events to a Kinesis data stream in PutRecords batches within the service limits (500
 * records, 5 MiB, 1 MiB a record), one partition key per stream. Records a partial failure
 * returns (throttled shards) go back in the queue with backoff and full jitter; they are never
 * dropped silently. Order within a stream holds unless a record had to be retried.
 */
export class KinesisEventSink implements EventSink {
  private readonly client: KinesisClient;
  /** Calls in a row that came back throttled; the whole sender backs off, not just the records. */
  private throttledCalls = 0;
  private pauseUntil = 0;

  constructor(private readonly options: KinesisSinkOptions) {
    this.client = new KinesisClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint, requestHandler: new NodeHttpHandler() } : {}),
    });
  }

  /** A missing region or credentials fails every call the same way: say what to set, once. */
  async preflight(): Promise<void> {
    try {
      await this.client.config.region();
    } catch {
      throw new ValidationError("AWS_REGION", "Kinesis needs a region: set AWS_REGION (for example AWS_REGION=us-east-1), or a region in the AWS_PROFILE you use");
    }
    try {
      await this.client.config.credentials();
    } catch (err) {
      throw new ValidationError(
        "credentials",
        `Kinesis needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (${(err as Error).message.split("\n")[0]})`,
      );
    }
  }

  /** The stream's open shards (ListShards, every page), for the fan-out's quota check. */
  async shards(): Promise<ShardRange[]> {
    const shards: ShardRange[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.options.streamName }));
      for (const s of out.Shards ?? []) {
        if (s.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue;
        shards.push({ shardId: s.ShardId as string, start: BigInt(s.HashKeyRange?.StartingHashKey ?? "0"), end: BigInt(s.HashKeyRange?.EndingHashKey ?? "0") });
      }
      token = out.NextToken;
    } while (token);
    return shards;
  }

  async deliver(streams: readonly EventStream[], ctx: DeliveryContext): Promise<void> {
    const retries: Pending[] = [];
    const inFlight = new Set<Promise<void>>();
    let fatal: string | undefined;
    // A stream with records in flight waits for them, so its records reach the shard in order
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
      return event && { event, data: Buffer.from(event.body, "utf8"), partitionKey: stream.partitionKey, attempts: 0, readyAt: 0 };
    };
    const exhausted = () => held.size === 0 && streams.every((s) => s.remaining === 0);

    const takeBatch = (now: number): Pending[] => {
      const batch: Pending[] = [];
      let bytes = 0;
      const add = (p: Pending): boolean => {
        const size = p.data.length + p.partitionKey.length;
        if (batch.length >= Math.min(KINESIS_LIMITS.MAX_RECORDS, ctx.limiter.burst) || bytes + size > KINESIS_LIMITS.MAX_BATCH_BYTES) return false;
        batch.push(p);
        bytes += size;
        return true;
      };
      for (let i = 0; i < retries.length; ) {
        const p = retries[i] as Pending;
        if (p.readyAt <= now && add(p)) retries.splice(i, 1);
        else i++;
      }
      // Round-robin over the idle streams, so every batch carries many partition keys.
      for (let progress = true; progress; ) {
        progress = false;
        for (const stream of streams) {
          if (busy.has(stream.index)) continue;
          const p = fresh(stream);
          if (!p) continue;
          const size = p.data.length + p.partitionKey.length;
          if (size > KINESIS_LIMITS.MAX_RECORD_BYTES) {
            this.fail(p, ctx, `record of ${size} bytes is over the Kinesis limit of 1 MiB`);
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
      // A throttled stream is full: sending fresh records would only take the room retries need.
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
      if (inFlight.size >= KINESIS_CONCURRENCY) await Promise.race(inFlight);
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
  private requeue(p: Pending, ctx: DeliveryContext, retries: Pending[], error: string): void {
    const ttl = this.options.throttledRecordTtlMs ?? DEFAULT_THROTTLED_RECORD_TTL_MS;
    const throttledWithTime = error.startsWith(THROTTLED) && performance.now() - (p.firstAttemptAt ?? 0) < ttl;
    if (p.attempts >= ctx.retry.maxAttempts && !throttledWithTime) {
      this.fail(p, ctx, `${error} after ${p.attempts} attempts`);
      return;
    }
    ctx.stats.retried += 1;
    p.readyAt = performance.now() + backoffDelay(ctx.retry, p.attempts);
    retries.push(p);
  }

  /** One PutRecords call; returns an error message when the target cannot take any record. */
  private async put(batch: Pending[], ctx: DeliveryContext, retries: Pending[]): Promise<string | undefined> {
    for (const p of batch) {
      p.attempts++;
      p.firstAttemptAt ??= performance.now();
    }
    const records: PutRecordsRequestEntry[] = batch.map((p) => ({ Data: p.data, PartitionKey: p.partitionKey }));
    const started = performance.now();
    try {
      const out = await this.client.send(new PutRecordsCommand({ StreamName: this.options.streamName, Records: records }));
      ctx.stats.recordLatency(performance.now() - started);
      const results = out.Records ?? [];
      this.noteThrottling(results.some((r) => r.ErrorCode === THROTTLED), ctx);
      batch.forEach((p, i) => {
        const r = results[i];
        if (r && !r.ErrorCode && r.SequenceNumber) {
          ctx.stats.recordSent(p.event.eventType);
          ctx.onSettled?.(1);
        } else {
          this.requeue(p, ctx, retries, r?.ErrorCode ? `${r.ErrorCode}: ${r.ErrorMessage ?? ""}`.trim() : "no result for the record");
        }
      });
      return undefined;
    } catch (err) {
      ctx.stats.recordLatency(performance.now() - started);
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const message = `${e.name ?? "Error"}: ${e.message ?? String(err)}`;
      const status = e.$metadata?.httpStatusCode;
      if (RETRYABLE_CALL_ERRORS.has(e.name ?? "") || status === undefined || status >= 500) {
        this.noteThrottling(true, ctx);
        for (const p of batch) this.requeue(p, ctx, retries, message);
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
    this.client.destroy();
  }
}
