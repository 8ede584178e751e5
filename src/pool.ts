import { existsSync } from "node:fs";
import { join } from "node:path";
import Piscina from "piscina";
import type { FileResult, FileTask } from "./write-file";

/**
 * The worker file. `src/` and `functions/` sit at the same depth both in `dist/` and in the
 * Lambda bundle (where this module is inlined into `functions/generate-files.js`), so one
 * relative path finds `workers/generate-file.js` in either layout.
 */
export const WORKER_FILE = join(__dirname, "..", "workers", "generate-file.js");

/** Runs file tasks on worker threads. */
export interface FilePool {
  readonly threads: number;
  run(task: FileTask): Promise<FileResult>;
  close(): Promise<void>;
}

/** A piscina pool of exactly `threads` workers, each running one file at a time. */
export function createFilePool(threads: number): FilePool {
  if (!existsSync(WORKER_FILE)) throw new Error(`worker file not found at ${WORKER_FILE}: build with "npm run build"`);
  const piscina = new Piscina<FileTask, FileResult>({
    filename: WORKER_FILE,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
  });
  return {
    threads,
    run: (task) => piscina.run(task),
    close: () => piscina.destroy(),
  };
}
