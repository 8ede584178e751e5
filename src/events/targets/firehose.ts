import { FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import type { StreamEvent } from "../streams";
import { awsClientConfig, BatchEventSink, retryableCalls, type BatchApi, type EntryResult, type Pending } from "./batch";

/** PutRecordBatch limits (Amazon Data Firehose quotas): 500 records and 4 MiB a call, 1,000 KiB a record. */
export const FIREHOSE_LIMITS = Object.freeze({ MAX_RECORDS: 500, MAX_BATCH_BYTES: 4 * 1024 * 1024, MAX_RECORD_BYTES: 1000 * 1024 });

export interface FirehoseSinkOptions {
  readonly deliveryStreamName: string;
  readonly region?: string;
  /** A Firehose-compatible endpoint (a loopback stand-in). */
  readonly endpoint?: string;
}

/**
 * PutRecordBatch on one Firehose stream. Each record is the event's JSON and a newline, so the
 * objects Firehose lands in S3 are NDJSON. Firehose answers throttling with
 * ServiceUnavailableException (per record or for the call): retried with backoff.
 */
class FirehoseApi implements BatchApi {
  readonly service = "Firehose";
  readonly maxRecords = FIREHOSE_LIMITS.MAX_RECORDS;
  readonly maxBatchBytes = FIREHOSE_LIMITS.MAX_BATCH_BYTES;
  readonly maxRecordBytes = FIREHOSE_LIMITS.MAX_RECORD_BYTES;
  readonly retryableCallErrors = retryableCalls("LimitExceededException");
  readonly throttleCodes = new Set(["ServiceUnavailableException"]);
  readonly client: FirehoseClient;

  constructor(private readonly options: FirehoseSinkOptions) {
    this.client = new FirehoseClient(awsClientConfig(options));
  }

  size(p: Pending): number {
    return p.data.length;
  }

  encode(event: StreamEvent): Buffer {
    return Buffer.from(`${event.body}\n`, "utf8");
  }

  async put(batch: readonly Pending[]): Promise<EntryResult[]> {
    const out = await this.client.send(new PutRecordBatchCommand({ DeliveryStreamName: this.options.deliveryStreamName, Records: batch.map((p) => ({ Data: p.data })) }));
    return batch.map((_, i) => {
      const r = out.RequestResponses?.[i];
      if (r && !r.ErrorCode && r.RecordId) return { ok: true };
      return { ok: false, code: r?.ErrorCode ?? "NoResult", message: r?.ErrorMessage ?? "no result for the record", retryable: true };
    });
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** Sends events to an Amazon Data Firehose stream in PutRecordBatch calls; see `BatchEventSink`. */
export class FirehoseEventSink extends BatchEventSink {
  constructor(options: FirehoseSinkOptions) {
    super(new FirehoseApi(options));
  }
}
