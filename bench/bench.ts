import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startEmbeddedS3, useS3rverCredentials } from "../cli/embedded-s3";
import { BYTES_PER_MB } from "../src/limits";
import { renderFile } from "../src/render";
import type { SinkSpec } from "../src/sinks";

const run = promisify(execFile);

interface Figures {
  seconds: number;
  mb: number;
  mbPerS: number;
  recordsPerS: number;
  peakRssMb: number;
}

/** Generation alone, in this thread: the per-thread ceiling every sink works under. */
function generationOnly(files: number, sizeMb: number): { mbPerS: number; recordsPerS: number } {
  // Warm-up builds the string pools and lets V8 optimise the record writer.
  for (const _ of renderFile({ dataset: "web-events", seed: 0, runId: "warm", datePrefix: "2025-12-23", hhmmss: "000000", fileIndex: 0, fileCount: 1, targetBytes: 8 * BYTES_PER_MB }).chunks);
  const started = performance.now();
  let bytes = 0;
  let records = 0;
  for (let i = 0; i < files; i++) {
    const file = renderFile({ dataset: "web-events", seed: 1, runId: "bench", datePrefix: "2025-12-23", hhmmss: "120000", fileIndex: i, fileCount: files, targetBytes: Math.round(sizeMb * BYTES_PER_MB) });
    for (const _ of file.chunks);
    bytes += file.stats.bytes;
    records += file.stats.records;
  }
  const seconds = (performance.now() - started) / 1000;
  return { mbPerS: bytes / BYTES_PER_MB / seconds, recordsPerS: records / seconds };
}

async function scenario(files: number, sizeMb: number, threads: number, sink: SinkSpec, prefix = ""): Promise<Figures> {
  const { stdout } = await run(process.execPath, [join(__dirname, "scenario.js"), JSON.stringify({ files, sizeMb, threads, sink, prefix })], {
    env: process.env,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Figures;
}

function row(name: string, f: Figures): string {
  return `| ${name.padEnd(47)} | ${f.seconds.toFixed(2).padStart(7)} | ${f.mbPerS.toFixed(1).padStart(7)} | ${Math.round(f.recordsPerS).toLocaleString("en-US").padStart(9)} | ${f.peakRssMb.toFixed(0).padStart(6)} |`;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  useS3rverCredentials();
  const work = await mkdtemp(join(tmpdir(), "synthgen-bench-"));
  const s3 = await startEmbeddedS3(join(work, "s3"), ["bench-bucket"]);
  const s3Sink: SinkSpec = { kind: "s3", bucket: "bench-bucket", endpoint: s3.endpoint };
  console.log(`synthgen bench — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"})\n`);

  const gen = generationOnly(30, 3.5);
  console.log(`generation only, one thread, 30 × 3.5 MiB: ${gen.mbPerS.toFixed(1)} MiB/s, ${Math.round(gen.recordsPerS).toLocaleString("en-US")} records/s\n`);

  console.log("| scenario                                        | wall s  | MiB/s   | records/s | RSS MB |");
  console.log("|-------------------------------------------------|---------|---------|-----------|--------|");
  const runs: [string, () => Promise<Figures>][] = [
    ["100 × 3.5 MiB, 1 thread, local folder", () => scenario(100, 3.5, 1, { kind: "local", dir: join(work, "local-1") })],
    ["100 × 3.5 MiB, 2 threads, local folder", () => scenario(100, 3.5, 2, { kind: "local", dir: join(work, "local-2") })],
    ["100 × 3.5 MiB, 1 thread, embedded S3", () => scenario(100, 3.5, 1, s3Sink, "t1/")],
    ["100 × 3.5 MiB, 2 threads, embedded S3", () => scenario(100, 3.5, 2, s3Sink, "t2/")],
    ["1 × 512 MiB, 1 thread, local folder", () => scenario(1, 512, 1, { kind: "local", dir: join(work, "big") })],
    ["1 × 64 MiB, 1 thread, embedded S3 (multipart)", () => scenario(1, 64, 1, s3Sink, "mid/")],
    ["1 × 512 MiB, 1 thread, embedded S3 (multipart)", () => scenario(1, 512, 1, s3Sink, "big/")],
  ];
  for (const [name, fn] of runs) {
    console.log(row(name, await fn()));
    // Keep the disk footprint to one scenario at a time.
    await rm(join(work, "local-1"), { recursive: true, force: true });
    await rm(join(work, "local-2"), { recursive: true, force: true });
    await rm(join(work, "big"), { recursive: true, force: true });
  }
  await s3.close();
  await rm(work, { recursive: true, force: true });
  console.log("\nRSS is the scenario process's peak resident set (main thread + workers), not the S3 server's.");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
