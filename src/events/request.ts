import { DATASET_NAMES, WEIGHTABLE_EVENT_TYPES } from "../datasets/names";
import type { ResolvedDataset } from "../records/dataset";
import { parseDirty, type DirtyRates } from "../records/dirty";
import { EMIT_LIMITS } from "./limits";
import { ARRIVALS, constantShape, cumulative, parseShape, peakRate, seconds, shapedTotal, SHAPE_LIMITS, type Arrivals, type RateShape } from "./shape";
import { ValidationError } from "../core/errors";
import {
  IDENTITY_FIELDS,
  choiceField,
  describe,
  eventObject,
  identityEpochMs,
  integerField,
  numberField,
  parseRunIdentity,
  stringField,
  urlField,
  type EventObject,
  type RequestContext,
  type RunIdentity,
} from "../core/fields";

export { EMIT_LIMITS };

/** Limits of a run fanned out over many emit invocations (the emit state machine). */
export const EMIT_FAN_OUT_LIMITS = Object.freeze({
  MAX_STREAMS: 100_000,
  /** 100,000 events/s for a day is 8.64e9. */
  MAX_EVENTS: 10_000_000_000,
  /**
   * A scenario's dataset: its entities are counted stream by stream before the run (the plan walks
   * every ancestor: about 4 million a second by `npm run bench -- --scenarios-only`), so the count
   * stays where the walk takes well under a minute.
   */
  MAX_SCENARIO_EVENTS: 50_000_000,
});

/** Events per block of a fanned-out stream (see `EmitRequest.blockEvents`). */
export const FAN_OUT_BLOCK_EVENTS = 10_000;

/**
 * A stored dataset as a fanned-out run's emitters get it: with each stream's entity count when
 * the plan already walked the scenario for this seed and day, so no emitter walks it again.
 */
export interface EmitDataset extends ResolvedDataset {
  readonly counted?: { readonly seed: number; readonly datePrefix: string; readonly streamEvents: readonly number[] };
}

/** How a request is read: as one invocation's run, or as a whole run the fan-out splits. */
export type EmitMode = "invocation" | "fan-out";

/**
 * Where events go: an HTTP ingestion API (one POST per event), a Kinesis data stream, an Amazon
 * Data Firehose stream, an SQS queue (FIFO when its name ends in `.fifo`) or an EventBridge bus.
 */
export type EventTarget =
  | { readonly kind: "http"; readonly url: string }
  | { readonly kind: "kinesis"; readonly streamName: string }
  | { readonly kind: "firehose"; readonly deliveryStreamName: string }
  | { readonly kind: "sqs"; readonly queueUrl: string }
  | { readonly kind: "eventbridge"; readonly eventBusName: string };

/** The event field naming each kind of target. */
export const TARGET_FIELDS = {
  http: "ingest_api_url",
  kinesis: "kinesis_stream_name",
  firehose: "firehose_stream_name",
  sqs: "sqs_queue_url",
  eventbridge: "event_bus_name",
} as const satisfies Record<EventTarget["kind"], string>;

/** The environment variable naming each kind of target (set from the stack config). */
export const TARGET_VARIABLES = {
  http: "INGEST_API_URL",
  kinesis: "KINESIS_STREAM_NAME",
  firehose: "FIREHOSE_STREAM_NAME",
  sqs: "SQS_QUEUE_URL",
  eventbridge: "EVENT_BUS_NAME",
} as const satisfies Record<EventTarget["kind"], string>;

/** Firehose stream names: 1-64 of letters, digits, `_ . -`. */
export const FIREHOSE_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;
/** SQS queue URLs: https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (or a local endpoint's http://host:port/ACCOUNT/NAME). */
export const SQS_QUEUE_URL_PATTERN = /^https?:\/\/[^/\s]+\/(\d{12})\/([A-Za-z0-9_-]{1,75}(\.fifo)?)$/;
/** EventBridge bus names (`default`, or a custom bus): 1-256 of letters, digits, `/ . - _`. */
export const EVENT_BUS_NAME_PATTERN = /^[/.\-_A-Za-z0-9]{1,256}$/;

/** Checks a target's name or URL; the message names `field` (an event field, a config key or an environment variable). */
export function checkTargetName(kind: EventTarget["kind"], field: string, value: string): void {
  const rules: Partial<Record<EventTarget["kind"], [RegExp, string]>> = {
    kinesis: [STREAM_NAME_PATTERN, `1 to 128 letters, digits, "_", "." or "-"`],
    firehose: [FIREHOSE_NAME_PATTERN, `1 to 64 letters, digits, "_", "." or "-"`],
    sqs: [SQS_QUEUE_URL_PATTERN, "a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/events (or events.fifo)"],
    eventbridge: [EVENT_BUS_NAME_PATTERN, `an event bus name (default, or 1 to 256 letters, digits, "/", ".", "-" or "_")`],
  };
  const rule = rules[kind];
  if (rule && !rule[0].test(value)) throw new ValidationError(field, `${field} must be ${rule[1]} (got ${describe(value)})`);
}

export interface EmitRequest extends RunIdentity {
  readonly target: EventTarget;
  readonly dataset: string;
  readonly streamCount: number;
  readonly eventsPerStream: number;
  /** A cap on the whole run's rate; undefined sends as fast as the target takes them. */
  readonly eventsPerSecond: number | undefined;
  readonly maxFailedRatio: number;
  /** Per-request timeout for HTTP targets. */
  readonly requestTimeoutMs: number;
  readonly eventWeights: Readonly<Record<string, number>> | undefined;
  readonly dirty: DirtyRates | undefined;
  /** A declarative dataset (parsed schema) used instead of a built-in; the CLI loads it from a file. */
  readonly schema?: unknown;
  /**
   * The events of each stream when the dataset fixes them: a scenario's dataset, whose stream s
   * sends the entities of file s of `stream_count` (and `events_per_stream` does not apply).
   */
  readonly streamEvents?: readonly number[];
  /** A load shape: the rate over time, and for how long (then the shape decides how many events). */
  readonly shape?: RateShape;
  readonly arrivals: Arrivals;
  /** Events split across streams by Zipf weights (stream 0 the hottest) instead of evenly. */
  readonly streamSkew?: { readonly zipf: number };
  /**
   * A fanned-out run's streams come in blocks of this many events, each rendered from its own
   * seed, so an emitter starts a stream anywhere after rendering at most one block's records.
   */
  readonly blockEvents?: number;
  /** The target's quota as raised for this account, for the fan-out's plan (defaults: the documented ones). */
  readonly targetQuota?: TargetQuota;
  /** One emitter's share of a fanned-out run in one wave: which events of which streams. */
  readonly cell?: EmitCell;
}

/** One emitter's share of a fanned-out run in one wave: which events of which streams. */
export interface EmitCell {
  readonly emitter: number;
  readonly wave: number;
  /** Each stream's events in this cell: indices [first, first + count). */
  readonly streams: readonly { readonly index: number; readonly first: number; readonly count: number }[];
  /** Shape seconds of the run where the cell starts. */
  readonly from: number;
}

/** A target's write quota: records (events) per second, MiB per second, calls per second; any may be absent. */
export interface TargetQuota {
  readonly records_per_s?: number;
  readonly mib_per_s?: number;
  readonly calls_per_s?: number;
}

function parseTargetQuota(e: EventObject): TargetQuota | undefined {
  const v = e.target_quota;
  if (v === undefined || v === null) return undefined;
  const keys = ["records_per_s", "mib_per_s", "calls_per_s"];
  if (typeof v !== "object" || Array.isArray(v) || Object.keys(v).length === 0 || Object.keys(v).some((k) => !keys.includes(k))) {
    throw new ValidationError("target_quota", `target_quota must be an object of ${keys.join(", ")} (your account's raised quota for the target; got ${describe(v)})`);
  }
  for (const [k, n] of Object.entries(v)) {
    if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) throw new ValidationError("target_quota", `target_quota.${k} must be a number above 0 (got ${describe(n)})`);
  }
  return v as TargetQuota;
}

/** All the events a request sends (duplicates dirt adds aside). */
export function totalEvents(request: Pick<EmitRequest, "streamCount" | "eventsPerStream" | "streamEvents" | "cell">): number {
  if (request.cell) return request.cell.streams.reduce((n, s) => n + s.count, 0);
  return request.streamEvents ? request.streamEvents.reduce((a, b) => a + b, 0) : request.streamCount * request.eventsPerStream;
}

/** The deployment's values (stack config, or CLI defaults) for what an event leaves out. */
export interface EmitDefaults {
  readonly target: EventTarget | undefined;
  readonly streamCount: number;
  readonly eventsPerStream: number;
  readonly eventsPerSecond: number | undefined;
  readonly maxFailedRatio: number;
  /** A load shape for events that give no shape, events_per_stream or events_per_second (stack config emitShape). */
  readonly shape?: string;
  readonly arrivals?: Arrivals;
  /** Stream skew for events that give none (stack config emitStreamSkew). */
  readonly streamSkew?: { readonly zipf: number };
}

/** The original simulator's values: 50 streams × 10 events, no cap; up to 1% may fail. */
export const EMIT_DEFAULTS: EmitDefaults = Object.freeze({
  target: undefined,
  streamCount: 50,
  eventsPerStream: 10,
  eventsPerSecond: undefined,
  maxFailedRatio: 0.01,
});

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

const EMIT_FIELDS = [
  ...Object.values(TARGET_FIELDS),
  "stream_count",
  "events_per_stream",
  "events_per_second",
  "max_failed_ratio",
  "request_timeout_ms",
  "dataset",
  "event_weights",
  "dirty",
  "shape",
  "arrivals",
  "stream_skew",
  "duration",
  "target_quota",
  ...IDENTITY_FIELDS,
];

/** Kinesis stream names: 1-128 of letters, digits, `_ . -`. */
export const STREAM_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,128}$/;

function targetOf(e: EventObject, fallback: EventTarget | undefined): EventTarget {
  const given = (Object.entries(TARGET_FIELDS) as [EventTarget["kind"], string][]).filter(([, field]) => e[field] !== undefined && e[field] !== null);
  if (given.length > 1) throw new ValidationError(given[0]![1], `give one target, not ${given.map(([, f]) => f).join(" and ")}`);
  const [kind, field] = given[0] ?? [];
  if (kind === undefined || field === undefined) {
    if (fallback) return fallback;
    throw new ValidationError("ingest_api_url", `no target: give one of ${Object.values(TARGET_FIELDS).join(", ")}`);
  }
  if (kind === "http") return { kind, url: urlField(e, field) as string };
  const value = stringField(e, field) as string;
  checkTargetName(kind, field, value);
  if (kind === "kinesis") return { kind, streamName: value };
  if (kind === "firehose") return { kind, deliveryStreamName: value };
  if (kind === "sqs") return { kind, queueUrl: value };
  return { kind, eventBusName: value };
}

function weightsOf(e: EventObject, dataset: string): Readonly<Record<string, number>> | undefined {
  const value = e.event_weights;
  if (value === undefined || value === null) return undefined;
  const types = WEIGHTABLE_EVENT_TYPES[dataset];
  if (!types) {
    throw new ValidationError("event_weights", `event_weights applies to ${Object.keys(WEIGHTABLE_EVENT_TYPES).join(", ")}, not to ${dataset}`);
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError("event_weights", `event_weights must be an object of event type to weight (got ${describe(value)})`);
  }
  const weights: Record<string, number> = {};
  for (const [type, weight] of Object.entries(value)) {
    if (!types.includes(type)) {
      throw new ValidationError("event_weights", `event_weights: unknown event type "${type}"; known types: ${types.join(", ")}`);
    }
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
      throw new ValidationError("event_weights", `event_weights.${type} must be a number of 0 or more (got ${describe(weight)})`);
    }
    weights[type] = weight;
  }
  if (!Object.values(weights).some((w) => w > 0)) {
    throw new ValidationError("event_weights", "event_weights must give at least one event type a weight above 0");
  }
  return Object.freeze(weights);
}

/**
 * Validates an emit event (Lambda payload or CLI flags in the same snake_case form). Throws a
 * `ValidationError` naming the first bad field; nothing has been sent.
 */
export function parseEmitRequest(event: unknown, defaults: EmitDefaults, ctx: RequestContext, custom?: EmitDataset, mode: EmitMode = "invocation"): EmitRequest {
  let e = eventObject(event, EMIT_FIELDS);
  const target = targetOf(e, defaults.target);
  const fanOut = mode === "fan-out";
  const L = fanOut ? { ...EMIT_LIMITS, ...EMIT_FAN_OUT_LIMITS } : EMIT_LIMITS;
  const streamCount = integerField(e, "stream_count", defaults.streamCount, 1, L.MAX_STREAMS);
  const scenario = custom?.defaultSeed !== undefined;
  if (fanOut && scenario && (e.events_per_second === undefined || e.events_per_second === null)) {
    throw new ValidationError("events_per_second", `the emit fan-out paces a scenario's dataset (${custom?.name}) at events_per_second: its events are its entities, so the count is the scenario's`);
  }
  if (scenario && e.events_per_stream !== undefined) {
    throw new ValidationError("events_per_stream", `events_per_stream does not apply to a scenario's dataset (${custom?.name}): its events are its entities, split across stream_count streams`);
  }
  // `duration` with `events_per_second`: that rate for that long, a constant shape.
  if (e.duration !== undefined && e.duration !== null) {
    if (typeof e.duration !== "string") throw new ValidationError("duration", `duration must be a duration such as 90s, 10m or 1h (got ${describe(e.duration)})`);
    const durationS = seconds("duration", e.duration);
    if (e.shape !== undefined) throw new ValidationError("duration", "duration does not apply with a shape, which carries its own (e.g. constant:500/10m)");
    if (e.events_per_stream !== undefined) throw new ValidationError("duration", "give events_per_stream (a count) or duration, not both");
    if (e.events_per_second === undefined) throw new ValidationError("duration", "duration needs events_per_second: the run sends that rate for that long (or give a shape)");
    const rate = numberField(e, "events_per_second", 0, 0.001, SHAPE_LIMITS.MAX_RATE);
    const { duration: _d, events_per_second: _r, ...rest } = e;
    e = { ...rest, shape: `constant:${rate}/${durationS}s` };
  }
  // The deployment's shape applies to an event that asks for no count and no rate of its own.
  const useDefaultShape = defaults.shape !== undefined && e.shape === undefined && e.events_per_stream === undefined && e.events_per_second === undefined && !scenario;
  if (useDefaultShape) e = { ...e, shape: defaults.shape, ...(e.arrivals === undefined && defaults.arrivals ? { arrivals: defaults.arrivals } : {}) };
  const shaped = e.shape !== undefined && e.shape !== null;
  if (shaped) {
    for (const field of ["events_per_stream", "events_per_second"] as const) {
      if (e[field] !== undefined) throw new ValidationError(field, `${field} does not apply with a shape: the shape sets the rate and, with its duration, how many events`);
    }
    if (scenario) throw new ValidationError("shape", `shape does not apply to a scenario's dataset (${custom?.name}), which sends its entities: pace it with events_per_second`);
  }
  const eventsPerStream = scenario || shaped ? 0 : integerField(e, "events_per_stream", defaults.eventsPerStream, 1, L.MAX_EVENTS_PER_STREAM);
  if (!scenario && !shaped && streamCount * eventsPerStream > L.MAX_EVENTS) {
    throw new ValidationError(
      "events_per_stream",
      `stream_count × events_per_stream must be at most ${L.MAX_EVENTS} per invocation (got ${streamCount} × ${eventsPerStream} = ${streamCount * eventsPerStream})`,
    );
  }
  const rate = shaped ? 0 : (e.events_per_second ?? defaults.eventsPerSecond ?? 0);
  const eventsPerSecond = rate === 0 ? undefined : numberField({ events_per_second: rate }, "events_per_second", 0, 1, L.MAX_EVENTS_PER_SECOND);
  const maxFailedRatio = numberField(e, "max_failed_ratio", defaults.maxFailedRatio, 0, 1);
  const requestTimeoutMs = integerField(e, "request_timeout_ms", DEFAULT_REQUEST_TIMEOUT_MS, L.MIN_TIMEOUT_MS, L.MAX_TIMEOUT_MS);
  const dataset = custom ? custom.name : choiceField(e, "dataset", DATASET_NAMES, "tutoring-events");
  const eventWeights = weightsOf(e, dataset);
  const dirty = parseDirty(e);
  const identity = parseRunIdentity(e, ctx, { clockTime: true, ...(custom?.defaultSeed !== undefined ? { fixedSeed: custom.defaultSeed } : {}) });
  const arrivals = choiceField(e, "arrivals", ARRIVALS, "paced");
  if (e.arrivals !== undefined && !shaped) throw new ValidationError("arrivals", "arrivals applies with a shape");
  let shape = shaped ? parseShape("shape", e.shape, fanOut ? identityEpochMs(identity) : ctx.now.getTime()) : undefined;
  const targetQuota = parseTargetQuota(e);
  const streamSkew = e.stream_skew === undefined && !scenario ? defaults.streamSkew : parseStreamSkew(e);
  let streamEvents: number[] | undefined;
  if (shape && !fanOut && peakRate(shape) > EMIT_LIMITS.MAX_EVENTS_PER_SECOND) {
    throw new ValidationError(
      "shape",
      `shape ${shape.text} peaks at ${peakRate(shape)} events/s, more than the ${EMIT_LIMITS.MAX_EVENTS_PER_SECOND} one invocation sends: run it through the emit fan-out (the emit state machine, or synthgen emit --plan to see its plan)`,
    );
  }
  if (scenario) {
    if (streamSkew) throw new ValidationError("stream_skew", `stream_skew does not apply to a scenario's dataset (${custom?.name}): its streams hold the entities of their share of the roots`);
    const max = fanOut ? EMIT_FAN_OUT_LIMITS.MAX_SCENARIO_EVENTS : L.MAX_EVENTS;
    const known = custom?.counted;
    if (known && known.seed === identity.seed && known.datePrefix === identity.datePrefix && known.streamEvents.length === streamCount) {
      streamEvents = [...known.streamEvents];
    } else {
      const { scenarioRecordCounts } = require("../scenarios/plan") as typeof import("../scenarios/plan");
      streamEvents = scenarioRecordCounts(custom?.schema, identity.seed, identity.datePrefix, streamCount, max);
    }
    const total = streamEvents.reduce((a, b) => a + b, 0);
    if (total > max) {
      const what = fanOut
        ? `the ${max} the emit fan-out sends of a scenario's dataset: emit a smaller dataset of the scenario`
        : `the ${max} events one invocation sends: emit it through the emit fan-out (the emit state machine), or a smaller dataset of the scenario`;
      throw new ValidationError("dataset", `${custom?.name} has ${total} entities for this seed, more than ${what}`);
    }
  }
  if (fanOut && scenario) {
    // A scenario's entities, at a constant pace: the count is the scenario's, the rate the request's.
    const total = (streamEvents as number[]).reduce((a, b) => a + b, 0);
    shape = constantShape(eventsPerSecond as number, Math.max(total, 1) / (eventsPerSecond as number));
  } else if (fanOut) {
    // The fan-out paces every emitter: by the shape, or by events_per_second for the count.
    if (!shape) {
      if (!eventsPerSecond) throw new ValidationError("events_per_second", "the emit fan-out paces its emitters: give a shape (e.g. constant:100000/30m) or events_per_second with events_per_stream");
      shape = constantShape(eventsPerSecond, (streamCount * eventsPerStream) / eventsPerSecond);
    }
    // Counts are the paced ones (arrivals shape the gaps within each emitter's share).
    const total = Math.ceil(cumulative(shape, shape.durationS) - 1e-9);
    if (total > L.MAX_EVENTS) throw new ValidationError("shape", `shape ${shape.text} sends ${total} events, more than the fan-out's ${L.MAX_EVENTS}`);
    streamEvents = split(total, streamCount, streamSkew);
  } else if (shape) {
    const total = shapedTotal(shape, arrivals, [identity.runId, identity.seed], L.MAX_EVENTS);
    if (total > L.MAX_EVENTS) throw new ValidationError("shape", `shape ${shape.text} sends more than the ${L.MAX_EVENTS} events one invocation sends: shorten it or lower its rates`);
    streamEvents = split(total, streamCount, streamSkew);
  } else if (streamSkew && !scenario) {
    streamEvents = split(streamCount * eventsPerStream, streamCount, streamSkew);
  }
  return Object.freeze({
    ...identity,
    target,
    dataset,
    streamCount,
    eventsPerStream,
    eventsPerSecond: fanOut ? undefined : eventsPerSecond,
    maxFailedRatio,
    requestTimeoutMs,
    eventWeights,
    dirty,
    ...(custom ? { schema: custom.schema } : {}),
    ...(streamEvents ? { streamEvents } : {}),
    ...(shape ? { shape } : {}),
    arrivals,
    ...(streamSkew ? { streamSkew } : {}),
    // A scenario's stream is its file's entities in order, not blocks of their own seeds: an emitter starts mid-way by rendering the stream's earlier records.
    ...(fanOut && !scenario ? { blockEvents: FAN_OUT_BLOCK_EVENTS } : {}),
    ...(targetQuota ? { targetQuota } : {}),
  });
}

/** `stream_skew: { zipf: s }`: streams get events in proportion to (stream + 1)^-s (stream 0 the hottest). */
function parseStreamSkew(e: EventObject): { zipf: number } | undefined {
  return checkStreamSkew("stream_skew", e.stream_skew);
}

/** A skew as given (`uniform`, `{ zipf: s }`, or the text `zipf:S` of the CLI and stack config); the message names `field`. */
export function checkStreamSkew(field: string, v: unknown): { zipf: number } | undefined {
  if (typeof v === "string" && /^zipf:/.test(v.trim())) v = { zipf: Number(v.trim().slice(5)) };
  if (v === undefined || v === null || v === "uniform") return undefined;
  const s = typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 ? (v as Record<string, unknown>).zipf : undefined;
  if (typeof s !== "number" || !Number.isFinite(s) || s <= 0 || s > 10) {
    throw new ValidationError(field, `${field} must be uniform or { zipf: s } (zipf:S) with s above 0 and at most 10 (got ${describe(v)})`);
  }
  return { zipf: s };
}

/** `total` events over `streams`: evenly, or by Zipf weights; whole numbers by largest remainder. */
function split(total: number, streams: number, skew: { zipf: number } | undefined): number[] {
  const weights = Array.from({ length: streams }, (_, i) => (skew ? (i + 1) ** -skew.zipf : 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}
