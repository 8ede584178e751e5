import { existsSync } from "node:fs";
import { join } from "node:path";
import type Piscina from "piscina";
import { TASKS_PER_THREAD } from "../core/limits";
import type { FileResult, FileTask } from "./write-file";

/**
 * The worker file. `src/` and `functions/` sit at the same depth both in `dist/` and in the
 * Lambda bundle (where this module is inlined into `functions/generate-files.js`), so one
 * relative path finds `workers/generate-file.js` in either layout.
 */
export const WORKER_FILE = join(__dirname, "..", "..", "workers", "generate-file.js");

/**
 * A worker's young generation: V8 grows it to tens of MB under the renderers' short-lived strings
 * and keeps it. 100 × 3.5 MiB to s3rver at 2 threads, peak RSS: uncapped 179–181 MB; 8 MB:
 * 143–146 (NDJSON), 169–171 (ndjson.gz), 173–175 (csv); 4 MB: 140–143, 146–148, 149–157 at the
 * same speed (84–91 MiB/s NDJSON) — the encoders' per-record garbage no longer survives long
 * enough to reach the old generation (bench/generate-run.js, two runs each).
 */
export const WORKER_YOUNG_GENERATION_MB = 4;

/**
 * V8's old generation grown in 20% steps (`--heap-growing-percent=20`) instead of its default
 * factors, for pools that write Parquet: each row group leaves ~10 MB of values in the old
 * generation, which the default lets pile up. Set before the pool's first worker starts (the
 * flag is process-wide; the heap reads it at every collection). bench/generate-run.js, local
 * folder, alternated with the build without it: 100 × 3.5 MiB at 2 threads, Parquet 181–189 →
 * 132–135 MB (50% steps: the same; 20%: 135 MB at the same speed); 1 × 256 MiB, 148 MB at 50%,
 * 139 MB at 20%, same speed. The same flag on NDJSON: 137–139 → 107–109 MB but 3% slower (median
 * 175 vs 181 MiB/s), which is why only Parquet pools get it; `--optimize-for-size` went further
 * (NDJSON 102 MB) at 22% of NDJSON's speed.
 */
export const PARQUET_HEAP_FLAG = "--heap-growing-percent=20";

/**
 * glibc malloc settings for a process that renders files, given where such a process starts: the
 * generate-files function's environment, the bench's child processes (a running process cannot
 * change them). glibc raises its mmap threshold each time a large mmapped block is freed (up to
 * 32 MiB), after which the encoders' 128 KiB–1 MiB buffers come from the heap, where what is freed
 * stays part of the RSS; a fixed threshold keeps them mmapped and given back. One 256 MiB file to
 * s3rver, 1 thread (bench/generate-run.js, alternated): see docs/performance.md.
 */
export const MALLOC_ENV = Object.freeze({ MALLOC_MMAP_THRESHOLD_: "131072" });

export interface PoolOptions {
  /** The runs write Parquet (a CLI run's --format, the function's default format). */
  readonly parquet?: boolean;
}

/** Runs file tasks, at most `threads × TASKS_PER_THREAD` at a time; more wait their turn. */
export interface FilePool {
  readonly threads: number;
  run(task: FileTask): Promise<FileResult>;
  close(): Promise<void>;
}

/**
 * One thread runs in this thread: a worker would only add its start-up and a second copy of
 * every module to the run. More threads are a piscina pool of exactly `threads` workers.
 */
export function createFilePool(threads: number, options: PoolOptions = {}): FilePool {
  if (options.parquet) (require("node:v8") as typeof import("node:v8")).setFlagsFromString(PARQUET_HEAP_FLAG);
  if (threads === 1) return inThisThread();
  if (!existsSync(WORKER_FILE)) throw new Error(`worker file not found at ${WORKER_FILE}: build with "npm run build"`);
  const PiscinaPool = require("piscina") as typeof Piscina;
  const piscina = new PiscinaPool<FileTask, FileResult>({
    filename: WORKER_FILE,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: TASKS_PER_THREAD,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  return {
    threads,
    run: (task) => piscina.run(task),
    close: () => piscina.destroy(),
  };
}

function inThisThread(): FilePool {
  const { writeFile } = require("./write-file") as typeof import("./write-file");
  const waiting: (() => void)[] = [];
  let active = 0;
  let closed = false;
  return {
    threads: 1,
    async run(task) {
      while (!closed && active >= TASKS_PER_THREAD) await new Promise<void>((resolve) => waiting.push(resolve));
      if (closed) throw new Error("the file pool was closed before this file started");
      active++;
      try {
        return await writeFile(task);
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
    async close() {
      closed = true;
      for (const wake of waiting.splice(0)) wake();
    },
  };
}
