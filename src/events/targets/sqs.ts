import { createHash } from "node:crypto";
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import { awsClientConfig, BatchEventSink, retryableCalls, type BatchApi, type EntryResult, type Pending } from "./batch";

/**
 * SendMessageBatch limits: 10 messages, 262,144 bytes for the whole call and for one message
 * (body and attributes). SQS raised its message size to 1 MiB in 2025; the older, stricter
 * figure is kept so queues and consumers that have not moved still take every batch.
 */
export const SQS_LIMITS = Object.freeze({ MAX_RECORDS: 10, MAX_BATCH_BYTES: 262_144, MAX_RECORD_BYTES: 262_144 });
/** The message attribute carrying an event's idempotency key. */
export const SQS_KEY_ATTRIBUTE = "idempotency_key";

export interface SqsSinkOptions {
  readonly queueUrl: string;
  readonly region?: string;
  /** An SQS-compatible endpoint (a loopback stand-in). */
  readonly endpoint?: string;
}

/**
 * SendMessageBatch on one queue. A FIFO queue (name ending `.fifo`) gets each stream as a message
 * group (`{run_id}:{stream}`), a deduplication id from the event's idempotency key (so SQS drops a
 * repeat within its 5-minute window, such as a whole call retried after a lost answer), and at
 * most one message of a group per call, so a partial failure cannot reorder a group.
 */
class SqsApi implements BatchApi {
  readonly service = "SQS";
  readonly maxRecords = SQS_LIMITS.MAX_RECORDS;
  readonly maxBatchBytes = SQS_LIMITS.MAX_BATCH_BYTES;
  readonly maxRecordBytes = SQS_LIMITS.MAX_RECORD_BYTES;
  readonly retryableCallErrors = retryableCalls("KmsThrottled", "AWS.SimpleQueueService.RequestThrottled");
  readonly throttleCodes = new Set(["RequestThrottled", "ThrottlingException", "KmsThrottled"]);
  readonly onePerStream: boolean;
  readonly client: SQSClient;

  constructor(private readonly options: SqsSinkOptions) {
    this.onePerStream = options.queueUrl.endsWith(".fifo");
    this.client = new SQSClient(awsClientConfig(options));
  }

  /** Body, and the attribute's name, type and value, as SQS counts a message's size. */
  size(p: Pending): number {
    return p.data.length + SQS_KEY_ATTRIBUTE.length + "String".length + Buffer.byteLength(p.event.idempotencyKey);
  }

  async put(batch: readonly Pending[]): Promise<EntryResult[]> {
    const fifo = this.onePerStream;
    const entries: SendMessageBatchRequestEntry[] = batch.map((p, i) => ({
      Id: `m${i}`,
      MessageBody: p.data.toString("utf8"),
      MessageAttributes: { [SQS_KEY_ATTRIBUTE]: { DataType: "String", StringValue: p.event.idempotencyKey } },
      ...(fifo ? { MessageGroupId: p.partitionKey, MessageDeduplicationId: createHash("sha256").update(p.event.idempotencyKey).digest("hex") } : {}),
    }));
    const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }));
    const ok = new Set((out.Successful ?? []).map((s) => s.Id));
    const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
    return entries.map((entry): EntryResult => {
      if (ok.has(entry.Id)) return { ok: true };
      const f = failed.get(entry.Id);
      // SenderFault: the message itself is wrong (too large, bad characters); another attempt would fail the same way.
      return { ok: false, code: f?.Code ?? "NoResult", message: f?.Message ?? "no result for the message", retryable: !(f?.SenderFault ?? false) };
    });
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** Sends events to an SQS queue in SendMessageBatch calls; see `BatchEventSink`. */
export class SqsEventSink extends BatchEventSink {
  constructor(options: SqsSinkOptions) {
    super(new SqsApi(options));
  }
}
