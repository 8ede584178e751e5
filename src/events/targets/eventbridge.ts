import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { awsClientConfig, BatchEventSink, retryableCalls, type BatchApi, type EntryResult, type Pending } from "./batch";

/**
 * PutEvents limits: 10 entries a call and 256 KB for the call's entries, each sized as EventBridge
 * documents (Source, DetailType and Detail in UTF-8 bytes). 256 KB is read as 256,000 bytes, the
 * stricter of the two readings.
 */
export const EVENTBRIDGE_LIMITS = Object.freeze({ MAX_RECORDS: 10, MAX_BATCH_BYTES: 256_000, MAX_RECORD_BYTES: 256_000 });

/** Entry errors another attempt cannot fix. */
const PERMANENT = new Set(["MalformedDetail", "InvalidArgument", "NotAuthorizedForSourceException", "NotAuthorizedForDetailTypeException", "AccessDeniedException"]);

/** An event's source: `synthgen.{dataset}`, so rules can match a dataset (and IAM can allow `synthgen.*` only). */
export const eventSource = (dataset: string) => `synthgen.${dataset}`;

export interface EventBridgeSinkOptions {
  readonly eventBusName: string;
  readonly region?: string;
  /** An EventBridge-compatible endpoint (a loopback stand-in). */
  readonly endpoint?: string;
}

/**
 * PutEvents on one bus: Source `synthgen.{dataset}`, DetailType the event's type, Detail the
 * event's JSON. A malformed event (dirty data) is refused by EventBridge as MalformedDetail and
 * counted failed, not retried.
 */
class EventBridgeApi implements BatchApi {
  readonly service = "EventBridge";
  readonly maxRecords = EVENTBRIDGE_LIMITS.MAX_RECORDS;
  readonly maxBatchBytes = EVENTBRIDGE_LIMITS.MAX_BATCH_BYTES;
  readonly maxRecordBytes = EVENTBRIDGE_LIMITS.MAX_RECORD_BYTES;
  readonly retryableCallErrors = retryableCalls();
  readonly throttleCodes = new Set(["ThrottlingException"]);
  readonly client: EventBridgeClient;

  constructor(private readonly options: EventBridgeSinkOptions) {
    this.client = new EventBridgeClient(awsClientConfig(options));
  }

  size(p: Pending): number {
    return Buffer.byteLength(eventSource(p.event.dataset)) + Buffer.byteLength(p.event.eventType) + p.data.length;
  }

  async put(batch: readonly Pending[]): Promise<EntryResult[]> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: batch.map((p) => ({ EventBusName: this.options.eventBusName, Source: eventSource(p.event.dataset), DetailType: p.event.eventType, Detail: p.data.toString("utf8") })),
      }),
    );
    return batch.map((_, i) => {
      const r = out.Entries?.[i];
      if (r && !r.ErrorCode && r.EventId) return { ok: true };
      const code = r?.ErrorCode ?? "NoResult";
      return { ok: false, code, message: r?.ErrorMessage ?? "no result for the entry", retryable: !PERMANENT.has(code) };
    });
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** Sends events to an EventBridge bus in PutEvents calls; see `BatchEventSink`. */
export class EventBridgeEventSink extends BatchEventSink {
  constructor(options: EventBridgeSinkOptions) {
    super(new EventBridgeApi(options));
  }
}
