import { ValidationError } from "../core/errors";
import { isoMicros, Micros, valueAt } from "./canonical";
import type { ExpectedRun } from "./expected";

/** What verify checks of an emit run besides its records: the streams' order, idempotency keys, the delay from send to landing. */
export interface EventChecksOptions {
  /** The output column holding each event's idempotency key as the target received it (`{run_id}:{stream}:{index}`, `:dup` for dirt's second copy). */
  readonly idempotencyField?: string;
  /** The output column holding when the event was sent (e.g. the `Synthgen-Sent-At` header an HTTP collector kept). */
  readonly sentField?: string;
  /** The output column holding when the event landed; with `sentField`, the end-to-end delay. It also orders the landing. */
  readonly arrivalField?: string;
  /** A stream's events landing out of the order they were sent fails the check (Kinesis and the HTTP target keep a stream's order; Firehose need not). */
  readonly ordered?: boolean;
}

const EXAMPLES = 3;

/**
 * What the event checks read of one output row: when it landed and was sent (epoch ms; undefined
 * when the column is not named, or holds no instant), and its idempotency key's text (undefined
 * when not named, or null, missing or empty). Read once where the row is read, so a stored digest
 * carries it to the merge.
 */
export interface EventFields {
  readonly arrival: number | undefined;
  readonly sent: number | undefined;
  readonly key: string | undefined;
}

/** The value of an output column in a row: a CSV cell by its name, else by its dotted path (or a name with dots, if the row has it). */
function columnOf(values: Record<string, unknown>, textual: boolean, field: string): unknown {
  if (Object.hasOwn(values, field)) return values[field];
  return textual ? undefined : valueAt(values, field.split("."));
}

/** The event fields of one output row, as `options` name them. */
export function eventFieldsOf(options: EventChecksOptions, values: Record<string, unknown>, textual: boolean): EventFields {
  const at = (field: string | undefined) => (field === undefined ? undefined : instantMs(columnOf(values, textual, field)));
  let key: string | undefined;
  if (options.idempotencyField !== undefined) {
    const v = columnOf(values, textual, options.idempotencyField);
    if (v !== undefined && v !== null && v !== "") key = String(v);
  }
  return { arrival: at(options.arrivalField), sent: at(options.sentField), key };
}

/** An instant a row holds (ISO text, SQL's form, epoch milliseconds, a Parquet TIMESTAMP) in epoch milliseconds. */
export function instantMs(value: unknown): number | undefined {
  if (value instanceof Micros) return Number(value.value) / 1000;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "string") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  const us = isoMicros(value);
  return us === undefined ? undefined : Number(us) / 1000;
}

/** `p` (0–1) of sorted values, nearest rank. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * The event checks of an emit run, row by row: each stream's landing order (by the arrival column
 * when named, else the order rows are read: files in key order, as S3 lists them), each row's
 * idempotency key against the event it holds (a key landing twice is a redelivery the pipeline
 * did not drop), and the delay from sent to landed. Memory: 8 bytes per expected record for the
 * landing order, 8 per found record for delays, 1 for keys.
 */
export class EventChecks {
  /** Per record, when its first copy landed (arrival ms, or its row's sequence number); NaN: not found. */
  private readonly landed: Float64Array;
  private readonly streamOf: Int32Array;
  private readonly delays: number[] = [];
  private readonly keysSeen: Uint8Array | undefined;
  private sequence = 0;
  private redelivered = 0;
  private withoutKey = 0;
  private mismatched = 0;
  private withoutTimes = 0;
  private readonly redeliveredExamples: { key: string; file: string; line: number }[] = [];
  private readonly mismatchedExamples: { key: unknown; expected: string; file: string; line: number }[] = [];

  constructor(
    private readonly expected: ExpectedRun,
    private readonly runId: string,
    private readonly options: EventChecksOptions,
  ) {
    if (options.sentField !== undefined && options.arrivalField === undefined) {
      throw new ValidationError("arrival_field", "--sent-field needs --arrival-field: the delay is from the one to the other");
    }
    this.landed = new Float64Array(expected.records).fill(Number.NaN);
    this.streamOf = new Int32Array(expected.records);
    expected.files.forEach((f, s) => {
      this.streamOf.fill(s, f.first, f.first + f.count);
    });
    if (options.idempotencyField !== undefined) this.keysSeen = new Uint8Array(expected.records);
  }

  /** The output columns these checks read (not reported as columns the run did not generate). */
  get fields(): string[] {
    return [this.options.idempotencyField, this.options.sentField, this.options.arrivalField].filter((f): f is string => f !== undefined);
  }

  /** One output row matched to record `index`; `first` when no copy of it was found before. */
  row(index: number, first: boolean, fields: EventFields, file: string, line: number): void {
    const seq = this.sequence++;
    const o = this.options;
    const arrival = fields.arrival;
    if (first) {
      this.landed[index] = o.arrivalField === undefined ? seq : (arrival ?? Number.NaN);
      if (o.sentField !== undefined) {
        const sent = fields.sent;
        if (sent === undefined || arrival === undefined) this.withoutTimes++;
        else this.delays.push(arrival - sent);
      } else if (o.arrivalField !== undefined && arrival === undefined) this.withoutTimes++;
    }
    if (this.keysSeen && o.idempotencyField !== undefined) {
      const text = fields.key;
      if (text === undefined) {
        this.withoutKey++;
        return;
      }
      const dup = text.endsWith(":dup");
      const body = dup ? text.slice(0, -4) : text;
      const stream = this.streamOf[index] as number;
      const at = index - (this.expected.files[stream] as { first: number }).first;
      const want = `${this.runId}:${stream}:${at}`;
      if (body !== want) {
        this.mismatched++;
        if (this.mismatchedExamples.length < EXAMPLES) this.mismatchedExamples.push({ key: text, expected: want, file, line });
        return;
      }
      const bit = dup ? 2 : 1;
      const seen = this.keysSeen[index] as number;
      if ((seen & bit) !== 0) {
        this.redelivered++;
        if (this.redeliveredExamples.length < EXAMPLES) this.redeliveredExamples.push({ key: text, file, line });
      } else this.keysSeen[index] = seen | bit;
    }
  }

  /** After every row: a named column the output lacks is an error, not a silent pass (`seen`: its columns, top-level). */
  checkColumns(seen: ReadonlySet<string>): void {
    const flags: Record<string, string | undefined> = { "--idempotency-field": this.options.idempotencyField, "--sent-field": this.options.sentField, "--arrival-field": this.options.arrivalField };
    for (const [flag, field] of Object.entries(flags)) {
      if (field === undefined || seen.has(field) || seen.has(field.split(".")[0] as string)) continue;
      throw new ValidationError(flag.slice(2).replace("-", "_"), `${flag} ${field}: the output has no column "${field}"; its columns: ${[...seen].join(", ")}`);
    }
  }

  /** Each stream's events that landed after an event sent later than them. */
  private order() {
    const streams: { stream: number; out_of_order: number; first_example?: { event: number; landed_after_event: number } }[] = [];
    let total = 0;
    this.expected.files.forEach((f, s) => {
      // An event is out of order when one sent after it landed before it: the minimum landing of the later events, from the end.
      let laterMin = Number.POSITIVE_INFINITY;
      let laterAt = -1;
      let n = 0;
      let example: { event: number; landed_after_event: number } | undefined;
      for (let i = f.first + f.count - 1; i >= f.first; i--) {
        const t = this.landed[i] as number;
        if (Number.isNaN(t)) continue;
        if (t > laterMin) {
          n++;
          example = { event: i - f.first, landed_after_event: laterAt - f.first };
        } else {
          laterMin = t;
          laterAt = i;
        }
      }
      total += n;
      if (n > 0) streams.push({ stream: s, out_of_order: n, ...(example ? { first_example: example } : {}) });
    });
    return { total, streams };
  }

  /** The report's `events` part, and what fails the check. */
  report(): { events: Record<string, unknown>; failedBy: string[] } {
    const o = this.options;
    const order = this.order();
    const failedBy: string[] = [];
    if (o.ordered && order.total > 0) failedBy.push("out of order");
    if (this.mismatched > 0 || this.withoutKey > 0) failedBy.push("idempotency keys");
    const events: Record<string, unknown> = {
      streams: this.expected.files.length,
      order: {
        judged_by: o.arrivalField !== undefined ? `the ${o.arrivalField} column` : "the order rows were read (files in key order, rows in file order)",
        required: o.ordered === true,
        out_of_order: order.total,
        streams_out_of_order: order.streams.length,
        ...(order.streams.length ? { by_stream: order.streams.slice(0, 20) } : {}),
      },
    };
    if (o.idempotencyField !== undefined) {
      events.idempotency = {
        field: o.idempotencyField,
        redelivered: this.redelivered,
        without_key: this.withoutKey,
        mismatched: this.mismatched,
        ...(this.redeliveredExamples.length ? { redelivered_examples: this.redeliveredExamples } : {}),
        ...(this.mismatchedExamples.length ? { mismatched_examples: this.mismatchedExamples } : {}),
      };
    }
    if (o.sentField !== undefined) {
      const sorted = Float64Array.from(this.delays).sort();
      events.delay_ms = {
        from: o.sentField,
        to: o.arrivalField,
        events: sorted.length,
        ...(this.withoutTimes ? { without_times: this.withoutTimes } : {}),
        ...(sorted.length
          ? {
              min: round(sorted[0] as number),
              p50: round(percentile(sorted, 0.5)),
              p95: round(percentile(sorted, 0.95)),
              p99: round(percentile(sorted, 0.99)),
              max: round(sorted[sorted.length - 1] as number),
              ...(sorted[0] !== undefined && sorted[0] < 0 ? { negative: sorted.filter((d) => d < 0).length, note: "landed before sent: the two clocks differ" } : {}),
            }
          : {}),
      };
    } else if (o.arrivalField !== undefined && this.withoutTimes) events.rows_without_arrival = this.withoutTimes;
    return { events, failedBy };
  }
}
