import { RecordSource } from "../render";
import type { EmitRequest } from "./request";

/** One event, ready to send: its JSON text and where it belongs. */
export interface StreamEvent {
  readonly stream: number;
  readonly index: number;
  readonly eventType: string;
  /** The record's JSON text, no trailing newline. */
  readonly body: string;
  /** A stable id of this event in this run, for idempotent receivers: `{run_id}:{stream}:{index}`. */
  readonly idempotencyKey: string;
}

const EVENT_TYPE = /"event_type":"([^"]*)"/;

/**
 * One of a run's concurrent streams: its events in order. Stream s produces the records file s of
 * the same run identity would hold, so `synthgen generate` can write the very events to files.
 */
export class EventStream {
  private readonly records: RecordSource;
  private nextIndex = 0;

  constructor(
    private readonly request: EmitRequest,
    readonly index: number,
  ) {
    this.records = new RecordSource({
      dataset: request.dataset,
      seed: request.seed,
      runId: request.runId,
      datePrefix: request.datePrefix,
      hhmmss: request.hhmmss,
      fileIndex: index,
      fileCount: request.streamCount,
      ...(request.eventWeights ? { eventWeights: request.eventWeights } : {}),
    });
  }

  /** Kinesis partition key: one per stream, so a stream's records share a shard. */
  get partitionKey(): string {
    return `${this.request.runId}:${this.index}`;
  }

  get remaining(): number {
    return this.request.eventsPerStream - this.nextIndex;
  }

  next(): StreamEvent | undefined {
    if (this.nextIndex >= this.request.eventsPerStream) return undefined;
    const index = this.nextIndex++;
    const text = this.records.line(index).text;
    const body = text.slice(0, -1);
    return {
      stream: this.index,
      index,
      eventType: EVENT_TYPE.exec(body)?.[1] ?? "record",
      body,
      idempotencyKey: `${this.request.runId}:${this.index}:${index}`,
    };
  }
}

export function openStreams(request: EmitRequest): EventStream[] {
  return Array.from({ length: request.streamCount }, (_, s) => new EventStream(request, s));
}
