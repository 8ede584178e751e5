import { createHash } from "node:crypto";
import { vcpusFor } from "../core/vcpus";
import { CapacityError, ValidationError } from "../core/errors";
import { cumulative, peakRate, sliceShape, type RateShape } from "./shape";
import { totalEvents, type EmitRequest, type EventTarget, type TargetQuota } from "./request";

/**
 * The emit fan-out: one run at a rate beyond one invocation, for longer than one invocation,
 * split into cells — emitter e of N sends the streams [e·S/N, (e+1)·S/N) during wave w, the shape's
 * window [w·L, (w+1)·L). Stream s sends T_s events in all (the same split as one invocation of the
 * same request); by shape time t it has sent floor(T_s · Λ(t) / Λ(D)) of them, so a cell's events
 * are a contiguous range of each of its streams, continued by the next wave, whatever N and L are.
 * An emitter paces its cell along the shape's window scaled to its share.
 */

/**
 * Events per second one emitter sends per vCPU, for planning. Deliberately under what
 * `npm run bench` measures on one core (HTTP: 15.3 k events/s to a loopback server with the sender
 * using 1.2–1.5 cores; kinesalite: 13.7 k, kinesalite being the bottleneck), because an emitter
 * that cannot keep up misses its shape for the whole wave.
 */
export const EMITTER_EVENTS_PER_S_PER_VCPU: Readonly<Record<EventTarget["kind"], number>> = Object.freeze({
  http: 4_000,
  kinesis: 8_000,
  firehose: 8_000,
  sqs: 3_000,
  eventbridge: 3_000,
});

/** Streams one emitter sends at most (one invocation's limit). */
export const STREAMS_PER_EMITTER = 1000;
/** Seconds from the plan to the first wave, so every emitter of the wave starts on the same clock. */
export const WAVE_LEAD_S = 5;
/** Kept from each emitter's timeout for start-up, retries after the window and the summary. */
export const waveMarginS = (timeoutSeconds: number) => 5 + Math.ceil(timeoutSeconds * 0.1);

export interface EmitLayout {
  readonly emitters: number;
  readonly waves: number;
  /** Shape seconds per wave (the last wave may be shorter). */
  readonly waveSeconds: number;
  /** When the shape's second 0 is, epoch milliseconds: the first wave waits for it. */
  readonly startAt: number;
}

export interface EmitterSettings {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** The host's cores (a function never gets more vCPUs than these). */
  readonly cores: number;
  /** Emitters the deployment may run at once (stack config emitFanOutConcurrency). */
  readonly maxEmitters: number;
}

function shapeOf(request: EmitRequest): RateShape {
  if (!request.shape) throw new ValidationError("shape", "the emit fan-out needs a shape or events_per_second");
  return request.shape;
}

/** Events one emitter is planned to carry per second at this memory (its sender is one thread: one vCPU at most). */
export function emitterRate(target: EventTarget["kind"], memoryMb: number, cores: number): number {
  return Math.max(1, Math.floor(EMITTER_EVENTS_PER_S_PER_VCPU[target] * Math.min(1, vcpusFor(memoryMb, cores))));
}

/**
 * How many emitters and waves a run needs: enough emitters that none is planned above its rate at
 * the shape's peak (and none holds more than 1,000 streams), waves as long as an emitter's timeout
 * allows. Refuses, naming what to change, a plan needing more emitters than may run at once.
 */
export function layoutEmitters(request: EmitRequest, settings: EmitterSettings, now: number): EmitLayout {
  const shape = shapeOf(request);
  const perEmitter = emitterRate(request.target.kind, settings.memoryMb, settings.cores);
  // The hottest stream's emitter carries its share of the peak: with a skew, count by weights.
  const counts = request.streamEvents as readonly number[];
  const total = totalEvents(request);
  const peak = peakRate(shape);
  const byRate = Math.ceil(peak / perEmitter);
  const byStreams = Math.ceil(request.streamCount / STREAMS_PER_EMITTER);
  let emitters = Math.min(request.streamCount, Math.max(1, byRate, byStreams));
  // Skewed streams: add emitters until the busiest share fits (or every stream has its own).
  while (emitters < request.streamCount && peak * (maxShare(counts, emitters) / Math.max(1, total)) > perEmitter) emitters++;
  const busiest = peak * (maxShare(counts, emitters) / Math.max(1, total));
  if (busiest > perEmitter) {
    throw new CapacityError(
      "stream_skew",
      `the hottest stream alone peaks at ${Math.round(busiest)} events/s, more than one emitter carries at ${settings.memoryMb} MB (${perEmitter}/s): lower the skew or the rate, or raise emitMemoryMb`,
    );
  }
  if (emitters > settings.maxEmitters) {
    throw new CapacityError(
      "shape",
      `a peak of ${peak} events/s over ${request.streamCount} streams needs ${emitters} emitters at ${settings.memoryMb} MB (${perEmitter} events/s each), more than the ${settings.maxEmitters} the deployment runs at once (emitFanOutConcurrency): raise emitFanOutConcurrency (within the account's Lambda concurrency) or emitMemoryMb, or lower the rate`,
    );
  }
  const waveSeconds = settings.timeoutSeconds - WAVE_LEAD_S - waveMarginS(settings.timeoutSeconds);
  if (waveSeconds < 1) throw new CapacityError("emitTimeoutSeconds", `an emitter's timeout of ${settings.timeoutSeconds} s leaves no time for a wave; raise emitTimeoutSeconds`);
  return { emitters, waves: Math.ceil(shape.durationS / waveSeconds), waveSeconds, startAt: now + WAVE_LEAD_S * 1000 };
}

/** The streams of emitter e: [first, end). */
export function emitterStreams(layout: Pick<EmitLayout, "emitters">, streamCount: number, emitter: number): { first: number; end: number } {
  return { first: Math.floor((emitter * streamCount) / layout.emitters), end: Math.floor(((emitter + 1) * streamCount) / layout.emitters) };
}

/** The largest share of the events any emitter gets when `emitters` split these streams evenly by count. */
function maxShare(counts: readonly number[], emitters: number): number {
  let max = 0;
  for (let e = 0; e < emitters; e++) {
    const { first, end } = emitterStreams({ emitters }, counts.length, e);
    let sum = 0;
    for (let s = first; s < end; s++) sum += counts[s] as number;
    max = Math.max(max, sum);
  }
  return max;
}

/** A cell's window in shape seconds. */
export function waveWindow(layout: EmitLayout, shape: RateShape, wave: number): { from: number; to: number } {
  return { from: wave * layout.waveSeconds, to: Math.min(shape.durationS, (wave + 1) * layout.waveSeconds) };
}

/**
 * The request emitter e runs in wave w: its streams' events of the wave's window, paced along the
 * window of the shape scaled so that it integrates to exactly the cell's count.
 */
export function cellRequest(request: EmitRequest, layout: EmitLayout, emitter: number, wave: number): EmitRequest {
  const shape = shapeOf(request);
  if (!Number.isInteger(emitter) || emitter < 0 || emitter >= layout.emitters) throw new ValidationError("emitter", `emitter must be a whole number from 0 to ${layout.emitters - 1} (got ${emitter})`);
  if (!Number.isInteger(wave) || wave < 0 || wave >= layout.waves) throw new ValidationError("wave", `wave must be a whole number from 0 to ${layout.waves - 1} (got ${wave})`);
  const { from, to } = waveWindow(layout, shape, wave);
  const all = cumulative(shape, shape.durationS);
  const done = (t: number, total: number) => (t >= shape.durationS ? total : Math.floor((total * cumulative(shape, t)) / all));
  const { first, end } = emitterStreams(layout, request.streamCount, emitter);
  const counts = request.streamEvents as readonly number[];
  const streams = [];
  let events = 0;
  for (let s = first; s < end; s++) {
    const total = counts[s] as number;
    const a = done(from, total);
    const count = done(to, total) - a;
    streams.push({ index: s, first: a, count });
    events += count;
  }
  const inWindow = cumulative(shape, to) - cumulative(shape, from);
  const cellShape = sliceShape(shape, from, to, inWindow > 0 ? events / inWindow : 0);
  return Object.freeze({ ...request, shape: cellShape, arrivals: request.arrivals, cell: { emitter, wave, streams, from } });
}

/** A Kinesis shard's hash key range (inclusive), as ListShards returns it. */
export interface ShardRange {
  readonly shardId: string;
  readonly start: bigint;
  readonly end: bigint;
}

/** Kinesis Data Streams' write quota per shard. */
export const KINESIS_SHARD_QUOTA = Object.freeze({ RECORDS_PER_S: 1000, BYTES_PER_S: 1024 * 1024 });

export interface ShardLoad {
  readonly shardId: string;
  readonly recordsPerS: number;
  readonly bytesPerS: number;
  readonly streams: number;
}

/** The 128-bit hash key Kinesis maps a partition key to (MD5, big-endian). */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash("md5").update(partitionKey, "utf8").digest("hex")}`);
}

/** Shards covering the hash key space evenly, as CreateStream makes them (for a plan made offline). */
export function evenShards(count: number): ShardRange[] {
  const space = 1n << 128n;
  return Array.from({ length: count }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, "0")}`,
    start: (space * BigInt(i)) / BigInt(count),
    end: (space * BigInt(i + 1)) / BigInt(count) - 1n,
  }));
}

/**
 * Each shard's load at the shape's peak: its streams' share of the peak rate (a stream's partition
 * key is `{run_id}:{stream}`), in records and bytes per second, busiest first.
 */
export function shardLoads(request: EmitRequest, shards: readonly ShardRange[], meanEventBytes: number): ShardLoad[] {
  const shape = shapeOf(request);
  const counts = request.streamEvents as readonly number[];
  const total = Math.max(1, totalEvents(request));
  const peak = peakRate(shape);
  const sorted = [...shards].sort((a, b) => (a.start < b.start ? -1 : 1));
  const loads = new Map(sorted.map((s) => [s.shardId, { shardId: s.shardId, recordsPerS: 0, bytesPerS: 0, streams: 0 }]));
  for (let s = 0; s < request.streamCount; s++) {
    const key = `${request.runId}:${s}`;
    const hash = hashKeyOf(key);
    const shard = sorted.find((r) => r.start <= hash && hash <= r.end);
    if (!shard) throw new ValidationError("kinesis_stream_name", `no open shard of the stream covers hash key ${hash} (partition key ${key})`);
    const load = loads.get(shard.shardId) as { recordsPerS: number; bytesPerS: number; streams: number };
    const rate = (peak * (counts[s] as number)) / total;
    load.recordsPerS += rate;
    load.bytesPerS += rate * (meanEventBytes + Buffer.byteLength(key));
    load.streams += 1;
  }
  return [...loads.values()].sort(
    (a, b) =>
      b.recordsPerS / KINESIS_SHARD_QUOTA.RECORDS_PER_S +
      b.bytesPerS / KINESIS_SHARD_QUOTA.BYTES_PER_S -
      (a.recordsPerS / KINESIS_SHARD_QUOTA.RECORDS_PER_S + a.bytesPerS / KINESIS_SHARD_QUOTA.BYTES_PER_S),
  );
}

/** Refuses a plan whose busiest shard would be over Kinesis' write quota at the peak, saying what would fit. */
export function assertShardsCarry(request: EmitRequest, loads: readonly ShardLoad[]): void {
  const q = KINESIS_SHARD_QUOTA;
  const worst = loads[0];
  if (!worst) return;
  const over = worst.recordsPerS > q.RECORDS_PER_S || worst.bytesPerS > q.BYTES_PER_S;
  if (!over) return;
  const shape = shapeOf(request);
  const totalRecords = loads.reduce((n, l) => n + l.recordsPerS, 0);
  const totalBytes = loads.reduce((n, l) => n + l.bytesPerS, 0);
  const evenNeed = Math.max(Math.ceil(totalRecords / q.RECORDS_PER_S), Math.ceil(totalBytes / q.BYTES_PER_S));
  throw new CapacityError(
    "kinesis_stream_name",
    `at the peak of ${peakRate(shape)} events/s, shard ${worst.shardId} of ${request.target.kind === "kinesis" ? request.target.streamName : ""} would take ${Math.round(worst.recordsPerS)} records/s and ${Math.round(worst.bytesPerS / 1024)} KiB/s from ${worst.streams} streams, over Kinesis' 1,000 records/s and 1 MiB/s per shard: the stream has ${loads.length} open shards and needs at least ${evenNeed} even at a perfect spread; add shards, raise stream_count so each partition key carries less, or lower the rate`,
  );
}

/**
 * List prices used for a plan's cost estimate: us-east-1, on demand, as published in 2025 (check
 * your Region's). Lambda per GB-second by architecture; Kinesis provisioned per shard-hour and per
 * million PUT payload units (a record rounds up to 25 KB units); Step Functions Standard per
 * state transition.
 */
export const LIST_PRICES_USD = Object.freeze({
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  kinesisShardHour: 0.015,
  kinesisPutUnitsPerMillion: 0.014,
  stepFunctionsTransition: 0.000025,
});

/** The least number of evenly split shards (as CreateStream makes them) whose busiest takes the peak. */
export function shardsNeeded(request: EmitRequest, meanEventBytes: number): number {
  const loads = shardLoads(request, evenShards(1), meanEventBytes);
  const first = loads[0] as ShardLoad;
  let n = Math.max(1, Math.ceil(first.recordsPerS / KINESIS_SHARD_QUOTA.RECORDS_PER_S), Math.ceil(first.bytesPerS / KINESIS_SHARD_QUOTA.BYTES_PER_S));
  for (; n <= 10_000; n++) {
    try {
      assertShardsCarry(request, shardLoads(request, evenShards(n), meanEventBytes));
      return n;
    } catch {
      // the busiest shard is still over its quota: one more
    }
  }
  throw new CapacityError("stream_count", `no number of shards up to 10,000 carries this peak: one stream's partition key is over a shard's quota; raise stream_count or lower the skew`);
}

/** What a plan costs at list prices: emitters' GB-seconds, the state machine's transitions, and a Kinesis stream's share. */
export function estimateCost(
  request: EmitRequest,
  layout: EmitLayout,
  settings: Pick<EmitterSettings, "memoryMb"> & { architecture: "arm64" | "x86_64" },
  kinesis?: { shards: number; meanEventBytes: number },
) {
  const shape = shapeOf(request);
  const p = LIST_PRICES_USD;
  // Each emitter runs its window plus the wait for the wave's start.
  const gbSeconds = layout.emitters * (shape.durationS + layout.waves * WAVE_LEAD_S) * (settings.memoryMb / 1024);
  const lambda = gbSeconds * p.lambdaGbSecond[settings.architecture];
  // Per wave: the Map, each child execution's start, task and end, the Pass and the Choice; plus plan and report.
  const transitions = layout.waves * (layout.emitters * 3 + 3) + 8;
  const stepFunctions = transitions * p.stepFunctionsTransition;
  const total = totalEvents(request);
  const kinesisCost = kinesis
    ? {
        shard_hours: Math.round(kinesis.shards * (shape.durationS / 3600) * 100) / 100,
        shards_usd: kinesis.shards * (shape.durationS / 3600) * p.kinesisShardHour,
        put_payload_units: total * Math.max(1, Math.ceil(kinesis.meanEventBytes / 25_600)),
        put_usd: ((total * Math.max(1, Math.ceil(kinesis.meanEventBytes / 25_600))) / 1e6) * p.kinesisPutUnitsPerMillion,
      }
    : undefined;
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    lambda_gb_seconds: Math.round(gbSeconds),
    lambda_usd: round(lambda),
    state_transitions: transitions,
    step_functions_usd: round(stepFunctions),
    ...(kinesisCost
      ? {
          kinesis_shard_hours: kinesisCost.shard_hours,
          kinesis_shards_usd: round(kinesisCost.shards_usd),
          kinesis_put_payload_units: kinesisCost.put_payload_units,
          kinesis_put_usd: round(kinesisCost.put_usd),
        }
      : {}),
    total_usd: round(lambda + stepFunctions + (kinesisCost ? kinesisCost.shards_usd + kinesisCost.put_usd : 0)),
    prices: "us-east-1 list prices (2025), on demand; check your Region's",
  };
}

/**
 * Documented default write quotas of the targets without shards, read strictly where they differ
 * by Region (the smallest Region's figures); an account's raised quota is given as the request's
 * `target_quota`. Entries a call at most, to estimate calls per second.
 */
export const TARGET_DEFAULT_QUOTAS: Readonly<Partial<Record<EventTarget["kind"], { quota: TargetQuota; perCall: number; documented: string }>>> = Object.freeze({
  firehose: {
    quota: { records_per_s: 1_000, mib_per_s: 1, calls_per_s: 1_000 },
    perCall: 500,
    documented: "Direct PUT per Firehose stream: 1,000 records/s, 1,000 calls/s and 1 MiB/s in most Regions (500,000 records/s, 2,000 calls/s and 5 MiB/s in us-east-1, us-west-2 and eu-west-1)",
  },
  eventbridge: {
    quota: { records_per_s: 400 },
    perCall: 10,
    documented: "PutEvents per account and Region: 400 a second in the smallest Regions (10,000 in us-east-1, us-west-2 and eu-west-1), read as entries",
  },
});
/** A FIFO queue without high-throughput mode: 300 calls a second of up to 10 messages. */
export const SQS_FIFO_QUOTA = Object.freeze({
  quota: { records_per_s: 3_000, calls_per_s: 300 } as TargetQuota,
  perCall: 10,
  documented: "SQS FIFO without high-throughput mode: 300 SendMessageBatch calls/s of up to 10 messages (3,000 messages/s)",
});

export interface TargetLoad {
  readonly records_per_s: number;
  readonly mib_per_s: number;
  readonly calls_per_s: number;
  readonly quota: TargetQuota;
  readonly quota_source: string;
}

/**
 * The target's load at the shape's peak against its quota (the request's `target_quota`, or the
 * documented default); refuses a plan over it, saying what was assumed and how to give the real
 * one. Kinesis is checked shard by shard instead; HTTP and SQS standard queues have none.
 */
export function assertTargetQuota(request: EmitRequest, layout: Pick<EmitLayout, "emitters">, meanEventBytes: number): TargetLoad | undefined {
  const t = request.target;
  const known = t.kind === "sqs" ? (t.queueUrl.endsWith(".fifo") ? SQS_FIFO_QUOTA : undefined) : TARGET_DEFAULT_QUOTAS[t.kind];
  if (!known) return undefined;
  const peak = peakRate(shapeOf(request));
  // Each emitter sends a tenth of a second of its share a call, up to the API's entries a call.
  const perCall = Math.max(1, Math.min(known.perCall, Math.floor(peak / layout.emitters / 10)));
  const load = { records_per_s: peak, mib_per_s: (peak * meanEventBytes) / (1024 * 1024), calls_per_s: Math.ceil(peak / perCall) };
  const quota = request.targetQuota ?? known.quota;
  const source = request.targetQuota ? "target_quota" : known.documented;
  const over = (["records_per_s", "mib_per_s", "calls_per_s"] as const).filter((k) => quota[k] !== undefined && load[k] > (quota[k] as number));
  if (over.length > 0) {
    const what = over.map((k) => `${k} ${Math.round(load[k] * 100) / 100} > ${quota[k]}`).join(", ");
    throw new CapacityError(
      "target_quota",
      `at the peak of ${peak} events/s the target would get ${what} (${source}): ${request.targetQuota ? "lower the rate or raise the quota" : 'if your account\'s quota is higher, give it as target_quota, e.g. {"records_per_s": 500000, "mib_per_s": 5, "calls_per_s": 2000}; else lower the rate'}`,
    );
  }
  return { ...load, mib_per_s: Math.round(load.mib_per_s * 100) / 100, quota, quota_source: source };
}
