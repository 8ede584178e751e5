/**
 * The run metrics the functions emit as CloudWatch Embedded Metric Format log lines (no
 * `PutMetricData`, no permission) and the stack's dashboard shows: one namespace, each metric
 * under the dimensions `service` (the function) and `Dataset`, dirty records also by `DirtyKind`;
 * the run id rides along as a property (not a dimension: a dimension per run would be a custom
 * metric per run), so a Logs Insights query finds a run's lines.
 */
export const RUN_METRICS_NAMESPACE = "synthgen";

export const RUN_DIMENSIONS = ["service", "Dataset"] as const;
export const DIRTY_DIMENSIONS = ["service", "Dataset", "DirtyKind"] as const;

/** generate-files: a run, or one shard of the fan-out. */
export const FILE_METRICS = {
  files: "FilesWritten",
  failed: "FilesFailed",
  bytes: "BytesWritten",
  records: "RecordsWritten",
  dirty: "DirtyRecords",
} as const;

/** A metric as it is emitted and shown: its name and the dimensions it carries. */
export interface RunMetric {
  readonly name: string;
  readonly dimensions: readonly string[];
}

/** emit-events: a run, or one emitter's cell of the emit fan-out. */
export const EMIT_METRICS = {
  sent: "EventsSent",
  failed: "EventsFailed",
  retried: "EventsRetried",
  rate: "EventsPerSecond",
  target: "TargetEventsPerSecond",
} as const;

/** Each function's run metrics, with their dimensions (dirty records also by kind). */
export const FILE_RUN_METRICS: readonly RunMetric[] = Object.values(FILE_METRICS).map((name) => ({ name, dimensions: name === FILE_METRICS.dirty ? DIRTY_DIMENSIONS : RUN_DIMENSIONS }));
export const EMIT_RUN_METRICS: readonly RunMetric[] = Object.values(EMIT_METRICS).map((name) => ({ name, dimensions: RUN_DIMENSIONS }));
