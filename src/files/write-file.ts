import type { DirtyCounts } from "../records/dirty";
import { TASKS_PER_THREAD } from "../core/limits";
import { Slots } from "../core/slots";
import { sinkFor, type SinkSpec } from "../sinks";
import type { PlannedFile } from "../sinks/sink";

/** One unit of work for a worker thread: small and serialisable, never the data itself. */
export interface FileTask {
  readonly file: PlannedFile;
  readonly sink: SinkSpec;
  /** Resume: the key exists; leave it as it is when it holds this file, complete and from this run. */
  readonly skipExisting?: boolean;
}

/** What a worker sends back about the file it wrote. */
export interface FileResult {
  readonly index: number;
  readonly key: string;
  readonly bytes: number;
  readonly records: number;
  readonly sha256: string;
  readonly durationMs: number;
  /** True when the file was already there (resume) and was not written again. */
  readonly skipped?: boolean;
  /** Dirty records injected, by kind. */
  readonly dirty?: DirtyCounts;
  /** Formats other than NDJSON: the bytes before compression (see formats/encode.ts). */
  readonly uncompressedBytes?: number;
}

/**
 * Formats other than NDJSON are made one file per thread at a time: encoding is CPU-bound (a
 * second file in flight adds no speed) and a Parquet row group or a CSV file's parsed records cost
 * memory that NDJSON's buffer writes do not.
 */
const encodedFiles = new Slots(TASKS_PER_THREAD);

/** Renders one planned file into its sink. The whole of a worker's job; also callable in-thread. */
export async function writeFile(task: FileTask): Promise<FileResult> {
  return task.file.format !== undefined && task.file.format !== "ndjson" ? encodedFiles.hold(TASKS_PER_THREAD, () => write(task)) : write(task);
}

async function write(task: FileTask): Promise<FileResult> {
  const started = performance.now();
  const sink = sinkFor(task.sink);
  const found = task.skipExisting ? await sink.existing(task.file) : undefined;
  const stats = found ?? (await sink.write(task.file));
  return {
    ...(found ? { skipped: true } : {}),
    ...(stats.dirty ? { dirty: stats.dirty } : {}),
    ...(stats.uncompressedBytes !== undefined ? { uncompressedBytes: stats.uncompressedBytes } : {}),
    index: task.file.fileIndex,
    key: task.file.key,
    bytes: stats.bytes,
    records: stats.records,
    sha256: stats.sha256,
    durationMs: Math.round(performance.now() - started),
  };
}
