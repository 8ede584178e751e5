import { ValidationError } from "../core/errors";
import { mapLimited, READS_IN_FLIGHT } from "../core/map-limited";
import { describe, eventObject, identityEpochMs, integerField, numberField, type EventObject, type RequestContext } from "../core/fields";
import { sinkFor, type SinkSpec } from "../sinks";
import { presentKeys } from "../sinks/sink";
import { sleep } from "../core/retry";
import { emitEvents, targetLabel, type EventSink } from "./emit";
import { assertShardsCarry, assertTargetQuota, cellRequest, emitterRate, layoutEmitters, shardLoads, waveWindow, WAVE_LEAD_S, type EmitLayout, type EmitterSettings } from "./fan-out";
import { mergeCells, type CellSummary } from "./fan-out-report";
import { parseEmitRequest, totalEvents, type EmitDefaults, type EmitRequest } from "./request";
import { cumulative, peakRate } from "./shape";
import { EventStream } from "./streams";

/**
 * The steps the emit state machine asks of `emit-events`, as events
 * `{"action": "plan" | "emit" | "report", "request": {...emit event}, ...}`:
 * - `plan`: validates the whole run once, fixes its identity (run id defaults to the execution's
 *   name), lays out emitters and waves for this function's memory and timeout, and refuses what
 *   the deployment or the target cannot carry (Kinesis: every shard's share of the peak);
 * - `emit`: emitter e's cell of wave w — waits for the wave's start on the clock, sends, writes
 *   its summary under `{prefix}_emit/{run_id}/cells/`;
 * - `report`: merges the cells' summaries into `{prefix}_emit/{run_id}/report.json`.
 */
export const EMIT_FAN_OUT_ACTIONS = ["plan", "emit", "report"] as const;
type Action = (typeof EMIT_FAN_OUT_ACTIONS)[number];

export interface EmitFanOutDeps {
  readonly defaults: EmitDefaults;
  /** The bucket the cells' summaries and the report go to; the fan-out needs one. */
  readonly store: SinkSpec | undefined;
  readonly keyPrefix: string;
  readonly context: RequestContext;
  readonly settings: EmitterSettings;
  /** Milliseconds this invocation has left. */
  readonly remainingMs: () => number;
  /** The sink for a request's target (kept across invocations by the handler). */
  readonly sinkFor: (request: EmitRequest) => EventSink;
}

const pad = (n: number) => String(n).padStart(5, "0");
export const emitRunPrefix = (keyPrefix: string, runId: string) => `${keyPrefix}_emit/${runId}/`;
export const cellKey = (keyPrefix: string, runId: string, wave: number, emitter: number) => `${emitRunPrefix(keyPrefix, runId)}cells/w${pad(wave)}-e${pad(emitter)}.json`;
const startedKey = (keyPrefix: string, runId: string, wave: number, emitter: number) => `${emitRunPrefix(keyPrefix, runId)}started/w${pad(wave)}-e${pad(emitter)}.json`;
export const reportKey = (keyPrefix: string, runId: string) => `${emitRunPrefix(keyPrefix, runId)}report.json`;

export function isEmitFanOutEvent(event: unknown): event is EventObject {
  return typeof event === "object" && event !== null && "action" in event;
}

function requestOf(e: EventObject, deps: EmitFanOutDeps): { request: EmitRequest; raw: EventObject } {
  const raw = e.request ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new ValidationError("request", `request must be an emit event object (got ${describe(raw)})`);
  const name = typeof e.execution_name === "string" ? e.execution_name : undefined;
  const event = { ...(name && !("run_id" in raw) ? { run_id: name } : {}), ...(raw as EventObject) };
  return { request: parseEmitRequest(event, deps.defaults, deps.context, undefined, "fan-out"), raw: raw as EventObject };
}

function layoutOf(e: EventObject): EmitLayout {
  return {
    emitters: integerField(e, "emitters", 0, 1, 100_000),
    waves: integerField(e, "waves", 0, 1, 100_000),
    waveSeconds: integerField(e, "wave_seconds", 0, 1, 900),
    startAt: numberField(e, "start_at", 0, 0, 8.64e15),
  };
}

/** Mean bytes of the run's events, from the first events of a few streams. */
function meanEventBytes(request: EmitRequest): number {
  let bytes = 0;
  let n = 0;
  for (let s = 0; s < Math.min(4, request.streamCount); s++) {
    const stream = new EventStream(request, s, 0, Math.min(50, request.streamEvents?.[s] ?? 0));
    for (let ev = stream.next(); ev; ev = stream.next()) {
      bytes += Buffer.byteLength(ev.body);
      n++;
    }
  }
  return n ? bytes / n : 0;
}

function storeOf(deps: EmitFanOutDeps): SinkSpec {
  if (!deps.store) throw new ValidationError("BUCKET_NAME", "the emit fan-out keeps its emitters' summaries in the bucket: environment variable BUCKET_NAME is required");
  return deps.store;
}

export async function emitFanOutAction(event: EventObject, deps: EmitFanOutDeps) {
  const e = eventObject(event, ["action", "request", "execution_name", "emitter", "wave", "emitters", "waves", "wave_seconds", "start_at"]);
  const action = e.action as Action;
  if (!EMIT_FAN_OUT_ACTIONS.includes(action)) throw new ValidationError("action", `action must be one of ${EMIT_FAN_OUT_ACTIONS.join(", ")} (got ${describe(e.action)})`);
  const store = storeOf(deps);
  const { request, raw } = requestOf(e, deps);
  if (action === "plan") return plan(request, raw, deps);
  const layout = layoutOf(e);
  if (action === "emit") return emitCell(request, layout, integerField(e, "emitter", -1, 0, layout.emitters - 1), integerField(e, "wave", -1, 0, layout.waves - 1), store, deps);
  return report(request, layout, store, deps);
}

async function plan(request: EmitRequest, raw: EventObject, deps: EmitFanOutDeps) {
  const layout = layoutEmitters(request, deps.settings, deps.context.now.getTime());
  const shape = request.shape as NonNullable<EmitRequest["shape"]>;
  const bytes = meanEventBytes(request);
  let loads;
  const sink = deps.sinkFor(request);
  if (sink.shards) {
    await sink.preflight?.();
    loads = shardLoads(request, await sink.shards(), bytes);
    assertShardsCarry(request, loads);
  }
  const targetLoad = assertTargetQuota(request, layout, bytes);
  return {
    action: "plan" as const,
    // The request with its identity fixed, for every emitter and the report.
    request: { ...raw, run_id: request.runId, seed: request.seed, time: new Date(identityEpochMs(request)).toISOString().replace(".000Z", "Z") },
    target: targetLabel(request.target),
    total_events: totalEvents(request),
    peak_events_per_s: peakRate(shape),
    duration_s: shape.durationS,
    streams: request.streamCount,
    mean_event_bytes: Math.round(bytes),
    emitters: layout.emitters,
    events_per_s_per_emitter: emitterRate(request.target.kind, deps.settings.memoryMb, deps.settings.cores),
    waves: layout.waves,
    wave_seconds: layout.waveSeconds,
    start_at: layout.startAt,
    emitter_list: Array.from({ length: layout.emitters }, (_, i) => i),
    ...(targetLoad ? { target_load: targetLoad } : {}),
    ...(loads ? { busiest_shards: loads.slice(0, 5).map((l) => ({ shard: l.shardId, records_per_s: Math.round(l.recordsPerS), kib_per_s: Math.round(l.bytesPerS / 1024), streams: l.streams })) } : {}),
  };
}

async function emitCell(request: EmitRequest, layout: EmitLayout, emitter: number, wave: number, store: SinkSpec, deps: EmitFanOutDeps) {
  const cell = cellRequest(request, layout, emitter, wave);
  const files = sinkFor(store);
  const done = cellKey(deps.keyPrefix, request.runId, wave, emitter);
  const started = startedKey(deps.keyPrefix, request.runId, wave, emitter);
  const present = await presentKeys(files, [done, started]);
  if (present.has(done)) {
    // Already sent by an earlier execution of this run: sending again would duplicate it.
    return { action: "emit" as const, emitter, wave, skipped: true };
  }
  // A cell that started before and left no summary may have sent part of its events: say so.
  const restarted = present.has(started);
  await files.putJson(started, { emitter, wave, at: new Date().toISOString() });
  const shape = request.shape as NonNullable<EmitRequest["shape"]>;
  const { from, to } = waveWindow(layout, shape, wave);
  // Every emitter of a wave starts on the same clock; a late wave starts at once.
  const wait = layout.startAt + from * 1000 - Date.now();
  if (wait > 0) await sleep(Math.min(wait, (WAVE_LEAD_S + 1) * 1000));
  const sink = deps.sinkFor(request);
  const outcome = await emitEvents(cell, sink, { timeBudgetMs: deps.remainingMs() - 2000 });
  const { stats } = outcome;
  const summary: CellSummary = {
    emitter,
    wave,
    from,
    to,
    streams: [cell.cell!.streams[0]?.index ?? 0, (cell.cell!.streams.at(-1)?.index ?? -1) + 1],
    started_at: stats.startedAtMs,
    duration_ms: outcome.durationMs,
    events: totalEvents(cell),
    target_events: Math.round((cumulative(shape, to) - cumulative(shape, from)) * 1000) / 1000,
    sent: stats.sent,
    failed: stats.failed,
    retried: stats.retried,
    by_event_type: stats.perType(),
    latency_histogram: stats.latencyHistogram(),
    per_second: stats.perSecond,
    errors: stats.failures,
    ...(outcome.dirty ? { dirty_records: outcome.dirty } : {}),
    ...(restarted ? { restarted: true } : {}),
  };
  await files.putJson(done, summary);
  return { action: "emit" as const, emitter, wave, events: summary.events, sent: summary.sent, failed: summary.failed, retried: summary.retried, ...(restarted ? { restarted } : {}) };
}

async function report(request: EmitRequest, layout: EmitLayout, store: SinkSpec, deps: EmitFanOutDeps) {
  const files = sinkFor(store);
  const keys: string[] = [];
  for (let w = 0; w < layout.waves; w++) for (let e = 0; e < layout.emitters; e++) keys.push(cellKey(deps.keyPrefix, request.runId, w, e));
  const present = await presentKeys(files, keys);
  const cells = await mapLimited(keys, READS_IN_FLIGHT, async (key) => (present.has(key) ? ((await files.getJson(key)) as CellSummary) : undefined));
  const merged = mergeCells(request, layout, cells);
  const key = reportKey(deps.keyPrefix, request.runId);
  await files.putJson(key, merged);
  const { seconds: _seconds, ...brief } = merged;
  return { action: "report" as const, report_key: key, ...brief };
}
