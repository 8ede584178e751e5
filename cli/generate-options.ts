import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { ValidationError } from "../src/core/errors";
import { isHttpUrl } from "../src/core/fields";
import { LIMITS } from "../src/core/limits";
import { threadsForVolume } from "../src/files/capacity";
import { normaliseKeyPrefix } from "../src/files/request";
import type { SinkSpec } from "../src/sinks";
import { eventFrom, numeric } from "./common";

/** `synthgen generate` flags, as commander hands them over (strings until validated). */
export interface GenerateFlags {
  files?: string;
  sizeMb?: string;
  date?: string;
  dataset?: string;
  seed?: string;
  runId?: string;
  keyPrefix?: string;
  threads?: string;
  out: string;
  endpoint?: string;
  shards?: string;
  from?: string;
  to?: string;
  partition?: string;
  dailyCurve?: boolean;
  format?: string;
  parquetCodec?: string;
  dirty?: string;
  ignoreFreeSpace?: boolean;
  scenario?: string;
  /** A database --out: create the tables that are missing. */
  createTables?: boolean;
}

/** The flags that name a generate run: what `generate` takes and `verify` takes again. */
export type RunFlags = Pick<GenerateFlags, "files" | "sizeMb" | "date" | "dataset" | "seed" | "runId" | "from" | "to" | "partition" | "dailyCurve" | "format" | "parquetCodec">;

/** A generate run's event from its flags (dirt aside, which the caller parses where its errors are caught). */
export function runEventOf(flags: RunFlags): Record<string, unknown> {
  return eventFrom({
    file_count: numeric(flags.files),
    target_size_mb: numeric(flags.sizeMb),
    date_prefix: flags.date,
    dataset: flags.dataset,
    seed: numeric(flags.seed),
    run_id: flags.runId,
    date_from: flags.from,
    date_to: flags.to,
    partition: flags.partition,
    daily_curve: flags.dailyCurve,
    format: flags.format,
    parquet_codec: flags.parquetCodec,
  });
}

/** Which flag carries each event field, so CLI errors name what the user typed. */
export const FLAG_FOR_FIELD: Record<string, string> = {
  file_count: "--files",
  target_size_mb: "--size-mb",
  date_prefix: "--date",
  dataset: "--dataset",
  seed: "--seed",
  run_id: "--run-id",
  key_prefix: "--key-prefix",
  date_from: "--from",
  date_to: "--to",
  partition: "--partition",
  daily_curve: "--daily-curve",
  dirty: "--dirty",
  format: "--format",
  parquet_codec: "--parquet-codec",
};

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `--out`: `s3://bucket/prefix` or a local folder. Returns the sink and the prefix it implies. */
export function parseDestination(out: string, endpoint: string | undefined): { sink: SinkSpec; prefix: string } {
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    throw new ValidationError("--endpoint", `--endpoint must be an http:// or https:// URL (got "${endpoint}")`);
  }
  const m = /^s3:\/\/([^/]*)\/?(.*)$/.exec(out);
  if (!m) {
    if (endpoint !== undefined) throw new ValidationError("--endpoint", "--endpoint needs an s3:// destination in --out");
    return { sink: { kind: "local", dir: resolve(out) }, prefix: "" };
  }
  const bucket = m[1] ?? "";
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new ValidationError("--out", `--out must name an S3 bucket of 3 to 63 lowercase letters, digits, "." or "-" (got "${bucket}")`);
  }
  return {
    sink: { kind: "s3", bucket, ...(endpoint ? { endpoint } : {}) },
    prefix: normaliseKeyPrefix("--out", m[2] ?? ""),
  };
}

/** `--threads`, or by default as many as the planned volume pays for (see MIB_PER_THREAD). */
export function parseThreads(text: string | undefined, plannedMib: number): number {
  const cores = availableParallelism();
  if (text === undefined) return threadsForVolume(plannedMib, cores);
  const n = numeric(text);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 64) {
    throw new ValidationError("--threads", `--threads must be a whole number from 1 to 64 (got "${text}")`);
  }
  return n;
}

export function parseShards(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = numeric(text);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > LIMITS.MAX_FILE_COUNT) {
    throw new ValidationError("--shards", `--shards must be a whole number from 1 to ${LIMITS.MAX_FILE_COUNT} (got "${text}")`);
  }
  return n;
}
