import type { PlannedFile } from "./plan";
import { sinkFor, type SinkSpec } from "./sinks";

/** One unit of work for a worker thread: small and serialisable, never the data itself. */
export interface FileTask {
  readonly file: PlannedFile;
  readonly sink: SinkSpec;
}

/** What a worker sends back about the file it wrote. */
export interface FileResult {
  readonly index: number;
  readonly key: string;
  readonly bytes: number;
  readonly records: number;
  readonly sha256: string;
  readonly durationMs: number;
}

/** Renders one planned file into its sink. The whole of a worker's job; also callable in-thread. */
export async function writeFile(task: FileTask): Promise<FileResult> {
  const started = performance.now();
  const stats = await sinkFor(task.sink).write(task.file);
  return {
    index: task.file.fileIndex,
    key: task.file.key,
    bytes: stats.bytes,
    records: stats.records,
    sha256: stats.sha256,
    durationMs: Math.round(performance.now() - started),
  };
}
