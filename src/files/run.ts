import type { RunPlan } from "./plan";
import type { FilePool } from "./pool";
import { sinkLocation, type SinkSpec } from "../sinks/sink";
import { addCounts, type DirtyCounts } from "../records/dirty";
import { BYTES_PER_MB } from "../core/limits";
import type { FileResult } from "./write-file";

/** A file that was not written, and why. */
export interface FileFailure {
  readonly index: number;
  readonly key: string;
  readonly error: string;
}

/** Everything a run produced, in file order. */
export interface RunOutcome {
  readonly plan: RunPlan;
  readonly sink: SinkSpec;
  readonly written: readonly FileResult[];
  readonly failures: readonly FileFailure[];
  readonly durationMs: number;
}

/** Called as each file finishes, for progress displays. */
export type FileDoneListener = (result: FileResult | FileFailure) => void;

/**
 * Runs every file of a plan on the pool. All files are attempted even when some fail, so the
 * outcome lists exactly which keys are missing; the caller decides how to fail. Keys in
 * `present` (a resume) are checked first and left alone when they hold this run's file.
 */
export async function executeRun(plan: RunPlan, sink: SinkSpec, pool: FilePool, onFileDone?: FileDoneListener, present?: ReadonlySet<string>): Promise<RunOutcome> {
  const started = performance.now();
  const settled = await Promise.all(
    plan.files.map(async (file) => {
      try {
        const result = await pool.run({ file, sink, ...(present?.has(file.key) ? { skipExisting: true } : {}) });
        onFileDone?.(result);
        return result;
      } catch (err) {
        const failure: FileFailure = { index: file.fileIndex, key: file.key, error: err instanceof Error ? err.message : String(err) };
        onFileDone?.(failure);
        return failure;
      }
    }),
  );
  return {
    plan,
    sink,
    written: settled.filter((r): r is FileResult => "sha256" in r),
    failures: settled.filter((r): r is FileFailure => "error" in r),
    durationMs: Math.round(performance.now() - started),
  };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Distinct causes a response lists; `failed` counts every failure. */
export const LISTED_ERRORS = 10;

/**
 * Failures folded by cause (the message with its key taken out), the first `LISTED_ERRORS`
 * causes, each with the first key it hit and how many files it hit: 10,000 identical EACCES
 * errors are one line, not 1.3 MB of JSON.
 */
export function foldErrors(failures: readonly FileFailure[]): { key: string; error: string; count: number }[] {
  const byCause = new Map<string, { key: string; error: string; count: number }>();
  for (const f of failures) {
    const cause = f.error.replaceAll(f.key, "{key}");
    const seen = byCause.get(cause);
    if (seen) seen.count++;
    else byCause.set(cause, { key: f.key, error: f.error, count: 1 });
  }
  return [...byCause.values()].slice(0, LISTED_ERRORS);
}

/** How many files a response lists, as the original generator did. */
export const LISTED_FILES = 10;

/**
 * The response body in the original generator's shape (status, totals, bucket, date_prefix and
 * the first ten files), plus record counts, the run's identity and its speed.
 */
export function responseBody(outcome: RunOutcome) {
  const { plan, written, failures } = outcome;
  const location = sinkLocation(outcome.sink);
  const totalBytes = written.reduce((sum, f) => sum + f.bytes, 0);
  const totalMb = totalBytes / BYTES_PER_MB;
  const seconds = outcome.durationMs / 1000;
  return {
    status: failures.length === 0 ? "completed" : "failed",
    total_files: plan.files.length,
    successful: written.length,
    failed: failures.length,
    total_size_mb: round2(totalMb),
    average_size_mb: written.length ? round2(totalMb / written.length) : 0,
    ...location.where,
    date_prefix: plan.request.datePrefix,
    files: written.slice(0, LISTED_FILES).map((f) => ({
      status: "success",
      ...location.where,
      key: f.key,
      size_bytes: f.bytes,
      size_mb: round2(f.bytes / BYTES_PER_MB),
      ...location.fileFields(f.key),
      record_count: f.records,
      sha256: f.sha256,
      ...(f.uncompressedBytes !== undefined ? { uncompressed_bytes: f.uncompressedBytes } : {}),
    })),
    ...(failures.length ? { errors: foldErrors(failures) } : {}),
    dataset: plan.request.dataset,
    ...(plan.request.format !== "ndjson" ? { format: plan.request.format, total_uncompressed_bytes: written.reduce((sum, f) => sum + (f.uncompressedBytes ?? f.bytes), 0) } : {}),
    run_id: plan.request.runId,
    seed: plan.request.seed,
    total_records: written.reduce((sum, f) => sum + f.records, 0),
    duration_ms: outcome.durationMs,
    mb_per_s: seconds > 0 ? round2(totalMb / seconds) : 0,
    ...(plan.request.days.length > 1
      ? { date_from: plan.request.days[0], date_to: plan.request.days[plan.request.days.length - 1], days: plan.request.days.length, partition: plan.request.partition }
      : {}),
    ...(plan.request.dirty ? { dirty_rates: plan.request.dirty } : {}),
    // A scenario's orphans and dangling references are counted like dirt, asked for or not.
    ...(plan.request.dirty || written.some((f) => f.dirty) ? { dirty_records: written.reduce((total, f) => addCounts(total, f.dirty), {} as DirtyCounts) } : {}),
  };
}

export type ResponseBody = ReturnType<typeof responseBody>;
