import { ValidationError } from "../src/core/errors";
import { fileDatasetLoader, readSchemaFile, resolveDataset, resolveScenarioDataset } from "../src/catalog/resolve";
import { EMIT_DEFAULTS, parseEmitRequest, type EmitRequest } from "../src/events/request";
import { emitRunOfReport } from "../src/verify/emit-run";
import type { ResolvedDataset } from "../src/records/dataset";
import { eventFrom, numeric, parsePairs } from "./common";
import { readRunDocument } from "./run-document";
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

/** The dataset an emit run sent when it is not a built-in: a scenario's (`--scenario` with `--dataset`), a schema file or a stored dataset. */
async function datasetOf(flags: VerifyFlags, event: { readonly dataset?: unknown }): Promise<ResolvedDataset | undefined> {
  if (flags.scenario === undefined) return resolveDataset(event, fileDatasetLoader);
  if (flags.dataset === undefined) throw new ValidationError("dataset", "--scenario needs --dataset, the scenario's dataset the run sent");
  return resolveScenarioDataset(await readSchemaFile("scenario", flags.scenario), flags.scenario, flags.dataset, "scenario");
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
    const text = await readRunDocument("emit_report", "--emit-report", flags.emitReport, MAX_REPORT_BYTES, flags.endpoint, "a synthgen emit report");
    let report: unknown;
    try {
      report = JSON.parse(text);
    } catch {
      throw new ValidationError("emit_report", `--emit-report ${flags.emitReport}: not JSON`);
    }
    if (typeof report !== "object" || report === null || Array.isArray(report)) throw new ValidationError("emit_report", `--emit-report ${flags.emitReport}: not a synthgen emit report`);
    const fields = report as Record<string, unknown>;
    const named = fields.dataset;
    // A schema file or a scenario's dataset is named by the report; the file itself is given again.
    const custom = await datasetOf(flags, { dataset: flags.dataset ?? named });
    const sent = custom?.name ?? flags.dataset ?? named;
    if (named !== undefined && sent !== named) throw new ValidationError("dataset", `--dataset ${flags.dataset}: that is ${String(sent)}; the report's run sent ${String(named)}`);
    try {
      return { request: emitRunOfReport(fields, `--emit-report ${flags.emitReport}`, custom), custom };
    } catch (err) {
      if (err instanceof ValidationError && err.field === "scenario") throw new ValidationError("scenario", `--scenario ${flags.scenario}: ${err.message}`);
      throw err;
    }
  }
  if (flags.runId === undefined) throw new ValidationError("run_id", "--run-id is required to verify an emit run by its flags (or give --emit-report with what emit printed)");
  if (flags.date === undefined) {
    throw new ValidationError("date_prefix", "--date is required to verify an emit run by its flags: without it emit takes the clock's day and time; give --emit-report with what emit printed");
  }
  const event = eventFrom({
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
  const custom = await datasetOf(flags, event);
  if (custom?.defaultSeed !== undefined) delete event.dataset;
  // Verify sends nothing: a placeholder target satisfies the parser (it is not part of the run's identity).
  const request = parseEmitRequest(event, { ...EMIT_DEFAULTS, target: { kind: "http", url: "http://verify.invalid/" } }, { now: new Date() }, custom);
  return { request, custom };
}
