import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { planRun } from "../src/files/plan";
import { parseGenerateRequest } from "../src/files/request";
import { sinkFor } from "../src/sinks";
import { decodeObjects, digestObjects } from "../src/verify/digest";
import { listOutput } from "../src/verify/output";
import { verifyPlan } from "../src/verify/verify";
import { child, generateRun } from "./child";
import { spread } from "./ratios";

/** Rounds, each running generate, verify and DuckDB's count(*) in turn on the same files. */
const ROUNDS = 3;

/**
 * `verify` of a run against its own limits, on the same machine in the same run: `generate` of
 * the same run (1 thread, local folder; verify recomputes every file, then reads the output) and
 * DuckDB's `count(*)` over the same files (what reading them costs an engine we do not write).
 * Peak RSS at two sizes shows whether verify's memory grows with the output.
 */
export async function verifyBench(work: string, sizesMb: readonly number[]): Promise<void> {
  console.log(
    `verify: web-events NDJSON in 8 MiB files, local folder, landed as written (and as one Parquet file DuckDB made of them); generate and verify on 1 thread, verify also recomputing on 2; min / median of ${ROUNDS} interleaved rounds\n`,
  );
  console.log(
    "| run | generate s | verify s | verify s, 2 threads | verify s, Parquet landing | DuckDB count(*) s | verify ÷ generate | 2 threads ÷ generate | Parquet landing ÷ generate | verify RSS MB | generate RSS MB |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const mb of sizesMb) {
    const files = Math.max(1, Math.round(mb / 8));
    const dir = join(work, `verify-${mb}`);
    const gen: number[] = [];
    const ver: number[] = [];
    const ver2: number[] = [];
    const duck: number[] = [];
    const parquet: number[] = [];
    const landed = join(work, `verify-${mb}-parquet`);
    let verRss = 0;
    let genRss = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await rm(dir, { recursive: true, force: true });
      const g = await generateRun({ files, sizeMb: 8, threads: 1, sink: { kind: "local", dir }, prefix: "" });
      gen.push(g.seconds);
      genRss = Math.max(genRss, g.peakRssMb);
      const v = await child("verify-run.js", { files, sizeMb: 8, dir, prefix: "" });
      ver.push(v.seconds);
      verRss = Math.max(verRss, v.peakRssMb);
      ver2.push((await child("verify-run.js", { files, sizeMb: 8, dir, prefix: "", threads: 2 })).seconds);
      const db = await DuckDBInstance.create(":memory:");
      const c = await db.connect();
      if (round === 0) {
        // A pipeline that rewrites: the same rows as Parquet (TIMESTAMPs, structs), nothing for verify to find by its bytes.
        await rm(landed, { recursive: true, force: true });
        await mkdir(landed, { recursive: true });
        await c.run("SET TimeZone = 'UTC'");
        await c.run(`COPY (SELECT * FROM read_json('${join(dir, "*.ndjson")}', format = 'newline_delimited')) TO '${join(landed, "part-0.parquet")}' (FORMAT parquet)`);
      }
      parquet.push((await child("verify-run.js", { files, sizeMb: 8, dir: landed, prefix: "" })).seconds);
      const started = performance.now();
      await c.runAndReadAll(`SELECT count(*) FROM read_json_objects('${join(dir, "*.ndjson")}', format = 'newline_delimited')`);
      duck.push((performance.now() - started) / 1000);
      c.closeSync();
    }
    const [g, v, v2, p, d] = [spread(gen), spread(ver), spread(ver2), spread(parquet), spread(duck)];
    const s = (x: ReturnType<typeof spread>) => `${x.min.toFixed(2)} / ${x.median.toFixed(2)}`;
    console.log(
      `| ${files} × 8 MiB | ${s(g)} | ${s(v)} | ${s(v2)} | ${s(p)} | ${s(d)} | ${(v.median / g.median).toFixed(1)}× | ${(v2.median / g.median).toFixed(1)}× | ${(p.median / g.median).toFixed(1)}× | ${verRss.toFixed(0)} | ${genRss.toFixed(0)} |`,
    );
    await rm(dir, { recursive: true, force: true });
    await rm(landed, { recursive: true, force: true });
  }
  console.log("");
}

/**
 * How fast one thread digests a pipeline's output (reads each row, hashes each compared field):
 * the rate the verify state machine's plan sizes read slices and its estimate by (it assumes
 * less, see READ_BYTES_PER_VCPU_SECOND). The same run as NDJSON and as Parquet, 8 × 8 MiB each.
 */
export async function verifyReadRates(work: string): Promise<void> {
  console.log(`verify read rate: one thread digesting 8 × 8 MiB of web-events output, min / median of ${ROUNDS} rounds\n`);
  console.log("| format | rows | MiB/s, median (best) | rows/s, median |");
  console.log("|---|---|---|---|");
  for (const format of ["ndjson", "parquet"] as const) {
    const dir = join(work, `read-rate-${format}`);
    await rm(dir, { recursive: true, force: true });
    await generateRun({ files: 8, sizeMb: 8, threads: 2, sink: { kind: "local", dir }, prefix: "", format });
    const event = { file_count: 8, target_size_mb: 8, run_id: "bench", seed: 1, date_prefix: "2025-12-23", format };
    const plan = planRun(parseGenerateRequest(event, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }), "");
    const checks = verifyPlan(plan.files[0] as (typeof plan.files)[number], {});
    const sink = sinkFor({ kind: "local", dir });
    const sizes = new Map<string, number>();
    const { files } = await listOutput(sink, "", sizes);
    const mib = [...sizes.values()].reduce((a, b) => a + b, 0) / 1048576;
    const seconds: number[] = [];
    let digest: Buffer = Buffer.alloc(0);
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      digest = await digestObjects(sink, files, checks.comparison, checks.outName);
      seconds.push((performance.now() - started) / 1000);
    }
    let rows = 0;
    for (const object of decodeObjects(digest, checks.comparison.leaves.length)) for await (const _ of object.rows) rows++;
    const t = spread(seconds);
    console.log(`| ${format} | ${rows} | ${(mib / t.median).toFixed(1)} (${(mib / t.min).toFixed(1)}) | ${Math.round(rows / t.median)} |`);
    await rm(dir, { recursive: true, force: true });
  }
  console.log("");
}
