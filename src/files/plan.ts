import type { GenerateRequest } from "./request";
import { FORMAT_INFO, type Format } from "../formats";
import { BYTES_PER_MB } from "../core/limits";
import type { PlannedFile } from "../sinks/sink";

/** A run split into files; file i is shard i and can be written by any thread in any order. */
export interface RunPlan {
  readonly request: GenerateRequest;
  /** The configured prefix followed by the request's own. */
  readonly keyPrefix: string;
  readonly targetBytes: number;
  /**
   * What each file is planned to take: its target, or a scenario dataset's expected bytes per file
   * when larger (its files hold whole entities). Every pre-flight — free space, the time check,
   * the fan-out's shard layout — plans with this.
   */
  readonly fileBytes: number;
  readonly files: readonly PlannedFile[];
}

/** The seed's key pattern: `{date_prefix}-test{seq:04d}-{HHMMSS}.ndjson` under the prefix, with the format's extension. */
export function fileKey(keyPrefix: string, datePrefix: string, index: number, hhmmss: string, format: Format = "ndjson"): string {
  return `${keyPrefix}${datePrefix}-test${String(index).padStart(4, "0")}-${hhmmss}${FORMAT_INFO[format].extension}`;
}

/**
 * Plans a run: `file_count` files per day (one day, or each day of a backfill), all fields derived
 * from the request alone. A backfill with `partition: dt` puts each day under `dt=YYYY-MM-DD/`.
 */
export function planRun(request: GenerateRequest, configuredPrefix: string): RunPlan {
  const keyPrefix = configuredPrefix + request.keyPrefix;
  const targetBytes = Math.round(request.targetSizeMb * BYTES_PER_MB);
  const files = request.days.flatMap((day) =>
    Array.from({ length: request.fileCount }, (_, fileIndex) => ({
      dataset: request.dataset,
      seed: request.seed,
      runId: request.runId,
      datePrefix: day,
      hhmmss: request.hhmmss,
      fileIndex,
      fileCount: request.fileCount,
      targetBytes,
      ...(request.schema !== undefined ? { schema: request.schema } : {}),
      ...(request.dirty ? { dirty: request.dirty } : {}),
      ...(request.dailyCurve ? { dailyCurve: true } : {}),
      ...(request.format !== "ndjson" ? { format: request.format } : {}),
      ...(request.parquetCodec ? { parquetCodec: request.parquetCodec } : {}),
      key: fileKey(request.partition === "dt" ? `${keyPrefix}dt=${day}/` : keyPrefix, day, fileIndex, request.hhmmss, request.format),
    })),
  );
  const fileBytes = Math.max(targetBytes, Math.ceil(request.expectedFileBytes ?? 0));
  return { request, keyPrefix, targetBytes, fileBytes, files };
}
