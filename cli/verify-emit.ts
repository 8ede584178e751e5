import { ValidationError } from "../src/core/errors";
import { fileDatasetLoader, readSchemaFile, resolveDataset, resolveScenarioDataset } from "../src/catalog/resolve";
import { EMIT_DEFAULTS, EMIT_FAN_OUT_LIMITS, parseEmitRequest, type EmitRequest } from "../src/events/request";
import type { ResolvedDataset } from "../src/records/dataset";
import { eventFrom, numeric, parsePairs } from "./common";
import type { VerifyFlags } from "./verify-flags";

/** The flags of a generate run that an emit run has no use for: naming one with an emit run is an error, not ignored. */
const GENERATE_ONLY: readonly (keyof VerifyFlags)[] = ["manifest", "files", "sizeMb", "from", "to", "partition", "dailyCurve", "format", "parquetCodec"];
const FLAG_NAMES: Partial<Record<keyof VerifyFlags, string>> = {
  manifest: "--manifest",
  files: "--files",
  sizeMb: "--size-mb",
  from: "--from",
  to: "--to",
  partition: "--partition",
  dailyCurve: "--daily-curve",
  format: "--format",
  parquetCodec: "--parquet-codec",
};

/** Whether the flags name an emit run (its report, or emit's own stream flags) rather than a generate run. */
export function isEmitRun(flags: VerifyFlags): boolean {
  return flags.emitReport !== undefined || flags.streams !== undefined || flags.eventsPerStream !== undefined;
}

/** An emit report (what `synthgen emit` printed, or the emit-events function's response) is at most this big: its errors are capped. */
const MAX_REPORT_BYTES = 16 * 1024 * 1024;

const HHMMSS = /^\d{6}$/;

/** The event `emit` parsed, from its report: the run's identity, its streams and their events. */
function eventFromReport(report: Record<string, unknown>, where: string): { event: Record<string, unknown>; streamEvents?: number[] } {
  const { run_id, seed, date_prefix, hhmmss, streams, events_per_stream, events_by_stream, dirty_rates, event_weights, dataset } = report;
  if (typeof run_id !== "string" || typeof date_prefix !== "string" || typeof hhmmss !== "string" || !HHMMSS.test(hhmmss) || typeof streams !== "number") {
    throw new ValidationError(
      "emit_report",
      `--emit-report ${where}: not a synthgen emit report (no run_id, date_prefix, hhmmss and streams; reports of synthgen before verify of emit runs lack the time: rerun emit)`,
    );
  }
  let streamEvents: number[] | undefined;
  if (events_by_stream !== undefined) {
    if (!Array.isArray(events_by_stream) || events_by_stream.length !== streams || !events_by_stream.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new ValidationError("emit_report", `--emit-report ${where}: events_by_stream must list a whole number of events for each of its ${streams} streams`);
    }
    streamEvents = events_by_stream as number[];
    const total = streamEvents.reduce((a, b) => a + b, 0);
    if (total > EMIT_FAN_OUT_LIMITS.MAX_EVENTS) throw new ValidationError("emit_report", `--emit-report ${where}: ${total} events, more than a run sends`);
  }
  return {
    event: eventFrom({
      dataset,
      run_id,
      seed,
      date_prefix,
      time: `${date_prefix}T${hhmmss.slice(0, 2)}:${hhmmss.slice(2, 4)}:${hhmmss.slice(4, 6)}Z`,
      stream_count: streams,
      // The counts come from the report: a count of 1 stands in while parsing, replaced below.
      events_per_stream: streamEvents ? undefined : events_per_stream,
      dirty: dirty_rates,
      event_weights,
    }),
    ...(streamEvents ? { streamEvents } : {}),
  };
}

/**
 * The emit run the flags name, as `synthgen emit` parsed it: from its report (`--emit-report`),
 * or from the flags emit took (`--streams`, `--events-per-stream`, `--date`, `--run-id`, …).
 * Verify sends nothing, so the target is not asked for: it is not part of a run's identity.
 */
export async function emitRunOf(flags: VerifyFlags): Promise<{ request: EmitRequest; custom: ResolvedDataset | undefined }> {
  for (const f of GENERATE_ONLY) {
    if (flags[f] !== undefined)
      throw new ValidationError(f, `${FLAG_NAMES[f]} applies to a generate run; an emit run is named by --emit-report, or by --streams, --events-per-stream, --date and --run-id`);
  }
  let event: Record<string, unknown>;
  let streamEvents: number[] | undefined;
  let named: unknown;
  if (flags.emitReport !== undefined) {
    for (const [flag, v] of [
      ["--streams", flags.streams],
      ["--events-per-stream", flags.eventsPerStream],
      ["--run-id", flags.runId],
      ["--date", flags.date],
      ["--seed", flags.seed],
      ["--dirty", flags.dirty],
      ["--weights", flags.weights],
      ["--skew", flags.skew],
    ] as const) {
      if (v !== undefined) throw new ValidationError("emit_report", `${flag} is in the emit report: give --emit-report or the run's flags, not both`);
    }
    const { readText } = require("../src/sinks/local") as typeof import("../src/sinks/local");
    const text = await readText(flags.emitReport, MAX_REPORT_BYTES).catch((err: NodeJS.ErrnoException) => {
      throw new ValidationError("emit_report", `--emit-report ${flags.emitReport}: cannot read it (${err.code ?? err.message})`);
    });
    if (text.length > MAX_REPORT_BYTES) throw new ValidationError("emit_report", `--emit-report ${flags.emitReport}: larger than ${MAX_REPORT_BYTES} bytes, not a synthgen emit report`);
    let report: unknown;
    try {
      report = JSON.parse(text);
    } catch {
      throw new ValidationError("emit_report", `--emit-report ${flags.emitReport}: not JSON`);
    }
    if (typeof report !== "object" || report === null || Array.isArray(report)) throw new ValidationError("emit_report", `--emit-report ${flags.emitReport}: not a synthgen emit report`);
    ({ event, streamEvents } = eventFromReport(report as Record<string, unknown>, flags.emitReport));
    named = (report as { dataset?: unknown }).dataset;
    // A schema file or a scenario's dataset is named by the report; the file itself is given again.
    if (flags.dataset !== undefined) event.dataset = flags.dataset;
  } else {
    if (flags.runId === undefined) throw new ValidationError("run_id", "--run-id is required to verify an emit run by its flags (or give --emit-report with what emit printed)");
    if (flags.date === undefined) {
      throw new ValidationError("date_prefix", "--date is required to verify an emit run by its flags: without it emit takes the clock's day and time; give --emit-report with what emit printed");
    }
    event = eventFrom({
      dataset: flags.dataset,
      stream_count: numeric(flags.streams),
      events_per_stream: numeric(flags.eventsPerStream),
      event_weights: parsePairs("--weights", flags.weights),
      dirty: parsePairs("--dirty", flags.dirty),
      seed: numeric(flags.seed),
      run_id: flags.runId,
      date_prefix: flags.date,
      stream_skew: flags.skew === undefined ? undefined : /^zipf:/.test(flags.skew.trim()) ? { zipf: numeric(flags.skew.trim().slice(5)) } : flags.skew,
    });
  }
  let custom: ResolvedDataset | undefined;
  if (flags.scenario !== undefined) {
    if (flags.dataset === undefined) throw new ValidationError("dataset", "--scenario needs --dataset, the scenario's dataset the run sent");
    custom = resolveScenarioDataset(await readSchemaFile("scenario", flags.scenario), flags.scenario, flags.dataset, "scenario");
    delete event.dataset;
  } else custom = await resolveDataset(event, fileDatasetLoader);
  const sent = custom?.name ?? event.dataset;
  if (named !== undefined && sent !== undefined && sent !== named) throw new ValidationError("dataset", `--dataset ${flags.dataset}: that is ${String(sent)}; the report's run sent ${String(named)}`);
  // A scenario's dataset fixes its counts; a report's counts stand for the rest.
  const counted = custom?.defaultSeed !== undefined;
  if (streamEvents && !counted) event.events_per_stream = 1;
  // Verify sends nothing: a placeholder target satisfies the parser (it is not part of the run's identity).
  let request = parseEmitRequest(event, { ...EMIT_DEFAULTS, target: { kind: "http", url: "http://verify.invalid/" } }, { now: new Date() }, custom);
  if (streamEvents) {
    if (counted && JSON.stringify(request.streamEvents) !== JSON.stringify(streamEvents)) {
      throw new ValidationError("scenario", `--scenario ${flags.scenario} does not give the report's events per stream (${JSON.stringify(streamEvents).slice(0, 80)}): not the scenario the run sent`);
    }
    request = Object.freeze({ ...request, streamEvents });
  }
  return { request, custom };
}
