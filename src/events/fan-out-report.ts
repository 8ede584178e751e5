import { addCounts, type DirtyCounts } from "../records/dirty";
import { targetLabel } from "./emit";
import { waveWindow, type EmitLayout } from "./fan-out";
import type { EmitRequest } from "./request";
import { cumulative } from "./shape";
import { addHistograms, LISTED_FAILURES, percentilesOf, type EventFailure } from "./stats";

/** What one emitter wrote of its cell (`{prefix}_emit/{run_id}/cells/w{wave}-e{emitter}.json`). */
export interface CellSummary {
  readonly emitter: number;
  readonly wave: number;
  /** The cell's window in shape seconds. */
  readonly from: number;
  readonly to: number;
  /** Its streams: [first, end). */
  readonly streams: readonly [number, number];
  /** When it started sending (epoch ms): second j of `per_second` is shape second from + j. */
  readonly started_at: number;
  readonly duration_ms: number;
  readonly events: number;
  /** The whole run's target for the window (all emitters), for the record. */
  readonly target_events: number;
  readonly sent: number;
  readonly failed: number;
  readonly retried: number;
  readonly by_event_type: Record<string, { sent: number; failed: number }>;
  readonly latency_histogram: Record<string, number>;
  readonly per_second: readonly number[];
  readonly errors: readonly EventFailure[];
  readonly dirty_records?: DirtyCounts;
  /** Started once before without leaving a summary: part of its events may have been sent twice. */
  readonly restarted?: boolean;
}

/**
 * The run's report from its cells' summaries: totals, latency percentiles from the merged
 * histograms, and second by second of the shape the target against what all emitters sent. Missing
 * cells (an emitter that failed or timed out) are listed and make the run failed.
 */
export function mergeCells(request: EmitRequest, layout: EmitLayout, cells: readonly (CellSummary | undefined)[]) {
  const shape = request.shape as NonNullable<EmitRequest["shape"]>;
  const present = cells.filter((c): c is CellSummary => c !== undefined);
  const missing = cells.flatMap((c, i) => (c ? [] : [{ wave: Math.floor(i / layout.emitters), emitter: i % layout.emitters }]));
  const sum = (f: (c: CellSummary) => number) => present.reduce((n, c) => n + f(c), 0);
  const total = request.streamEvents ? request.streamEvents.reduce((a, b) => a + b, 0) : 0;
  const sent = sum((c) => c.sent);
  const failed = sum((c) => c.failed);
  const unsent = total - sent - failed;
  const byType: Record<string, { sent: number; failed: number }> = {};
  for (const c of present) {
    for (const [type, n] of Object.entries(c.by_event_type)) {
      const t = (byType[type] ??= { sent: 0, failed: 0 });
      t.sent += n.sent;
      t.failed += n.failed;
    }
  }
  const histogram = present.reduce((h, c) => addHistograms(h, c.latency_histogram), {} as Record<string, number>);
  // Shape second k: the target across all emitters against what they sent in it.
  const seconds = Math.ceil(shape.durationS);
  const achieved = new Array<number>(seconds).fill(0);
  for (const c of present)
    c.per_second.forEach((n, j) => {
      const k = Math.floor(c.from) + j;
      if (k < seconds) achieved[k] = (achieved[k] as number) + n;
      else achieved[seconds - 1] = (achieved[seconds - 1] as number) + n;
    });
  const rows = achieved.map((a, k) => {
    const target = cumulative(shape, Math.min(k + 1, shape.durationS)) - cumulative(shape, k);
    return { second: k, target: Math.round(target * 10) / 10, achieved: a };
  });
  // The first second of each wave is its emitters' start-up; like one invocation's first second, not judged.
  const waveStarts = new Set(Array.from({ length: layout.waves }, (_, w) => Math.floor(waveWindow(layout, shape, w).from)));
  const misses = rows.filter((r) => !waveStarts.has(r.second) && r.target >= 10).map((r) => Math.abs(r.achieved - r.target) / r.target);
  const failedRatio = total ? (failed + Math.max(0, unsent)) / total : 0;
  const restarted = present.filter((c) => c.restarted).map((c) => ({ wave: c.wave, emitter: c.emitter }));
  const waveStartedAt = Array.from({ length: layout.waves }, (_, w) => {
    const starts = present.filter((c) => c.wave === w).map((c) => c.started_at);
    if (starts.length === 0) return { wave: w, started_at: null, late_ms: null, spread_ms: null };
    const first = Math.min(...starts);
    const due = layout.startAt + waveWindow(layout, shape, w).from * 1000;
    return { wave: w, started_at: new Date(first).toISOString(), late_ms: Math.max(0, first - due), spread_ms: Math.max(...starts) - first };
  });
  const dirty = present.some((c) => c.dirty_records) ? present.reduce((t, c) => addCounts(t, c.dirty_records), {} as DirtyCounts) : undefined;
  return {
    status: missing.length > 0 || failedRatio > request.maxFailedRatio ? ("failed" as const) : ("completed" as const),
    target: targetLabel(request.target),
    dataset: request.dataset,
    run_id: request.runId,
    seed: request.seed,
    // The rest of the run's identity, so verify recomputes the very events (`synthgen verify --emit-report`, the verify state machine's `emit`).
    date_prefix: request.datePrefix,
    hhmmss: request.hhmmss,
    ...(request.eventWeights ? { event_weights: request.eventWeights } : {}),
    ...(request.blockEvents ? { block_events: request.blockEvents } : {}),
    shape: shape.text,
    arrivals: request.arrivals,
    duration_s: shape.durationS,
    streams: request.streamCount,
    emitters: layout.emitters,
    waves: layout.waves,
    wave_seconds: layout.waveSeconds,
    total_events: total,
    sent,
    failed,
    // Events of missing cells: neither sent nor failed as far as any summary says.
    unaccounted: Math.max(0, unsent),
    retried: sum((c) => c.retried),
    failed_ratio: Math.round(failedRatio * 10_000) / 10_000,
    max_failed_ratio: request.maxFailedRatio,
    latency: percentilesOf(histogram),
    by_event_type: Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b))),
    max_rate_error: misses.length ? Math.round(Math.max(...misses) * 1000) / 1000 : 0,
    wave_starts: waveStartedAt,
    missing_cells: missing,
    ...(restarted.length
      ? { restarted_cells: restarted, warning: "restarted cells started once before without finishing: a receiver may have seen part of their events twice (same idempotency keys)" }
      : {}),
    ...(dirty ? { dirty_rates: request.dirty, dirty_records: dirty } : {}),
    errors: present.flatMap((c) => c.errors).slice(0, LISTED_FAILURES),
    seconds: rows,
    // Each stream's events (one number per stream, up to 100,000): in report.json, not in the step's answer.
    events_by_stream: request.streamEvents ?? [],
  };
}
