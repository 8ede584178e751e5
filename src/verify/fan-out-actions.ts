import { ValidationError } from "../core/errors";
import { describe, type EventObject, eventObject, integerField, isRunId, numberField } from "../core/fields";
import { BYTES_PER_MB } from "../core/limits";
import { vcpusFor } from "../core/vcpus";
import { resolveDataset } from "../catalog/resolve";
import { DATASET_NAMES } from "../datasets/names";
import type { ResolvedDataset } from "../records/dataset";
import { rateOf } from "../files/capacity";
import { layoutByTime } from "../files/fan-out";
import type { FanOutDeps } from "../files/fan-out-actions";
import { planRun, type RunPlan } from "../files/plan";
import { GENERATE_EVENT_FIELDS, parseGenerateRequest } from "../files/request";
import { planScenarioRun, type ScenarioRun } from "../files/scenario-run";
import { DIRTY_KINDS, type DirtyKind } from "../records/dirty";
import { createHash } from "node:crypto";
import { type FileSink, type SinkSpec, sinkFor } from "../sinks";
import { presentKeys } from "../sinks/sink";
import { decodeExpectations, decodeObjects, type DigestedObject, digestObjects, encodeExpectations, readFoundValues } from "./digest";
import { emitRunOfReport } from "./emit-run";
import type { EventChecksOptions } from "./events";
import { emittedStreams, type ExpectedSource, expectedParts, type StoredExpectations } from "./expected";
import { tapRecords } from "../formats/render";
import { type EmitRequest, totalEvents } from "../events/request";
import { meanEventBytes } from "../events/streams";
import { listOutput, type OutputFormat, parquetRowGroups, splittable } from "./output";
import { MAX_REQUIRED, OUTCOMES, type Outcome, PRECISION_UNITS, type Precision, type VerifyOptions, verifyDigests, verifyPlan } from "./verify";

/**
 * The three steps the verify state machine asks of `generate-files`, as events
 * `{"action": "verify-plan" | "verify-slice" | "verify-merge", "request": {...}, ...}`:
 * - `verify-plan`: checks the request, lists the pipeline's output once (kept as the run's
 *   listing), and lays out slices: generated files to recompute, output objects to read;
 * - `verify-slice`: one slice's digests (generated records' field hashes and keys, or output
 *   rows' keys and field hashes), written beside the run as bytes;
 * - `verify-merge`: the digests read back in order and joined: the report `synthgen verify`
 *   prints for the same run and output, written as `{scratch}report.json`.
 * A slice is a pure function of the request and the listing, so a retried one overwrites itself.
 */
export const VERIFY_ACTIONS = ["verify-plan", "verify-slice", "verify-merge"] as const;
export type VerifyAction = (typeof VERIFY_ACTIONS)[number];

export function isVerifyEvent(event: unknown): boolean {
  return typeof event === "object" && event !== null && typeof (event as { action?: unknown }).action === "string" && (event as { action: string }).action.startsWith("verify-");
}

/** What a verify step needs of its function: the fan-out's settings, less the file pool, plus the output it may read. */
export interface VerifyDeps extends Omit<FanOutDeps, "pool"> {
  /** The output a deployment may read (`s3://bucket/prefix/`), or none: the state machine is not deployed without it. */
  readonly outputUri: string | undefined;
}

/**
 * Bytes of pipeline output one vCPU reads and digests per second, for sizing slices and the cost
 * estimate: a third of the slowest format measured here (`npm run bench -- --verify-only`, its
 * read-rate table, 2026-12-05: web-events NDJSON 103.6 MiB/s, Parquet 14.8 MiB/s median on one
 * thread), since a slice that runs out of time costs a retry while one too many costs a few transitions.
 */
const READ_BYTES_PER_VCPU_SECOND = 5 * BYTES_PER_MB;
/** What the merge holds at least besides the records (the runtime, the modules, a digest being read). */
const MERGE_BASE_MB = 160;
/** The share of the function's memory the merge may be planned to fill. */
const MERGE_MEMORY_SHARE = 0.8;

/**
 * Bytes the merge holds per record of a run compared on `fields` fields: its field hashes, its
 * dirt, its key (a 12-byte slot of a table at most half full, rounded up to a power of two), and
 * its found, matched and misplaced marks; an emit run's event checks add when each landed, its
 * stream and its keys seen.
 */
const mergeBytesPerRecord = (fields: number, emit: boolean): number => 4 * fields + 1 + 48 + 3 + (emit ? 13 : 0);
/** And per record of the expect digest being merged: the stored bytes and what they decode to (field hashes, dirt, key). */
const digestBytesPerRecord = (fields: number): number => 2 * (4 * fields + 9);

/** A generate run's records: the first file's, counted by rendering it, times the files (a day's or dataset's files are alike). */
function recordsOf(plan: RunPlan): number {
  const first = plan.files[0];
  if (!first) return 0;
  let n = 0;
  tapRecords(first, () => {
    n++;
  });
  return n * plan.files.length;
}

/** The share of a slice's timeout its work may be planned to take. */
const SLICE_TIME_SHARE = 0.5;
/** Public prices (us-east-1) the estimate uses: Lambda per GB-second, S3 GET and PUT/LIST per 1,000, Step Functions per 1,000 transitions. */
const PRICE = { lambdaGbSecond: 0.0000166667, get1k: 0.0004, put1k: 0.005, transition1k: 0.025 };

const REQUEST_FIELDS = [
  "run",
  "emit",
  "output",
  "dataset",
  "key",
  "map",
  "drop",
  "ignore",
  "require",
  "expect",
  "examples",
  "precision",
  "idempotency_field",
  "sent_field",
  "arrival_field",
  "in_order",
  "scratch",
  "scenario_sha256",
  "emit_sha256",
  "slice_mb",
];
/** A run is named by its generate request (or, with `scenario`, the fan-out's request for a stored scenario). */
const RUN_FIELDS = [...GENERATE_EVENT_FIELDS, "scenario"];

interface VerifyRequest {
  readonly raw: EventObject;
  /** What the run made, part by part: a generate run's files, or an emit run's event streams. */
  readonly parts: readonly ExpectedSource[];
  readonly runId: string;
  /** A generate run's plan (its files' size and format decide the expect slices); none for an emit run. */
  readonly plan?: RunPlan;
  /** An emit run's request (its streams' events decide the expect slices). */
  readonly emit?: EmitRequest;
  /** The report's `run` part. */
  readonly run: Record<string, unknown>;
  /** A scenario dataset's records by the plan's arithmetic (its files hold whole entities, each a different count). */
  readonly records?: number;
  /** At most this many bytes of output per read slice (`slice_mb`), below what a slice's time allows. */
  readonly sliceBytes?: number;
  /** `scenario.dataset` for one dataset of a scenario run. */
  readonly scenario?: string;
  readonly output: { readonly bucket: string; readonly prefix: string };
  readonly options: VerifyOptions;
  readonly scratch: string;
}

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/;

/** `s3://bucket/prefix/` as bucket and prefix (the prefix ends in `/` or is empty). */
export function parseS3Uri(field: string, uri: unknown): { bucket: string; prefix: string } {
  const m = typeof uri === "string" ? S3_URI.exec(uri) : null;
  if (!m) throw new ValidationError(field, `${field} must be an s3://bucket/prefix/ URI (got ${describe(uri)})`);
  const prefix = m[2] ?? "";
  if (prefix !== "" && !prefix.endsWith("/")) throw new ValidationError(field, `${field} must end in "/" (a folder of objects; got ${describe(uri)})`);
  return { bucket: m[1] as string, prefix };
}

const strings = (e: EventObject, field: string): string[] | undefined => {
  const v = e[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === "string" && s !== "")) throw new ValidationError(field, `${field} must be a list of field names (got ${describe(v)})`);
  return v as string[];
};

/** The request every step is given, checked the same way in each. */
async function requestOf(e: EventObject, deps: VerifyDeps, executionName: string | undefined): Promise<VerifyRequest> {
  const raw = e.request;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ValidationError("request", `request must be a verify request object (got ${describe(raw)})`);
  const r = eventObject(raw, REQUEST_FIELDS);
  if (deps.outputUri === undefined) throw new ValidationError("output", "this deployment reads no pipeline output: set verifyOutputUri in the stack config");
  const allowed = parseS3Uri("verifyOutputUri", deps.outputUri);
  const output = parseS3Uri("output", r.output);
  if (output.bucket !== allowed.bucket || !output.prefix.startsWith(allowed.prefix)) {
    throw new ValidationError("output", `output must be under ${deps.outputUri}, the output this deployment may read (got ${describe(r.output)})`);
  }
  if (r.emit !== undefined && r.run !== undefined) throw new ValidationError("emit", "give run (a generate run's request) or emit (an emit run's report), not both");
  const emitted = r.emit === undefined ? undefined : await emitRunOf(r, deps);
  const emit = emitted?.request;
  let plan: RunPlan | undefined;
  let scenario: Awaited<ReturnType<typeof scenarioPlan>> | undefined;
  if (!emit) {
    if (typeof r.run !== "object" || r.run === null || Array.isArray(r.run))
      throw new ValidationError("run", `run must be the generate request of the run to verify (got ${describe(r.run)}), or emit an emit run's report`);
    const run = eventObject(r.run, RUN_FIELDS);
    if (typeof run.run_id !== "string") throw new ValidationError("run.run_id", "run.run_id is required: the run id generate printed, which the records were made from");
    scenario = run.scenario === undefined ? undefined : await scenarioPlan(run, r, deps);
    if (scenario === undefined && r.dataset !== undefined)
      throw new ValidationError("dataset", "dataset names one dataset of a scenario run (run.scenario); a single dataset's run names it in run.dataset");
    plan = scenario?.plan ?? planRun(parseGenerateRequest(run, deps.defaults, deps.context, await resolveDataset(run, deps.loadDataset)), "");
  } else {
    for (const f of ["dataset", "scenario_sha256"])
      if (r[f] !== undefined) throw new ValidationError(f, `${f} applies to a generate run's scenario (run.scenario); an emit run's report names its dataset`);
  }
  const eventFields = ["idempotency_field", "sent_field", "arrival_field", "in_order", "emit_sha256"].filter((f) => r[f] !== undefined);
  if (!emit && eventFields.length) throw new ValidationError(eventFields[0] as string, `${eventFields[0]} applies to an emit run's events (emit), not to a generate run's files`);
  const column = (f: string): string | undefined => {
    const v = r[f];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v === "") throw new ValidationError(f, `${f} must name an output column (got ${describe(v)})`);
    return v;
  };
  const events: EventChecksOptions | undefined = emit && {
    ...(column("idempotency_field") !== undefined ? { idempotencyField: column("idempotency_field") } : {}),
    ...(column("sent_field") !== undefined ? { sentField: column("sent_field") } : {}),
    ...(column("arrival_field") !== undefined ? { arrivalField: column("arrival_field") } : {}),
    ...(r.in_order !== undefined ? { ordered: booleanOf(r, "in_order") } : {}),
  };
  if (events?.sentField !== undefined && events.arrivalField === undefined) throw new ValidationError("sent_field", "sent_field needs arrival_field: the delay is from the one to the other");
  const map = r.map;
  if (map !== undefined && (typeof map !== "object" || map === null || Array.isArray(map) || !Object.values(map).every((v) => typeof v === "string"))) {
    throw new ValidationError("map", `map must be an object of output column → generated field (got ${describe(map)})`);
  }
  const expect = r.expect;
  if (expect !== undefined) {
    if (typeof expect !== "object" || expect === null || Array.isArray(expect)) throw new ValidationError("expect", `expect must be an object of dirty kind → outcome (got ${describe(expect)})`);
    for (const [kind, outcome] of Object.entries(expect)) {
      if (!(DIRTY_KINDS as readonly string[]).includes(kind)) throw new ValidationError("expect", `expect: unknown dirty kind "${kind}"; kinds: ${DIRTY_KINDS.join(", ")}`);
      if (!(OUTCOMES as readonly unknown[]).includes(outcome)) throw new ValidationError("expect", `expect.${kind} must be one of ${OUTCOMES.join(", ")} (got ${describe(outcome)})`);
    }
  }
  const key = strings(r, "key");
  const drop = strings(r, "drop");
  const ignore = strings(r, "ignore");
  const required = strings(r, "require");
  if (required && required.length > MAX_REQUIRED) throw new ValidationError("require", `require names at most ${MAX_REQUIRED} columns (got ${required.length})`);
  const examples = r.examples === undefined ? undefined : integerField(r, "examples", 3, 0, 100);
  const precision = r.precision;
  if (precision !== undefined && !Object.hasOwn(PRECISION_UNITS, precision as string)) {
    throw new ValidationError("precision", `precision must be one of ${Object.keys(PRECISION_UNITS).join(", ")} (got ${describe(precision)})`);
  }
  const options: VerifyOptions = {
    ...(precision !== undefined ? { precision: precision as Precision } : {}),
    ...(key ? { key } : {}),
    ...(map ? { map: map as Record<string, string> } : {}),
    ...(drop ? { drop } : {}),
    ...(ignore ? { ignore } : {}),
    ...(required ? { require: required } : {}),
    ...(expect ? { expect: expect as Partial<Record<DirtyKind, Outcome>> } : {}),
    ...(examples !== undefined ? { examples } : {}),
    ...(events ? { events } : {}),
  };
  const runId = emit ? emit.runId : (plan as RunPlan).request.runId;
  const sliceMb = r.slice_mb === undefined ? undefined : numberField(r, "slice_mb", 0, 0.01, 1024 * 1024);
  const sliceBytes = sliceMb === undefined ? undefined : sliceMb * BYTES_PER_MB;
  let scratch = r.scratch;
  if (scratch === undefined) {
    // The plan names the run's folder once; every later step is given it.
    if (executionName === undefined) throw new ValidationError("scratch", "scratch is set by the plan step: start the state machine, or give the plan's request");
    scratch = `${deps.configuredPrefix}_verify/${runId}/${executionName}/`;
  }
  if (typeof scratch !== "string" || !scratch.startsWith(`${deps.configuredPrefix}_verify/`) || scratch.includes("..")) {
    throw new ValidationError("scratch", `scratch must be a folder under ${deps.configuredPrefix}_verify/ (got ${describe(scratch)})`);
  }
  // A scenario's text is pinned by the plan: every later step checks it reads the same.
  const pinned = { ...(raw as EventObject), scratch, ...(scenario ? { scenario_sha256: scenario.sha256 } : {}), ...(emitted?.sha256 ? { emit_sha256: emitted.sha256 } : {}) };
  if (emit) {
    const run = { run_id: emit.runId, dataset: emit.dataset, seed: emit.seed, date: emit.datePrefix, hhmmss: emit.hhmmss, streams: emit.streamCount, events: totalEvents(emit) };
    return { raw: pinned, parts: emittedStreams(emit), runId, emit, run, output, options, scratch, ...(sliceBytes ? { sliceBytes } : {}) };
  }
  const p = plan as RunPlan;
  const q = p.request;
  const run = { run_id: q.runId, dataset: scenario?.name ?? q.dataset, seed: q.seed, days: q.days, files: p.files.length, format: q.format };
  return {
    raw: pinned,
    parts: p.files,
    runId,
    plan: p,
    run,
    output,
    options,
    scratch,
    ...(scenario ? { scenario: scenario.name, records: scenario.records } : {}),
    ...(sliceBytes ? { sliceBytes } : {}),
  };
}

/** A boolean request field. */
function booleanOf(r: EventObject, field: string): boolean {
  const v = r[field];
  if (typeof v !== "boolean") throw new ValidationError(field, `${field} must be true or false (got ${describe(v)})`);
  return v;
}

/**
 * An emit run, from the report its run printed (`synthgen emit`'s, the emit-events function's
 * answer, the emit fan-out's report.json): the request `emit` parsed, so every stream's events are
 * recomputed as they were sent. A stored dataset it names is read from the bucket, as for a run.
 */
async function emitRunOf(r: EventObject, deps: VerifyDeps): Promise<{ readonly request: EmitRequest; readonly sha256?: string }> {
  let report = r.emit;
  let where = "emit";
  let sha256: string | undefined;
  if (typeof report === "string") {
    // A fan-out run of this deployment, by its run id: its report.json, pinned by the plan's SHA-256 as a stored scenario is.
    if (!isRunId(report)) throw new ValidationError("emit", `emit must be an emit run's report, or the run_id of an emit fan-out run of this deployment (got ${describe(report)})`);
    const { reportKey } = require("../events/fan-out-actions") as typeof import("../events/fan-out-actions");
    const key = reportKey(deps.configuredPrefix, report);
    const landing = sinkFor(deps.sink);
    where = `emit ${report} (${key})`;
    // Listed first: S3 answers 403, not 404, for a missing key.
    if (!(await presentKeys(landing, [key])).has(key))
      throw new ValidationError("emit", `emit ${report}: no emit fan-out run of that run_id has a report here (${key}); run it, or give the report itself`);
    report = await landing.getJson(key);
    sha256 = createHash("sha256").update(JSON.stringify(report)).digest("hex");
    if (r.emit_sha256 !== undefined && r.emit_sha256 !== sha256) {
      throw new ValidationError("emit_sha256", `${where} changed since this verify was planned (sha256 ${String(r.emit_sha256).slice(0, 12)}…, now ${sha256.slice(0, 12)}…): start a new execution`);
    }
  } else if (r.emit_sha256 !== undefined) throw new ValidationError("emit_sha256", "emit_sha256 is set by the plan for an emit run named by its run_id");
  if (typeof report !== "object" || report === null || Array.isArray(report)) {
    throw new ValidationError(
      "emit",
      `emit must be the report of the emit run to verify: what synthgen emit printed, or the emit fan-out's report.json, or a fan-out run's run_id (got ${describe(report)})`,
    );
  }
  const fields = report as Record<string, unknown>;
  // A stored dataset: the text the emit fan-out pinned for this run, when it did; else the dataset as stored now.
  const { run_id: runId, dataset } = fields;
  let custom: ResolvedDataset | undefined;
  if (typeof runId === "string" && isRunId(runId) && typeof dataset === "string" && !DATASET_NAMES.includes(dataset)) {
    const { pinnedDefinition } = require("../events/fan-out-actions") as typeof import("../events/fan-out-actions");
    custom = await pinnedDefinition(deps.sink, deps.configuredPrefix, runId, dataset);
  }
  custom ??= await resolveDataset({ dataset }, deps.loadDataset);
  return { request: emitRunOfReport(fields, where, custom, "emit"), ...(sha256 ? { sha256 } : {}) };
}

/**
 * One dataset of a stored scenario's run (`run.scenario`, and the request's `dataset`), planned as
 * the fan-out planned the whole scenario: the same files, with the run's identity. The plan step
 * pins the scenario's text by its SHA-256; a later step that reads another text refuses to go on.
 */
async function scenarioPlan(run: EventObject, r: EventObject, deps: VerifyDeps): Promise<{ plan: RunPlan; sha256: string; name: string; records: number }> {
  const { scenario, ...rest } = run;
  if (typeof scenario !== "string") throw new ValidationError("run.scenario", `run.scenario must be the name of a stored scenario (got ${describe(scenario)})`);
  if (!deps.loadScenario) throw new ValidationError("run.scenario", "run.scenario is not available here: a scenario is read from the bucket by the deployed function");
  const loaded = await deps.loadScenario(scenario);
  const pinned = r.scenario_sha256;
  if (pinned !== undefined && pinned !== loaded.sha256) {
    throw new ValidationError(
      "scenario_sha256",
      `the stored scenario ${scenario} changed since this verify was planned (sha256 ${String(pinned).slice(0, 12)}…, now ${loaded.sha256.slice(0, 12)}…): start a new execution`,
    );
  }
  let planned: ScenarioRun;
  try {
    planned = planScenarioRun(loaded, rest, deps.defaults, deps.context, "");
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`run.${err.field}`, `scenario ${scenario}: ${err.message}`);
    throw err;
  }
  const names = planned.datasets.map((d) => d.name);
  const one = planned.datasets.find((d) => d.name === r.dataset);
  if (!one) throw new ValidationError("dataset", `dataset must name the dataset of scenario ${scenario} whose output this is: one of ${names.join(", ")} (got ${describe(r.dataset)})`);
  return { plan: one.plan, sha256: loaded.sha256, name: `${scenario}.${one.name}`, records: one.expectedRecords };
}

interface Listing {
  readonly files: { readonly key: string; readonly format: OutputFormat; readonly bytes: number }[];
  readonly skipped: { readonly key: string; readonly why: string }[];
  /**
   * What the read slices read, in order: each object whole, or an object too large for one slice
   * in `parts` pieces (NDJSON by bytes, Parquet by row groups). The read slices are runs of these.
   */
  readonly pieces?: { readonly file: number; readonly part: number; readonly parts: number }[];
}

/**
 * The pieces the read slices take: an object larger than `perSlice` bytes in as many pieces as
 * that needs, where its format allows (NDJSON by bytes, Parquet by row groups, at most one piece
 * a group); the rest whole, with a warning for one too large to read in a slice's time.
 */
async function piecesOf(files: Listing["files"], perSlice: number, sink: FileSink): Promise<{ pieces: NonNullable<Listing["pieces"]>; warnings: string[] }> {
  const pieces: NonNullable<Listing["pieces"]> = [];
  const warnings: string[] = [];
  for (const [i, f] of files.entries()) {
    let parts = 1;
    if (f.bytes > perSlice) {
      const wanted = Math.ceil(f.bytes / perSlice);
      if (f.format === "ndjson") parts = wanted;
      else if (f.format === "parquet") parts = Math.min(wanted, await parquetRowGroups(sink, f.key));
      if (parts < wanted) {
        warnings.push(
          `${f.key}: ${(f.bytes / BYTES_PER_MB).toFixed(1)} MiB of ${f.format} ${splittable(f.format) ? `in ${parts} row group${parts === 1 ? "" : "s"}` : "cannot be split"}: its read slices may need more than the ${(perSlice / BYTES_PER_MB).toFixed(1)} MiB a slice is planned to read in its time`,
        );
      }
    }
    for (let part = 0; part < parts; part++) pieces.push({ file: i, part, parts });
  }
  return { pieces, warnings };
}

interface Slice {
  readonly kind: "expect" | "read";
  /** Its number among the slices of its kind: digests are read back in this order. */
  readonly n: number;
  readonly first: number;
  readonly count: number;
}

/** Contiguous runs of items, at most `slices` of them, each about the same total weight. */
function contiguous(weights: readonly number[], slices: number): { first: number; count: number }[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const out: { first: number; count: number }[] = [];
  let first = 0;
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i] as number;
    const last = i === weights.length - 1;
    // Cut where the running total passes the next share, leaving at least one item for each slice still to come.
    if (last || (acc >= (total * (out.length + 1)) / slices && weights.length - i - 1 >= slices - out.length - 1 && out.length < slices - 1)) {
      out.push({ first, count: i + 1 - first });
      first = i + 1;
    }
  }
  return out;
}

export async function verifyAction(event: EventObject, deps: VerifyDeps) {
  const e = eventObject(event, ["action", "request", "execution_name", "slice", "expect_slices", "read_slices"]);
  const action = e.action as VerifyAction;
  if (!VERIFY_ACTIONS.includes(action)) throw new ValidationError("action", `action must be one of ${VERIFY_ACTIONS.join(", ")} (got ${describe(e.action)})`);
  const request = await requestOf(e, deps, typeof e.execution_name === "string" ? e.execution_name : undefined);
  const { parts: sources, output, scratch } = request;
  const first = sources[0];
  if (!first) throw new ValidationError("run", "the run has no files to verify");
  const checks = verifyPlan(first, request.options);
  const landing = sinkFor(deps.sink);
  const outputSink = sinkFor({ ...deps.sink, kind: "s3", bucket: output.bucket } as SinkSpec);
  const where = (key: string) => `s3://${output.bucket}/${key}`;

  if (action === "verify-plan") {
    const seconds = deps.remainingMs() / 1000;
    const vcpus = vcpusFor(deps.memoryMb, deps.cores);
    const { plan: run, emit } = request;
    let expect: Slice[];
    let generatedBytes: number;
    let rate: number;
    if (run) {
      const expectLayout = layoutByTime(run.files.length, run.fileBytes, deps.memoryMb, seconds, deps.cores, deps.concurrency, run.request);
      expect = Array.from({ length: expectLayout.shardCount }, (_, n) => {
        const from = n * expectLayout.filesPerShard;
        return { kind: "expect", n, first: from, count: Math.min(expectLayout.filesPerShard, run.files.length - from) };
      });
      generatedBytes = run.files.length * run.fileBytes;
      rate = rateOf(run.request);
    } else {
      // An emit run's streams, about the same bytes in each slice: each stream's events × a sampled event's bytes, at NDJSON's rate.
      const e = emit as EmitRequest;
      const eventBytes = Math.max(1, meanEventBytes(e));
      const streamBytes = Array.from({ length: e.streamCount }, (_, s) => (e.streamEvents?.[s] ?? e.eventsPerStream) * eventBytes);
      generatedBytes = streamBytes.reduce((a, b) => a + b, 0);
      rate = rateOf({ format: "ndjson" });
      const perExpect = rate * BYTES_PER_MB * vcpus * seconds * SLICE_TIME_SHARE;
      const slices = Math.min(e.streamCount, Math.max(Math.ceil(generatedBytes / perExpect), deps.concurrency));
      expect = contiguous(
        streamBytes.map((b) => Math.max(1, b)),
        slices,
      ).map((s, n) => ({ kind: "expect", n, ...s }));
    }
    // The merge holds the whole run's field hashes and keys, and one expect digest at a time: a run too large for the function's memory is refused before anything is read.
    const records = emit ? totalEvents(emit) : Math.ceil(request.records ?? recordsOf(run as RunPlan));
    const fields = checks.comparison.leaves.length;
    const largestSlice = Math.max(...expect.map((x) => x.count)) / sources.length;
    const mergeMb = MERGE_BASE_MB + (records * (mergeBytesPerRecord(fields, emit !== undefined) + largestSlice * digestBytesPerRecord(fields))) / BYTES_PER_MB;
    if (mergeMb > deps.memoryMb * MERGE_MEMORY_SHARE) {
      throw new ValidationError(
        "run",
        `the merge step holds about ${Math.ceil(mergeMb)} MB for this run's ${records} records (${mergeBytesPerRecord(fields, emit !== undefined)} bytes a record: ${fields} compared fields), more than ${Math.floor(deps.memoryMb * MERGE_MEMORY_SHARE)} MB of the function's ${deps.memoryMb} MB: raise memoryMb (up to 10240), drop fields from the comparison (drop), or verify the run's days or datasets one at a time`,
      );
    }
    const sizes = new Map<string, number>();
    const listed = await listOutput(outputSink, output.prefix, sizes);
    if (listed.files.length === 0) throw new ValidationError("output", `no data files under ${where(output.prefix)} (looked for .ndjson, .jsonl, .json, .csv, .parquet, optionally .gz)`);
    const listing: Listing = { files: listed.files.map((f) => ({ ...f, bytes: sizes.get(f.key) ?? 0 })), skipped: listed.skipped };
    const bytes = listing.files.reduce((n, f) => n + f.bytes, 0);
    const perSlice = Math.min(READ_BYTES_PER_VCPU_SECOND * vcpus * seconds * SLICE_TIME_SHARE, request.sliceBytes ?? Number.POSITIVE_INFINITY);
    const { pieces, warnings } = await piecesOf(listing.files, perSlice, outputSink);
    const pieceBytes = pieces.map((p) => (listing.files[p.file] as Listing["files"][number]).bytes / p.parts);
    await landing.putJson(`${scratch}listing.json`, { ...listing, pieces });
    const readSlices = Math.min(pieces.length, Math.max(Math.ceil(bytes / perSlice), deps.concurrency));
    const read: Slice[] = contiguous(
      pieceBytes.map((b) => Math.max(1, b)),
      readSlices,
    ).map((s, n) => ({ kind: "read", n, ...s }));
    const lambdaSeconds = generatedBytes / (rate * BYTES_PER_MB * vcpus) + bytes / (READ_BYTES_PER_VCPU_SECOND * vcpus);
    const gbSeconds = (lambdaSeconds * deps.memoryMb) / 1024;
    // GETs: a listing page per 1,000 keys, each object or piece once (a Parquet file: its footer, then each row group), the digests read back.
    const gets = Math.ceil(listing.files.length / 1000) + pieces.length + expect.length + read.length;
    const puts = expect.length + read.length + 2;
    const transitions = 6 + 3 * (expect.length + read.length);
    const dollars = gbSeconds * PRICE.lambdaGbSecond + (gets * PRICE.get1k + puts * PRICE.put1k + transitions * PRICE.transition1k) / 1000;
    return {
      action,
      request: request.raw,
      slices: [...expect, ...read],
      expect_slices: expect.length,
      read_slices: read.length,
      output: {
        location: where(output.prefix),
        objects: listing.files.length,
        bytes,
        skipped: listing.skipped.length,
        // Objects read in pieces by several slices, and how many pieces all objects make.
        ...(pieces.length > listing.files.length ? { split_objects: new Set(pieces.filter((p) => p.parts > 1).map((p) => p.file)).size, pieces: pieces.length } : {}),
      },
      ...(warnings.length ? { warnings } : {}),
      // A generate run's records are estimated from its first file; an emit run's and a scenario's are the plan's counts.
      merge: { records, memory_mb: Math.ceil(mergeMb) },
      run: run
        ? { run_id: request.runId, files: sources.length, bytes: generatedBytes }
        : { run_id: request.runId, streams: sources.length, events: totalEvents(emit as EmitRequest), bytes: Math.round(generatedBytes) },
      estimate: {
        lambda_gb_seconds: Math.round(gbSeconds * 10) / 10,
        s3_requests: { get: gets, put_and_list: puts },
        state_transitions: transitions,
        usd: Math.round(dollars * 10000) / 10000,
        assumes: `${READ_BYTES_PER_VCPU_SECOND / BYTES_PER_MB} MiB of output read and ${rate} MiB of the run recomputed per vCPU-second, at ${deps.memoryMb} MB; us-east-1 prices`,
      },
    };
  }

  if (action === "verify-slice") {
    const s = e.slice;
    if (typeof s !== "object" || s === null || Array.isArray(s)) throw new ValidationError("slice", `slice must be one of the plan's slices (got ${describe(s)})`);
    const slice = eventObject(s, ["kind", "n", "first", "count"]);
    if (slice.kind === "expect") {
      const from = integerField(slice, "first", -1, 0, sources.length - 1);
      const count = integerField(slice, "count", -1, 1, sources.length - from);
      const n = integerField(slice, "n", -1, 0, sources.length - 1);
      const parts = await expectedParts(sources.slice(from, from + count), checks.comparison, 1);
      const bytes = encodeExpectations(parts, checks.comparison.leaves.length);
      await landing.putBytes(`${scratch}expect-${digits(n)}.bin`, bytes);
      return { action, kind: "expect", n, files: count, records: parts.reduce((a, p) => a + p.count, 0), digest_bytes: bytes.length };
    }
    if (slice.kind !== "read") throw new ValidationError("slice.kind", `slice.kind must be expect or read (got ${describe(slice.kind)})`);
    const listing = await readListing(landing, scratch);
    const pieces = listing.pieces ?? listing.files.map((_, file) => ({ file, part: 0, parts: 1 }));
    const from = integerField(slice, "first", -1, 0, pieces.length - 1);
    const count = integerField(slice, "count", -1, 1, pieces.length - from);
    const n = integerField(slice, "n", -1, 0, pieces.length - 1);
    const objects = pieces.slice(from, from + count).map((p) => {
      const f = listing.files[p.file] as Listing["files"][number];
      return { key: f.key, format: f.format, ...(p.parts > 1 ? { piece: { part: p.part, parts: p.parts, bytes: f.bytes } } : {}) };
    });
    const bytes = await digestObjects(outputSink, objects, checks.comparison, checks.outName, request.options.require, request.options.events);
    await landing.putBytes(`${scratch}read-${digits(n)}.bin`, bytes);
    return { action, kind: "read", n, objects: count, digest_bytes: bytes.length };
  }

  // verify-merge: every digest back, in order, joined as `synthgen verify` joins what it reads.
  const expectSlices = integerField(e, "expect_slices", -1, 1, 100_000);
  const readSlices = integerField(e, "read_slices", -1, 1, 100_000);
  const listing = await readListing(landing, scratch);
  const width = checks.comparison.leaves.length;
  // The expect digests are read once to count, then again as they are merged, one at a time: only the merged run is held whole.
  const expectDigest = async (n: number) => decodeExpectations(await readDigest(landing, `${scratch}expect-${digits(n)}.bin`), width);
  let files = 0;
  let records = 0;
  let dirty = 0;
  for (let n = 0; n < expectSlices; n++) {
    for (const p of await expectDigest(n)) {
      files++;
      records += p.count;
      dirty += p.dirty.length;
    }
  }
  if (files !== sources.length) throw new Error(`the expect digests hold ${files} parts, the run has ${sources.length}: a slice is missing`);
  const parts: StoredExpectations = {
    records,
    dirty,
    async *parts() {
      for (let n = 0; n < expectSlices; n++) yield* await expectDigest(n);
    },
  };
  const objects = async function* (): AsyncGenerator<DigestedObject> {
    for (let n = 0; n < readSlices; n++) yield* decodeObjects(await readDigest(landing, `${scratch}read-${digits(n)}.bin`), width);
  };
  const report = await verifyDigests(
    sources,
    parts,
    checks,
    objects(),
    {
      where: where(output.prefix),
      location: where,
      skipped: listing.skipped,
      foundValues: (wanted) => readFoundValues(outputSink, (key) => listing.files.find((f) => f.key === key)?.format, checks.comparison, checks.outName, wanted),
    },
    request.options,
  );
  const body = { ...report, run: request.run };
  const reportKey = `${scratch}report.json`;
  await landing.putJson(reportKey, body);
  return {
    action,
    status: report.status,
    ...(report.status === "failed" ? { failed_by: report.failed_by } : {}),
    expected_records: report.expected_records,
    found: report.found,
    missing: report.missing,
    duplicated: report.duplicated,
    changed: report.changed,
    unexpected: report.unexpected,
    report_uri: `s3://${(deps.sink as { bucket: string }).bucket}/${reportKey}`,
  };
}

const digits = (n: number) => String(n).padStart(5, "0");

/** The listing the plan kept: every step reads the same objects in the same order. */
async function readListing(sink: FileSink, scratch: string): Promise<Listing> {
  const listing = (await sink.getJson(`${scratch}listing.json`)) as Listing | undefined;
  if (!listing) throw new ValidationError("request.scratch", `no listing under ${scratch}: run the plan step first`);
  return listing;
}

async function readDigest(sink: FileSink, key: string): Promise<Buffer> {
  const size = await sink.size(key);
  return Buffer.from(await sink.range(key, 0, size));
}
