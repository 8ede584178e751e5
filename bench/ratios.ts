import { execFile, fork } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { child, pinCpus, pinned } from "./child";
import type { RenderRateSpec } from "./render-rate";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { openStreams } from "../src/events/streams";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");

/** min and median of repeated measurements. */
export interface Spread {
  readonly min: number;
  readonly median: number;
}

/** Min and median of a sample. */
export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median };
}

/**
 * Measures a path and its limit alternately, `reps` times each (A B A B …), so both see the same
 * machine state; returns the spread of each.
 */
export async function interleaved(reps: number, path: () => Promise<number> | number, limit: () => Promise<number> | number): Promise<[Spread, Spread]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < reps; i++) {
    a.push(await path());
    b.push(await limit());
  }
  return [spread(a), spread(b)];
}

export const fmt = (s: Spread, digits: number, unit: string) => `${s.min.toFixed(digits)} / ${s.median.toFixed(digits)} ${unit}`;

export function line(path: string, ours: string, limit: string, ratio: string): string {
  return `| ${path.padEnd(58)} | ${ours.padStart(24)} | ${limit.padStart(24)} | ${ratio.padStart(12)} |`;
}

async function wallSeconds(args: string[], program = process.execPath): Promise<number> {
  const [cmd, all] = pinned(program, args);
  const started = performance.now();
  await run(cmd, all, { cwd: ROOT });
  return (performance.now() - started) / 1000;
}

/** Records/s of `synthgen generate` writing one file to a local folder, as a whole process (startup and the file's writing included). */
async function generateRecordsPerSecond(format: "ndjson" | "parquet", sizeMb: number, runId: string): Promise<number> {
  const [cmd, all] = pinned(process.execPath, [
    join(ROOT, "dist", "cli", "synthgen.js"),
    "generate",
    "--files",
    "1",
    "--size-mb",
    String(sizeMb),
    "--format",
    format,
    "--threads",
    "1",
    "--run-id",
    runId,
    "--out",
    join(ROOT, "bench-out", "ratios-formats"),
  ]);
  const started = performance.now();
  const { stdout } = await run(cmd, all, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  return (JSON.parse(stdout) as { total_records: number }).total_records / seconds;
}

/**
 * Each path against its own physical limit on this machine, in the same run, interleaved: the
 * ratios are what `docs/performance.md` reports, since absolute numbers here move by 2× from day
 * to day.
 */
export async function ratios(s3: { endpoint: string; bucket: string }): Promise<void> {
  const pin = pinCpus();
  console.log(`ratios: each path against its own limit, same run, interleaved (min / median); ${pin.note}\n`);
  console.log(line("path", "synthgen", "its limit", "ratio (med.)"));
  console.log(`|${"-".repeat(60)}|${"-".repeat(26)}|${"-".repeat(26)}|${"-".repeat(14)}|`);

  const [help, bare] = await interleaved(
    7,
    () => wallSeconds([join(ROOT, "dist", "cli", "synthgen.js"), "--help"]),
    () => wallSeconds(["-e", ""]),
  );
  console.log(line("startup: `synthgen --help` vs `node -e ''`", fmt(help, 3, "s"), fmt(bare, 3, "s"), `${(help.median / bare.median).toFixed(2)}×`));

  const [gen10, bare10] = await interleaved(
    3,
    () => wallSeconds([join(ROOT, "dist", "cli", "synthgen.js"), "generate", "--files", "10", "--threads", "1", "--run-id", "ratios", "--out", join(ROOT, "bench-out", "ratios")]),
    () => wallSeconds(["-e", ""]),
  );
  console.log(line("`generate` 10 × 3.5 MiB, local, 1 thread, whole process", fmt(gen10, 2, "s"), `${fmt(bare10, 3, "s")} (node)`, `${(gen10.median / bare10.median).toFixed(1)}×`));

  // The seed's default run against the original generator's approach (bench/original-approach.py).
  const python = await run("python3", ["--version"]).then(
    () => true,
    () => false,
  );
  if (python) {
    let k = 0;
    const [ours, original] = await interleaved(
      3,
      () => wallSeconds([join(ROOT, "dist", "cli", "synthgen.js"), "generate", "--files", "10", "--run-id", `orig-${k++}`, "--out", join(ROOT, "bench-out", "vs-original")]),
      () => wallSeconds([join(ROOT, "bench", "original-approach.py"), join(ROOT, "bench-out", "original"), "10", "3.5"], "python3"),
    );
    console.log(line("`generate` 10 × 3.5 MiB (defaults) vs the original's approach", fmt(ours, 2, "s"), `${fmt(original, 2, "s")} (python)`, `${(original.median / ours.median).toFixed(1)}× faster`));
  } else {
    console.log(line("`generate` 10 × 3.5 MiB vs the original's approach", "skipped", "python3 not found", "—"));
  }

  // Each measured in a process of its own, pinned like the others, warmed up before it counts.
  const rate = async (spec: RenderRateSpec) => (await child("render-rate.js", spec)).mbPerS;
  const [builtin, bound] = await interleaved(
    7,
    () => rate({ kind: "built-in", files: 6 }),
    () => rate({ kind: "bound", files: 6 }),
  );
  console.log(line("built-in web-events, 1 thread vs JSON.stringify bound", fmt(builtin, 1, "MiB/s"), fmt(bound, 1, "MiB/s"), (builtin.median / bound.median).toFixed(2)));

  const records = async (spec: RenderRateSpec) => (await child("render-rate.js", spec)).recordsPerS as number;
  // Each shipped schema example, and a scenario's child dataset, against the built-in web-events.
  const schemas: [string, Partial<RenderRateSpec>, number][] = [
    // The goal's row: more rounds, as its two sides moved by 0.05–0.15 between runs at 7.
    ["schema `examples/web-events-like.yaml` vs built-in", {}, 11],
    ["schema `examples/orders.yaml` vs built-in", { example: "orders.yaml" }, 5],
    ["scenario `examples/shop.yaml` orders (a child) vs built-in", { example: "shop.yaml", scenarioDataset: "orders" }, 5],
  ];
  for (const [label, example, rounds] of schemas) {
    const [declared, hand] = await interleaved(
      rounds,
      () => records({ kind: "schema", files: 4, ...example }),
      () => records({ kind: "built-in", files: 4 }),
    );
    console.log(
      line(
        label,
        fmt({ min: declared.min / 1000, median: declared.median / 1000 }, 1, "k rec/s"),
        fmt({ min: hand.min / 1000, median: hand.median / 1000 }, 1, "k rec/s"),
        (declared.median / hand.median).toFixed(2),
      ),
    );
  }

  // Parquet's limit is the same records as NDJSON: records/s of each, the same dataset, one thread —
  // as a whole process writing one 64 MiB file (the measure), then rendering alone in a warm process.
  let f = 0;
  const [parquetFile, ndjsonFile] = await interleaved(
    5,
    () => generateRecordsPerSecond("parquet", 64, `pq-${f++}`),
    () => generateRecordsPerSecond("ndjson", 64, `nd-${f++}`),
  );
  console.log(
    line(
      "Parquet vs NDJSON records/s, 1 × 64 MiB web-events, process",
      fmt({ min: parquetFile.min / 1000, median: parquetFile.median / 1000 }, 1, "k rec/s"),
      fmt({ min: ndjsonFile.min / 1000, median: ndjsonFile.median / 1000 }, 1, "k rec/s"),
      (parquetFile.median / ndjsonFile.median).toFixed(2),
    ),
  );
  for (const kind of ["built-in", "schema"] as const) {
    const [parquet, ndjson] = await interleaved(
      5,
      () => records({ kind, files: 2, format: "parquet" }),
      () => records({ kind, files: 4 }),
    );
    console.log(
      line(
        `Parquet vs NDJSON records/s, rendering only, ${kind === "schema" ? "web-events-like" : "web-events"}`,
        fmt({ min: parquet.min / 1000, median: parquet.median / 1000 }, 1, "k rec/s"),
        fmt({ min: ndjson.min / 1000, median: ndjson.median / 1000 }, 1, "k rec/s"),
        (parquet.median / ndjson.median).toFixed(2),
      ),
    );
  }

  let n = 0;
  const [put, plainPut] = await interleaved(
    7,
    async () => (await child("generate-run.js", { files: 30, sizeMb: 3.5, threads: 1, sink: { kind: "s3", bucket: s3.bucket, endpoint: s3.endpoint }, prefix: `r-sink-${n++}/` })).mbPerS,
    async () => (await child("baseline.js", { kind: "put", files: 30, sizeMb: 3.5, endpoint: s3.endpoint, bucket: s3.bucket, prefix: `r-put-${n++}/` })).mbPerS,
  );
  console.log(line("S3 30 × 3.5 MiB, 1 thread vs PutObject of pre-built bytes", fmt(put, 1, "MiB/s"), fmt(plainPut, 1, "MiB/s"), (put.median / plainPut.median).toFixed(2)));
  // The same with 100 files: a run's fixed costs (loading the S3 SDK, the first file's warm-up),
  // which the limit's clock does not hold, weigh a third as much.
  const [longPut, longPlainPut] = await interleaved(
    3,
    async () => (await child("generate-run.js", { files: 100, sizeMb: 3.5, threads: 1, sink: { kind: "s3", bucket: s3.bucket, endpoint: s3.endpoint }, prefix: `r-sink-${n++}/` })).mbPerS,
    async () => (await child("baseline.js", { kind: "put", files: 100, sizeMb: 3.5, endpoint: s3.endpoint, bucket: s3.bucket, prefix: `r-put-${n++}/` })).mbPerS,
  );
  console.log(line("S3 100 × 3.5 MiB, 1 thread vs PutObject of pre-built bytes", fmt(longPut, 1, "MiB/s"), fmt(longPlainPut, 1, "MiB/s"), (longPut.median / longPlainPut.median).toFixed(2)));

  const [multipart, plainUpload] = await interleaved(
    3,
    async () => (await child("generate-run.js", { files: 1, sizeMb: 256, threads: 1, sink: { kind: "s3", bucket: s3.bucket, endpoint: s3.endpoint }, prefix: `r-mp-${n++}/` })).mbPerS,
    async () => (await child("baseline.js", { kind: "upload", files: 1, sizeMb: 256, endpoint: s3.endpoint, bucket: s3.bucket, prefix: `r-up-${n++}/` })).mbPerS,
  );
  console.log(line("S3 1 × 256 MiB multipart vs pre-built Upload (same parts)", fmt(multipart, 1, "MiB/s"), fmt(plainUpload, 1, "MiB/s"), (multipart.median / plainUpload.median).toFixed(2)));
  if (process.argv.includes("--large-gib")) {
    const [gib, plainGib] = await interleaved(
      3,
      async () => (await child("generate-run.js", { files: 1, sizeMb: 1024, threads: 1, sink: { kind: "s3", bucket: s3.bucket, endpoint: s3.endpoint }, prefix: `r-gib-${n++}/` })).mbPerS,
      async () => (await child("baseline.js", { kind: "upload", files: 1, sizeMb: 1024, endpoint: s3.endpoint, bucket: s3.bucket, prefix: `r-gup-${n++}/` })).mbPerS,
    );
    console.log(line("S3 1 × 1 GiB multipart vs pre-built Upload (same parts)", fmt(gib, 1, "MiB/s"), fmt(plainGib, 1, "MiB/s"), (gib.median / plainGib.median).toFixed(2)));
  }

  await emitVsAutocannon();
  // Thread counts below need every core.
  pin.release();

  console.log("\npeak RSS of 100 × 3.5 MiB to S3 by thread count (goal ≤ 256 MB at 2 threads):");
  for (const threads of [1, 2, 4]) {
    const f = await child("generate-run.js", { files: 100, sizeMb: 3.5, threads, sink: { kind: "s3", bucket: s3.bucket, endpoint: s3.endpoint }, prefix: `r-rss-${threads}/` });
    console.log(`  ${threads} thread${threads > 1 ? "s" : " "}: ${f.peakRssMb.toFixed(0)} MB peak RSS, ${f.mbPerS.toFixed(1)} MiB/s`);
  }
  console.log("");
}

/** emit, 50 streams, against autocannon with 50 connections: the same loopback server (in its own process) and the same body. */
async function emitVsAutocannon(): Promise<void> {
  const server = fork(join(__dirname, "loopback-server.js"), ["ingest"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const url = await new Promise<string>((resolve, reject) => {
    server.once("message", (m) => resolve((m as { url: string }).url));
    server.once("exit", (code) => reject(new Error(`ingest server exited with ${code}`)));
  });
  try {
    const request = parseEmitRequest({ ingest_api_url: url, stream_count: 1, events_per_stream: 1, run_id: "bench", seed: 1 }, EMIT_DEFAULTS, { now: new Date() });
    const body = openStreams(request)[0]!.next()!.body;
    const events = 50 * 1000;
    const [emit, cannon] = await interleaved(
      5,
      async () => {
        const { stdout } = await run(
          ...pinned(process.execPath, [
            join(__dirname, "stream-scenario.js"),
            JSON.stringify({ kind: "emit", event: { ingest_api_url: url, stream_count: 50, events_per_stream: 1000, run_id: "bench", seed: 1 } }),
          ]),
          { env: process.env, maxBuffer: 1 << 20 },
        );
        return (JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { perS: number }).perS;
      },
      async () => {
        const { stdout } = await run(...pinned(process.execPath, [join(__dirname, "autocannon-run.js"), JSON.stringify({ url, body, connections: 50, amount: events })]), { maxBuffer: 1 << 20 });
        return (JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { perS: number }).perS;
      },
    );
    const k = (x: Spread) => ({ min: x.min / 1000, median: x.median / 1000 });
    console.log(line("emit 50 streams × 1,000 → loopback HTTP vs autocannon -c 50", fmt(k(emit), 1, "k ev/s"), fmt(k(cannon), 1, "k req/s"), (emit.median / cannon.median).toFixed(2)));
  } finally {
    server.kill();
  }
}
