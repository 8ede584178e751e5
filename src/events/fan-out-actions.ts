import { ValidationError } from "../core/errors";
import { mapLimited, READS_IN_FLIGHT } from "../core/map-limited";
import { describe, eventObject, identityEpochMs, integerField, numberField, parseRunIdentity, type EventObject, type RequestContext } from "../core/fields";
import { sinkFor, type SinkSpec } from "../sinks";
import { presentKeys } from "../sinks/sink";
import { sleep } from "../core/retry";
import { emitEvents, targetLabel, type EventSink } from "./emit";
import { assertShardsCarry, assertTargetQuota, cellRequest, emitterRate, layoutEmitters, shardLoads, waveWindow, WAVE_LEAD_S, type EmitLayout, type EmitterSettings } from "./fan-out";
import { mergeCells, type CellSummary } from "./fan-out-report";
import { parseEmitRequest, totalEvents, type EmitDataset, type EmitDefaults, type EmitRequest } from "./request";
import { DATASET_NAMES } from "../datasets/names";
import { DatasetNotFound, datasetNotFound, readStoredDefinition, resolveStoredDefinition, sha256Of, type StoredDefinition } from "../catalog/resolve";
import { cumulative, peakRate } from "./shape";
import { meanEventBytes } from "./streams";

/**
 * The steps the emit state machine asks of `emit-events`, as events
 * `{"action": "plan" | "emit" | "report", "request": {...emit event}, ...}`:
 * - `plan`: validates the whole run once, fixes its identity (run id defaults to the execution's
 *   name), lays out emitters and waves for this function's memory and timeout, and refuses what
 *   the deployment or the target cannot carry (Kinesis: every shard's share of the peak); a stored
 *   dataset (`readings`, `shop.orders`) is read from `{prefix}_datasets/` once, here, and its text
 *   copied to `{prefix}_emit/{run_id}/definition.json`, pinned by SHA-256 in the request;
 * - `emit`: emitter e's cell of wave w — waits for the wave's start on the clock, sends, writes
 *   its summary under `{prefix}_emit/{run_id}/cells/`; a stored dataset's definition is the run's
 *   copy, so every emitter sends the same dataset even if the stored object changes mid-run;
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
/** The stored definition a run was planned with, copied for its emitters. */
export const definitionKey = (keyPrefix: string, runId: string) => `${emitRunPrefix(keyPrefix, runId)}definition.json`;

/** What `definition.json` holds: the definition's text as the plan read it, and the entity counts the plan walked. */
interface PinnedDefinition {
  readonly dataset: string;
  readonly source_key: string;
  readonly sha256: string;
  readonly text: string;
  readonly counted?: { readonly seed: number; readonly date_prefix: string; readonly stream_events: readonly number[] };
}

const SHA256 = /^[0-9a-f]{64}$/;
/** Definitions a warm emitter already resolved, by run and text: the same text always resolves the same. */
const resolvedCopies = new Map<string, EmitDataset>();

export function isEmitFanOutEvent(event: unknown): event is EventObject {
  return typeof event === "object" && event !== null && "action" in event;
}

interface ParsedRequest {
  readonly request: EmitRequest;
  /** The event as given, without what the plan pins. */
  readonly raw: EventObject;
  /** A stored dataset's definition (read by the plan; the run's copy for an emitter or the report). */
  readonly definition?: StoredDefinition & { readonly counted?: EmitDataset["counted"] };
}

async function requestOf(e: EventObject, deps: EmitFanOutDeps, store: SinkSpec, action: Action): Promise<ParsedRequest> {
  const given = e.request ?? {};
  if (typeof given !== "object" || Array.isArray(given)) throw new ValidationError("request", `request must be an emit event object (got ${describe(given)})`);
  const { definition_sha256: pinned, ...raw } = given as EventObject;
  const name = typeof e.execution_name === "string" ? e.execution_name : undefined;
  const event = { ...(name && !("run_id" in raw) ? { run_id: name } : {}), ...raw };
  const parse = (custom?: EmitDataset) => parseEmitRequest(event, deps.defaults, deps.context, custom, "fan-out");
  const dataset = raw.dataset;
  if (typeof dataset !== "string" || DATASET_NAMES.includes(dataset)) {
    if (pinned !== undefined) throw new ValidationError("definition_sha256", `definition_sha256 pins a stored dataset's text; ${describe(dataset ?? "tutoring-events")} is built in`);
    return { request: parse(), raw };
  }
  if (pinned !== undefined && (typeof pinned !== "string" || !SHA256.test(pinned))) {
    throw new ValidationError("definition_sha256", `definition_sha256 must be 64 lowercase hex digits, the SHA-256 of the stored definition's text (got ${describe(pinned)})`);
  }
  if (action === "plan") {
    const definition = await readDefinition(store, deps.keyPrefix, dataset);
    if (pinned !== undefined && pinned !== definition.sha256) {
      throw new ValidationError(
        "definition_sha256",
        `the stored dataset ${dataset} changed since this run was planned (sha256 ${pinned.slice(0, 12)}…, now ${definition.sha256.slice(0, 12)}…): start a new run, or put the planned text back`,
      );
    }
    const request = parse(resolveStoredDefinition(definition));
    return {
      request,
      raw,
      definition: { ...definition, ...(request.streamEvents && !request.blockEvents ? { counted: { seed: request.seed, datePrefix: request.datePrefix, streamEvents: request.streamEvents } } : {}) },
    };
  }
  // An emitter or the report: the definition is the run's copy, which the plan pinned.
  if (pinned === undefined) {
    throw new ValidationError(
      "definition_sha256",
      `the ${action} step of stored dataset ${dataset} takes the definition its plan pinned: definition_sha256 is missing (start the run through the emit state machine, whose plan step adds it)`,
    );
  }
  // The run id is checked before it is part of a key.
  const { runId } = parseRunIdentity({ run_id: event.run_id }, deps.context);
  const cacheKey = `${runId}\n${pinned}`;
  let custom = resolvedCopies.get(cacheKey);
  if (!custom) {
    custom = await pinnedDefinition(store, deps.keyPrefix, runId, dataset, pinned);
    if (!custom) {
      throw new ValidationError(
        "definition_sha256",
        `run ${runId} has no copy of stored dataset ${dataset} with sha256 ${pinned.slice(0, 12)}… under ${emitRunPrefix(deps.keyPrefix, runId)}: its plan step writes it; start the run through the emit state machine`,
      );
    }
    if (resolvedCopies.size >= 8) resolvedCopies.clear();
    resolvedCopies.set(cacheKey, custom);
  }
  return { request: parse(custom), raw };
}

/**
 * The copy of stored dataset `dataset` that run `runId`'s plan pinned (`{prefix}_emit/{run_id}/definition.json`),
 * resolved as its emitters resolved it; undefined when the run has none, or one of another dataset
 * or text (`sha256`, when given, is the text it must be). What the emitters sent, and what verify
 * recomputes an emit fan-out run from, whatever is stored under `_datasets/` since.
 */
export async function pinnedDefinition(store: SinkSpec, keyPrefix: string, runId: string, dataset: string, sha256?: string): Promise<EmitDataset | undefined> {
  // Listed first: S3 answers 403, not 404, for a key that is not there (the role lists only with a prefix).
  const key = definitionKey(keyPrefix, runId);
  const files = sinkFor(store);
  const copy = (await presentKeys(files, [key])).has(key) ? ((await files.getJson(key)) as PinnedDefinition | undefined) : undefined;
  if (copy === undefined || sha256Of(copy.text) !== copy.sha256 || copy.dataset !== dataset || (sha256 !== undefined && copy.sha256 !== sha256)) return undefined;
  const counted = copy.counted && { seed: copy.counted.seed, datePrefix: copy.counted.date_prefix, streamEvents: copy.counted.stream_events };
  return { ...resolveStoredDefinition({ name: dataset, key: copy.source_key, text: copy.text }), ...(counted ? { counted } : {}) };
}

/** The stored definition the plan reads; an unknown name is a 400 listing what is stored. */
async function readDefinition(store: SinkSpec, keyPrefix: string, name: string): Promise<StoredDefinition> {
  try {
    return await readStoredDefinition(store, keyPrefix, name);
  } catch (err) {
    if (!(err instanceof DatasetNotFound)) throw err;
    throw datasetNotFound(name, err.stored);
  }
}

/**
 * Copies the plan's definition under the run's folder for its emitters, once: a run planned again
 * (the same run_id) must find the same text there, or it would mix two datasets in one run.
 */
async function pinDefinition(store: SinkSpec, keyPrefix: string, request: EmitRequest, definition: NonNullable<ParsedRequest["definition"]>): Promise<void> {
  const files = sinkFor(store);
  const key = definitionKey(keyPrefix, request.runId);
  if ((await presentKeys(files, [key])).has(key)) {
    const copy = (await files.getJson(key)) as PinnedDefinition | undefined;
    if (copy?.sha256 === definition.sha256 && copy.dataset === definition.name) return;
    throw new ValidationError(
      "run_id",
      `run ${request.runId} was planned with another definition (${copy?.dataset} sha256 ${String(copy?.sha256).slice(0, 12)}…, now ${definition.name} ${definition.sha256.slice(0, 12)}…): resume it with that text, or start a new run_id`,
    );
  }
  const counted = definition.counted && { seed: definition.counted.seed, date_prefix: definition.counted.datePrefix, stream_events: definition.counted.streamEvents };
  const copy: PinnedDefinition = { dataset: definition.name, source_key: definition.key, sha256: definition.sha256, text: definition.text, ...(counted ? { counted } : {}) };
  await files.putJson(key, copy);
}

function layoutOf(e: EventObject): EmitLayout {
  return {
    emitters: integerField(e, "emitters", 0, 1, 100_000),
    waves: integerField(e, "waves", 0, 1, 100_000),
    waveSeconds: integerField(e, "wave_seconds", 0, 1, 900),
    startAt: numberField(e, "start_at", 0, 0, 8.64e15),
  };
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
  const { request, raw, definition } = await requestOf(e, deps, store, action);
  if (action === "plan") return plan(request, raw, deps, store, definition);
  const layout = layoutOf(e);
  if (action === "emit") return emitCell(request, layout, integerField(e, "emitter", -1, 0, layout.emitters - 1), integerField(e, "wave", -1, 0, layout.waves - 1), store, deps);
  return report(request, layout, store, deps);
}

async function plan(request: EmitRequest, raw: EventObject, deps: EmitFanOutDeps, store: SinkSpec, definition: ParsedRequest["definition"]) {
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
  if (definition) await pinDefinition(store, deps.keyPrefix, request, definition);
  return {
    action: "plan" as const,
    // The request with its identity fixed, for every emitter and the report (and a stored dataset's text, by its SHA-256).
    request: {
      ...raw,
      run_id: request.runId,
      seed: request.seed,
      time: new Date(identityEpochMs(request)).toISOString().replace(".000Z", "Z"),
      ...(definition ? { definition_sha256: definition.sha256 } : {}),
    },
    ...(definition ? { definition: { dataset: definition.name, key: definition.key, sha256: definition.sha256, copy_key: definitionKey(deps.keyPrefix, request.runId) } } : {}),
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
  return {
    action: "emit" as const,
    emitter,
    wave,
    dataset: request.dataset,
    run_id: request.runId,
    events: summary.events,
    sent: summary.sent,
    failed: summary.failed,
    retried: summary.retried,
    duration_ms: summary.duration_ms,
    target_events_per_s: to > from ? Math.round((summary.target_events / (to - from)) * 100) / 100 : 0,
    ...(restarted ? { restarted } : {}),
  };
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
  // The step's answer stays small (Step Functions passes at most 256 KB): the per-second and per-stream lists are in report.json.
  const { seconds: _seconds, events_by_stream: _streams, ...brief } = merged;
  return { action: "report" as const, report_key: key, ...brief };
}
