import { addCounts, type DirtyCounts } from "../records/dirty";
import { hash32 } from "../core/fields";
import { datasetOf } from "../datasets";
import { RecordSource, type RecordTap } from "../records/record-source";
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
  /** The run's dataset (an EventBridge event's source names it). */
  readonly dataset: string;
}

const EVENT_TYPE = /"event_type":"([^"]*)"/;

/**
 * One of a run's concurrent streams: its events in order. Stream s produces the records file s of
 * the same run identity would hold, so `synthgen generate` can write the very events to files.
 */
export class EventStream {
  private records: RecordSource;
  /** The block `records` renders, and the dirt counted before this stream's first event of it. */
  private block: number;
  private dirtBefore: DirtyCounts | undefined;
  private dirtDone: DirtyCounts = {};
  private nextIndex: number;
  private readonly end: number;
  /** The second copy of a record dirt duplicated, sent right after the first. */
  private pending: StreamEvent | undefined;

  /** Events [first, first + count) of the stream; by default all of them. `tap` sees each record made (as `RecordSource`'s; for verify). */
  constructor(
    private readonly request: EmitRequest,
    readonly index: number,
    first = 0,
    count = request.streamEvents?.[index] ?? request.eventsPerStream,
    private readonly tap?: RecordTap,
  ) {
    this.nextIndex = first;
    this.end = first + count;
    this.block = this.blockOf(first);
    this.records = this.open(this.block);
    this.skipTo(first);
  }

  private blockOf(index: number): number {
    return this.request.blockEvents ? Math.floor(index / this.request.blockEvents) : 0;
  }

  /**
   * Block k's records (a fan-out's streams come in blocks of `blockEvents`, so an emitter can start
   * a stream mid-way by rendering at most one block's records before its first): block 0 is the
   * stream's own identity, block k > 0 the same with a seed derived from the run's and k.
   */
  private open(block: number): RecordSource {
    const r = this.request;
    const id = {
      dataset: r.dataset,
      seed: block === 0 ? r.seed : hash32(`block:${r.seed}:${block}`),
      runId: r.runId,
      datePrefix: r.datePrefix,
      hhmmss: r.hhmmss,
      fileIndex: this.index,
      fileCount: r.streamCount,
      ...(r.eventWeights ? { eventWeights: r.eventWeights } : {}),
      ...(r.dirty ? { dirty: r.dirty } : {}),
      ...(r.schema !== undefined ? { schema: r.schema } : {}),
    };
    return new RecordSource(id, datasetOf(id), undefined, this.tap);
  }

  /** Renders and drops the block's records before `index`; their dirt is not this stream's. */
  private skipTo(index: number): void {
    const start = this.block * (this.request.blockEvents ?? 0);
    for (let i = start; i < index; i++) this.records.line(i - start);
    this.dirtBefore = this.records.dirtyCounts && { ...this.records.dirtyCounts };
  }

  /** Dirty events injected so far, by kind. */
  get dirtyCounts(): DirtyCounts | undefined {
    const now = this.records.dirtyCounts;
    if (!now) return undefined;
    const counts = addCounts({ ...this.dirtDone }, now);
    for (const [k, n] of Object.entries(this.dirtBefore ?? {})) counts[k as keyof DirtyCounts] = (counts[k as keyof DirtyCounts] ?? 0) - (n as number);
    return counts;
  }

  /** Kinesis partition key: one per stream, so a stream's records share a shard. */
  get partitionKey(): string {
    return `${this.request.runId}:${this.index}`;
  }

  get remaining(): number {
    return this.end - this.nextIndex + (this.pending ? 1 : 0);
  }

  next(): StreamEvent | undefined {
    if (this.pending) {
      const copy = this.pending;
      this.pending = undefined;
      return copy;
    }
    if (this.nextIndex >= this.end) return undefined;
    const index = this.nextIndex++;
    const block = this.blockOf(index);
    if (block !== this.block) {
      this.dirtDone = this.dirtyCounts ?? {};
      this.block = block;
      this.records = this.open(block);
      this.skipTo(index);
    }
    const offset = index - block * (this.request.blockEvents ?? 0);
    const [body, duplicate] = this.records.line(offset).text.slice(0, -1).split("\n") as [string, string?];
    const event = {
      stream: this.index,
      index,
      eventType: EVENT_TYPE.exec(body)?.[1] ?? "record",
      body,
      idempotencyKey: `${this.request.runId}:${this.index}:${index}`,
      dataset: this.request.dataset,
    };
    // A duplicate is a second delivery with its own key, so an idempotent receiver still sees it.
    if (duplicate !== undefined) this.pending = { ...event, body: duplicate, idempotencyKey: `${event.idempotencyKey}:dup` };
    return event;
  }
}

/** The streams a request sends: all of them, or a fan-out cell's ranges of its own. */
export function openStreams(request: EmitRequest): EventStream[] {
  if (request.cell) return request.cell.streams.map((s) => new EventStream(request, s.index, s.first, s.count));
  return Array.from({ length: request.streamCount }, (_, s) => new EventStream(request, s));
}

/** Mean bytes of the run's events, from the first events of a few streams. */
export function meanEventBytes(request: EmitRequest): number {
  let bytes = 0;
  let n = 0;
  for (let s = 0; s < Math.min(4, request.streamCount); s++) {
    const stream = new EventStream(request, s, 0, Math.min(50, request.streamEvents?.[s] ?? request.eventsPerStream));
    for (let ev = stream.next(); ev; ev = stream.next()) {
      bytes += Buffer.byteLength(ev.body);
      n++;
    }
  }
  return n ? bytes / n : 0;
}
