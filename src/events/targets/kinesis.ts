import { KinesisClient, ListShardsCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import type { ShardRange } from "../fan-out";
import { awsClientConfig, BatchEventSink, retryableCalls, type BatchApi, type EntryResult, type Pending } from "./batch";

/** PutRecords limits (Kinesis Data Streams quotas): per call, and per record (data + partition key). */
export const KINESIS_LIMITS = Object.freeze({ MAX_RECORDS: 500, MAX_BATCH_BYTES: 5 * 1024 * 1024, MAX_RECORD_BYTES: 1024 * 1024 });

export interface KinesisSinkOptions {
  readonly streamName: string;
  readonly region?: string;
  /** A Kinesis-compatible endpoint (kinesalite); spoken to over HTTP/1.1. */
  readonly endpoint?: string;
  /** How long a throttled record keeps being retried past its attempts. Default 30 s. */
  readonly throttledRecordTtlMs?: number;
}

const THROTTLED = "ProvisionedThroughputExceededException";

/** PutRecords on one data stream: 500 records, 5 MiB, 1 MiB a record (data + partition key), one partition key per stream. */
class KinesisApi implements BatchApi {
  readonly service = "Kinesis";
  readonly maxRecords = KINESIS_LIMITS.MAX_RECORDS;
  readonly maxBatchBytes = KINESIS_LIMITS.MAX_BATCH_BYTES;
  readonly maxRecordBytes = KINESIS_LIMITS.MAX_RECORD_BYTES;
  readonly retryableCallErrors = retryableCalls(THROTTLED, "LimitExceededException", "KMSThrottlingException");
  readonly throttleCodes = new Set([THROTTLED]);
  readonly client: KinesisClient;

  constructor(private readonly options: KinesisSinkOptions) {
    this.client = new KinesisClient(awsClientConfig(options));
  }

  size(p: Pending): number {
    return p.data.length + p.partitionKey.length;
  }

  async put(batch: readonly Pending[]): Promise<EntryResult[]> {
    const out = await this.client.send(new PutRecordsCommand({ StreamName: this.options.streamName, Records: batch.map((p) => ({ Data: p.data, PartitionKey: p.partitionKey })) }));
    return batch.map((_, i) => {
      const r = out.Records?.[i];
      if (r && !r.ErrorCode && r.SequenceNumber) return { ok: true };
      // Every per-record error (throttled shard, internal failure, KMS) is worth another attempt.
      return { ok: false, code: r?.ErrorCode ?? "NoResult", message: r?.ErrorMessage ?? "no result for the record", retryable: true };
    });
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

  destroy(): void {
    this.client.destroy();
  }
}

/**
 * Sends events to a Kinesis data stream in PutRecords batches within the service limits, one
 * partition key per stream (`{run_id}:{stream}`). Records a partial failure returns (throttled
 * shards) go back in the queue with backoff; see `BatchEventSink`.
 */
export class KinesisEventSink extends BatchEventSink {
  constructor(options: KinesisSinkOptions) {
    super(new KinesisApi(options), options.throttledRecordTtlMs);
  }
}
