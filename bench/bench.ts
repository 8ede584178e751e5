import { execFile, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startEmbeddedS3, useS3rverCredentials } from "../cli/embedded-s3";
import { BYTES_PER_MB } from "../src/core/limits";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { parseSchemaText } from "../src/schema/dataset";
import type { SinkSpec } from "../src/sinks";
import { formatsBench } from "./formats";
import { scenarioEmitBench, scenariosBench } from "./scenarios";
import { lambdaShapedRun } from "./lambda-shaped";
import { generateRun, type Figures } from "./child";
import { ratios } from "./ratios";
import { targetsBench } from "./targets";
import { verifyBench, verifyReadRates } from "./verify";
import { databasesBench } from "./databases";
import { fakerCalls } from "./faker-calls";

const run = promisify(execFile);

/** Generation alone, in this thread: the per-thread ceiling every sink works under. */
function generationOnly(files: number, sizeMb: number): { mbPerS: number; recordsPerS: number } {
  // Warm-up builds the string pools and lets V8 optimise the record writer.
  for (const _ of renderFile({ dataset: "web-events", seed: 0, runId: "warm", datePrefix: "2025-12-23", hhmmss: "000000", fileIndex: 0, fileCount: 1, targetBytes: 8 * BYTES_PER_MB }).chunks);
  const started = performance.now();
  let bytes = 0;
  let records = 0;
  for (let i = 0; i < files; i++) {
    const file = renderFile({
      dataset: "web-events",
      seed: 1,
      runId: "bench",
      datePrefix: "2025-12-23",
      hhmmss: "120000",
      fileIndex: i,
      fileCount: files,
      targetBytes: Math.round(sizeMb * BYTES_PER_MB),
    });
    for (const _ of file.chunks);
    bytes += file.stats.bytes;
    records += file.stats.records;
  }
  const seconds = (performance.now() - started) / 1000;
  return { mbPerS: bytes / BYTES_PER_MB / seconds, recordsPerS: records / seconds };
}

const scenario = (files: number, sizeMb: number, threads: number, sink: SinkSpec, prefix = ""): Promise<Figures> => generateRun({ files, sizeMb, threads, sink, prefix });

function row(name: string, f: Figures): string {
  return `| ${name.padEnd(47)} | ${f.seconds.toFixed(2).padStart(7)} | ${f.mbPerS.toFixed(1).padStart(7)} | ${Math.round(f.recordsPerS ?? 0)
    .toLocaleString("en-US")
    .padStart(9)} | ${f.peakRssMb.toFixed(0).padStart(6)} |`;
}

/** Records/s of the built-in web-events against its shape in the schema language (examples/web-events-like.yaml). */
function declarativeVsBuiltin(): void {
  const schema = parseSchemaText(readFileSync(join(__dirname, "..", "..", "examples", "web-events-like.yaml"), "utf8"), "web-events-like.yaml");
  const measure = (over: Partial<FileIdentity>) => {
    const id = (i: number): FileIdentity => ({
      dataset: "web-events",
      seed: 1,
      runId: "bench",
      datePrefix: "2025-12-23",
      hhmmss: "120000",
      fileIndex: i,
      fileCount: 10,
      targetBytes: 8 * BYTES_PER_MB,
      ...over,
    });
    for (const _ of renderFile(id(99)).chunks);
    const started = performance.now();
    let bytes = 0;
    let records = 0;
    for (let i = 0; i < 6; i++) {
      const f = renderFile(id(i));
      for (const _ of f.chunks);
      bytes += f.stats.bytes;
      records += f.stats.records;
    }
    const seconds = (performance.now() - started) / 1000;
    return { recordsPerS: records / seconds, mbPerS: bytes / BYTES_PER_MB / seconds };
  };
  const builtin = measure({});
  const declarative = measure({ dataset: "web-events-like", schema });
  console.log(
    `web-events, one thread: built-in ${Math.round(builtin.recordsPerS).toLocaleString("en-US")} records/s (${builtin.mbPerS.toFixed(1)} MiB/s with padding); ` +
      `the same shape as a compiled schema ${Math.round(declarative.recordsPerS).toLocaleString("en-US")} records/s (${declarative.mbPerS.toFixed(1)} MiB/s) = ${Math.round((100 * declarative.recordsPerS) / builtin.recordsPerS)}% of the built-in\n`,
  );
}

interface StreamFigures {
  seconds: number;
  items: number;
  perS: number;
  latency?: { requests: number; p50_ms: number; p95_ms: number; p99_ms: number };
  peakRssMb: number;
}

/** Runs a loopback target in its own process, then the sender in another; returns the sender's figures. */
async function streamScenario(server: "ingest" | "kinesis" | "elasticsearch", spec: (url: string) => Record<string, unknown>): Promise<StreamFigures & { received: number }> {
  const child = fork(join(__dirname, "loopback-server.js"), [server], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { url: string }).url));
    child.once("exit", (code) => reject(new Error(`${server} server exited with ${code}`)));
  });
  try {
    const { stdout } = await run(process.execPath, [join(__dirname, "stream-scenario.js"), JSON.stringify(spec(url))], { env: process.env, maxBuffer: 1 << 20 });
    const figures = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as StreamFigures;
    const received = await new Promise<number>((resolve) => {
      child.once("message", (m) => resolve((m as { received: number }).received));
      child.send("stop");
    });
    return { ...figures, received };
  } finally {
    child.kill();
  }
}

function streamRow(name: string, f: StreamFigures): string {
  const lat = f.latency ? `${f.latency.p50_ms} / ${f.latency.p95_ms} / ${f.latency.p99_ms}` : "—";
  return `| ${name.padEnd(52)} | ${f.seconds.toFixed(2).padStart(6)} | ${f.items.toLocaleString("en-US").padStart(8)} | ${Math.round(f.perS).toLocaleString("en-US").padStart(7)} | ${lat.padStart(18)} | ${f.peakRssMb.toFixed(0).padStart(6)} |`;
}

async function streams(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  console.log("\n| events and documents (target in its own process)        | wall s | items    | per s   | p50/p95/p99 ms     | RSS MB |");
  console.log("|------------------------------------------------------|--------|----------|---------|--------------------|--------|");
  const cases: [string, "ingest" | "kinesis" | "elasticsearch", (url: string) => Record<string, unknown>][] = [
    [
      "emit 50 streams × 2,000 tutoring-events, loopback HTTP",
      "ingest",
      (url) => ({ kind: "emit", event: { ingest_api_url: url, stream_count: 50, events_per_stream: 2000, run_id: "bench", seed: 1 } }),
    ],
    [
      "emit 50 streams × 400 tutoring-events, kinesalite",
      "kinesis",
      (url) => ({ kind: "emit", endpoint: url, event: { kinesis_stream_name: "bench-events", stream_count: 50, events_per_stream: 400, run_id: "bench", seed: 1 } }),
    ],
    ["index 1 year of merchant-metrics (175,680 docs), fake _bulk", "elasticsearch", (url) => ({ kind: "index", node: url, event: { hours: 8784, run_id: "bench" } })],
  ];
  for (const [name, server, spec] of cases) {
    const f = await streamScenario(server, spec);
    if (f.received >= 0 && f.received !== f.items) throw new Error(`${name}: target took ${f.received}, sender counted ${f.items}`);
    console.log(streamRow(name, f));
  }
  console.log("\nLatency is per request: one POST per event; one PutRecords per batch of up to 500; bulk requests are not timed one by one.");
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  useS3rverCredentials();
  const work = await mkdtemp(join(tmpdir(), "synthgen-bench-"));
  const s3 = await startEmbeddedS3(join(work, "s3"), ["bench-bucket"]);
  const s3Sink: SinkSpec = { kind: "s3", bucket: "bench-bucket", endpoint: s3.endpoint };
  console.log(`synthgen bench — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"})\n`);
  if (process.argv.includes("--scenarios-only")) {
    scenarioEmitBench();
    scenariosBench();
    await s3.close();
    await rm(work, { recursive: true, force: true });
    return;
  }
  if (process.argv.includes("--metrics-only")) {
    const { runMetricsCost } = await import("./run-metrics-cost");
    await runMetricsCost({ endpoint: s3.endpoint, bucket: "bench-bucket" });
    await s3.close();
    await rm(work, { recursive: true, force: true });
    return;
  }
  if (process.argv.includes("--targets-only")) {
    await targetsBench();
    await s3.close();
    await rm(work, { recursive: true, force: true });
    return;
  }
  if (process.argv.includes("--verify-only")) {
    await verifyBench(work, process.argv.includes("--large-gib") ? [256, 1024] : [64, 256]);
    await verifyReadRates(work);
    await s3.close();
    await rm(work, { recursive: true, force: true });
    return;
  }
  if (process.argv.includes("--databases-only")) {
    await databasesBench(work);
    await s3.close();
    await rm(work, { recursive: true, force: true });
    return;
  }
  if (process.argv.includes("--formats-only")) {
    const large = process.argv.includes("--large-gib") ? 1024 : 256;
    await formatsBench({ endpoint: s3.endpoint, bucket: "bench-bucket" }, join(work, "local"), large);
    await s3.close();
    await rm(work, { recursive: true, force: true });
    return;
  }
  if (!process.argv.includes("--lambda-only")) await ratios({ endpoint: s3.endpoint, bucket: "bench-bucket" });
  await lambdaShapedRun({ endpoint: s3.endpoint, bucket: "bench-bucket" });
  // One large file (multipart, rendered once through /tmp) where rendering's CPU is Lambda's share.
  await lambdaShapedRun({ endpoint: s3.endpoint, bucket: "bench-bucket" }, 1024, 1, 128);
  if (process.argv.includes("--ratios-only") || process.argv.includes("--lambda-only")) {
    await s3.close();
    await rm(work, { recursive: true, force: true });
    return;
  }

  const gen = generationOnly(30, 3.5);
  console.log(`generation only, one thread, 30 × 3.5 MiB: ${gen.mbPerS.toFixed(1)} MiB/s, ${Math.round(gen.recordsPerS).toLocaleString("en-US")} records/s\n`);
  declarativeVsBuiltin();
  fakerCalls();
  scenarioEmitBench();
  scenariosBench();

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
  console.log("");
  await formatsBench({ endpoint: s3.endpoint, bucket: "bench-bucket" }, join(work, "local-formats"), 256);
  await verifyBench(work, [64, 256]);
  await verifyReadRates(work);
  await databasesBench(work);
  await s3.close();
  await rm(work, { recursive: true, force: true });
  console.log("\nRSS is the scenario process's peak resident set (main thread + workers), not the S3 server's.");
  await streams();
}

(process.argv.includes("--streams-only") ? streams() : process.argv.includes("--datasets-only") ? Promise.resolve(declarativeVsBuiltin()).then(() => fakerCalls()) : main()).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
