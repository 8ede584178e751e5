import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BYTES_PER_MB } from "../src/core/limits";
import type { FileIdentity } from "../src/formats/file-identity";
import { pinCpus, pinned } from "./child";

/**
 * What an S3 run pays before its uploads can keep S3 busy, and what a count-only pass would cost:
 * `node dist/bench/first-files.js [files]`, each measurement in a fresh process pinned as the
 * ratios are (bench/child.ts), three rounds.
 *
 * - `files` (6 by default) × 3.5 MiB web-events files, the S3 whole-file row's, rendered one after
 *   the other into one reused Buffer as the S3 sink renders them: the time of each, from a process
 *   that has loaded nothing but the renderer. The first file holds the dataset's set-up and the
 *   JIT's warm-up, which a run's first PutObject waits for (S3 takes a file's `record_count` and
 *   `sha256` with its request).
 * - One 256 MiB file (the multipart row's) counted without being made — each record's line made
 *   and measured, no bytes written or hashed: what a pass that only learns a file's
 *   `record_count` before its upload starts would cost — against rendering it, alternated three
 *   times in one warm process.
 */
async function main(): Promise<void> {
  if (process.argv[2] === "--files") return firstFiles(Number(process.argv[3]));
  if (process.argv[2] === "--count") return countAgainstRender();
  const files = Number(process.argv[2] ?? 6);
  if (!Number.isInteger(files) || files < 2 || files > 100) throw new Error(`files must be a whole number from 2 to 100 (got ${process.argv[2]})`);
  const pin = pinCpus();
  const run = async (args: string[]) => (await promisify(execFile)(...pinned(process.execPath, [__filename, ...args]))).stdout.trim();
  try {
    console.log(`${files} × 3.5 MiB web-events, each rendered in turn in a fresh process; ${pin.note}`);
    for (let round = 0; round < 3; round++) console.log(await run(["--files", String(files)]));
    console.log("\none 256 MiB web-events file, counted (lines made and measured, no bytes) vs rendered (bytes and SHA-256), alternated in one process");
    for (let round = 0; round < 3; round++) console.log(await run(["--count"]));
  } finally {
    pin.release();
  }
}

const identity = (i: number, megabytes: number): FileIdentity => ({
  dataset: "web-events",
  seed: 1,
  runId: "first-files",
  datePrefix: "2025-12-23",
  hhmmss: "120000",
  fileIndex: i,
  fileCount: 100,
  targetBytes: Math.round(megabytes * BYTES_PER_MB),
});

function firstFiles(files: number): void {
  const started = performance.now();
  const { renderFile } = require("../src/formats/render") as typeof import("../src/formats/render");
  const loaded = performance.now() - started;
  const arena = Buffer.allocUnsafe(8 * BYTES_PER_MB + 64 * 1024);
  const times: number[] = [];
  for (let i = 0; i < files; i++) {
    const t = performance.now();
    for (const _ of renderFile(identity(i, 3.5), { arena }).chunks);
    times.push(performance.now() - t);
  }
  const later = [...times.slice(2)].sort((a, b) => a - b);
  const warm = later[Math.floor(later.length / 2)] as number;
  console.log(
    `renderer loaded in ${loaded.toFixed(0)} ms; each file, ms: ${times.map((t) => t.toFixed(0)).join(", ")} ` +
      `(the first ${(times[0]! / warm).toFixed(1)}× and the second ${(times[1]! / warm).toFixed(1)}× the median of the rest)`,
  );
}

function countAgainstRender(): void {
  const { renderFile, tapRecords } = require("../src/formats/render") as typeof import("../src/formats/render");
  const file = identity(0, 256);
  for (const _ of renderFile(identity(1, 16)).chunks); // warm-up
  const count: number[] = [];
  const render: number[] = [];
  let counted = 0;
  let rendered = 0;
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    counted = 0;
    tapRecords(file, () => {
      counted++;
    });
    count.push(performance.now() - t);
    t = performance.now();
    const made = renderFile(file);
    for (const _ of made.chunks);
    rendered = made.stats.records;
    render.push(performance.now() - t);
  }
  if (counted !== rendered) throw new Error(`the count pass found ${counted} records, rendering ${rendered}`);
  const min = (xs: number[]) => Math.min(...xs);
  console.log(
    `${counted} records: counted in ${min(count).toFixed(0)} ms, rendered in ${min(render).toFixed(0)} ms (best of 3 each): the count costs ${((min(count) / min(render)) * 100).toFixed(0)}% of a render`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
