import { CapacityError } from "../core/errors";
import type { Format, ParquetCodec } from "../formats";
import { BYTES_PER_MB } from "../core/limits";
import { MB_PER_VCPU, vcpusFor } from "../core/vcpus";
import type { RunPlan } from "./plan";

/**
 * Rate used to refuse runs that cannot finish: MiB of NDJSON written to S3 per second per vCPU.
 * Deliberately well under what `npm run bench` measures (see the README's performance table),
 * because a refused plan costs a retry with a smaller request while a timed-out one costs the run.
 */
export const CONSERVATIVE_MIB_PER_S_PER_VCPU = 20;

/**
 * Each format's rate as a share of NDJSON's, in stored MiB: its MiB/s for one 1 GiB file to S3 at
 * one thread (counted, then streamed in parts: the slowest path) against NDJSON's in the same run,
 * rounded down — `npm run bench -- --formats-only --large-gib`, last column (docs/formats.md):
 * 2026-11-28 ndjson.gz 0.16, csv 0.39, csv.gz 0.11, parquet 0.11 (0.09 in a run by hand). A
 * stored MiB of the compressed formats holds 3–5× the records, and Parquet encodes every value.
 */
export const FORMAT_RATE_SHARE: Readonly<Record<Format, number>> = {
  ndjson: 1,
  "ndjson.gz": 0.15,
  csv: 0.35,
  "csv.gz": 0.1,
  parquet: 0.09,
};

/**
 * Parquet pages compressed with gzip or zstd hold more records per stored MiB and compress slower:
 * one 20 MiB file, 1 thread, Node 22, two runs each — snappy 2.8–3.5 s, zstd 4.7–5.2 s, gzip
 * 4.2–4.9 s (`synthgen generate --format parquet --parquet-codec C --size-mb 20 --files 1 --threads 1`).
 */
const SLOW_CODEC_SHARE = 0.5;

/** The conservative rate of a format (and Parquet codec), in stored MiB per second per vCPU. */
export function conservativeRate(format: Format, parquetCodec?: ParquetCodec): number {
  const codec = format === "parquet" && (parquetCodec === "gzip" || parquetCodec === "zstd") ? SLOW_CODEC_SHARE : 1;
  return CONSERVATIVE_MIB_PER_S_PER_VCPU * FORMAT_RATE_SHARE[format] * codec;
}

const describeFormat = (request: { readonly format: Format; readonly parquetCodec?: ParquetCodec | undefined }): string =>
  request.format === "parquet" && request.parquetCodec ? `parquet (${request.parquetCodec})` : request.format;

/** The rate the time check and the fan-out's shards plan a request's files with. */
export const rateOf = (request: { readonly format: Format; readonly parquetCodec?: ParquetCodec | undefined }): number => conservativeRate(request.format, request.parquetCodec);

/** Share of the remaining time a plan may be expected to use; the rest covers start-up and jitter. */
const TIME_SAFETY = 0.8;

/**
 * Worker threads for a pool: one per vCPU the memory buys (at least one), capped by the cores.
 * `os.availableParallelism()` reports the host's cores, not the function's share, so a 512 MB
 * function that sized its pool from it would run 2 threads on 0.3 vCPU.
 */
export function threadsFor(memoryMb: number | undefined, cores: number): number {
  if (memoryMb === undefined) return Math.max(1, cores);
  return Math.max(1, Math.min(cores, Math.round(memoryMb / MB_PER_VCPU)));
}

/**
 * Planned output per thread below which another thread costs more to start than it saves: it
 * loads every module again before its first record. Measured on 2 cores, whole process, local
 * folder: 10 × 3.5 MiB took 535–742 ms on 1 thread and 768–815 ms on 2; 40 × 3.5 MiB took
 * 1,318–1,716 ms on 1 and 1,055–1,571 ms on 2.
 */
export const MIB_PER_THREAD = 64;

/** The CLI's default: one thread per MIB_PER_THREAD of planned output, at least one, at most the cores. */
export function threadsForVolume(totalMib: number, cores: number): number {
  return Math.max(1, Math.min(cores, Math.ceil(totalMib / MIB_PER_THREAD)));
}

/** Seconds a plan should take at the conservative rate with this much CPU. */
export function estimateSeconds(plan: RunPlan, vcpus: number): number {
  const rate = rateOf(plan.request);
  const fileMb = plan.fileBytes / BYTES_PER_MB;
  const totalMb = fileMb * plan.files.length;
  // A single file is written by one thread, so it gets at most one vCPU however many there are.
  return Math.max(totalMb / (rate * vcpus), fileMb / (rate * Math.min(1, vcpus)));
}

/**
 * Refuses a plan that would not finish in the remaining time, with what to change. Called before
 * anything is written, so a refused run leaves nothing behind.
 */
export function assertFitsInTime(plan: RunPlan, memoryMb: number, cores: number, remainingMs: number): void {
  const vcpus = vcpusFor(memoryMb, cores);
  const needed = estimateSeconds(plan, vcpus);
  const available = (remainingMs / 1000) * TIME_SAFETY;
  if (needed <= available) return;
  const totalMb = (plan.fileBytes / BYTES_PER_MB) * plan.files.length;
  throw new CapacityError(
    "file_count",
    `file_count × target_size_mb = ${totalMb.toFixed(1)} MiB needs about ${Math.ceil(needed)} s at ${memoryMb} MB ` +
      `(${vcpus.toFixed(2)} vCPU at a conservative ${Number(rateOf(plan.request).toFixed(2))} MiB/s per vCPU for ${describeFormat(plan.request)}), but only ` +
      `${Math.floor(available)} s of this invocation's ${Math.floor(remainingMs / 1000)} s can be used: lower file_count ` +
      `or target_size_mb, raise memoryMb (or timeoutSeconds), or split the run across invocations (fan-out)`,
  );
}
