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
  /** The second copy of a record dirt duplicated, sent right after the first. */
  private pending: StreamEvent | undefined;

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
      ...(request.dirty ? { dirty: request.dirty } : {}),
      ...(request.schema !== undefined ? { schema: request.schema } : {}),
    });
  }

  /** Dirty events injected so far, by kind. */
  get dirtyCounts() {
    return this.records.dirtyCounts;
  }

  /** Kinesis partition key: one per stream, so a stream's records share a shard. */
  get partitionKey(): string {
    return `${this.request.runId}:${this.index}`;
  }

  /** Events this stream sends: a scenario dataset's entities under its roots, else events_per_stream. */
  private get length(): number {
    return this.request.streamEvents?.[this.index] ?? this.request.eventsPerStream;
  }

  get remaining(): number {
    return this.length - this.nextIndex + (this.pending ? 1 : 0);
  }

  next(): StreamEvent | undefined {
    if (this.pending) {
      const copy = this.pending;
      this.pending = undefined;
      return copy;
    }
    if (this.nextIndex >= this.length) return undefined;
    const index = this.nextIndex++;
    const [body, duplicate] = this.records.line(index).text.slice(0, -1).split("\n") as [string, string?];
    const event = {
      stream: this.index,
      index,
      eventType: EVENT_TYPE.exec(body)?.[1] ?? "record",
      body,
      idempotencyKey: `${this.request.runId}:${this.index}:${index}`,
    };
    // A duplicate is a second delivery with its own key, so an idempotent receiver still sees it.
    if (duplicate !== undefined) this.pending = { ...event, body: duplicate, idempotencyKey: `${event.idempotencyKey}:dup` };
    return event;
  }
}

export function openStreams(request: EmitRequest): EventStream[] {
  return Array.from({ length: request.streamCount }, (_, s) => new EventStream(request, s));
}
