import { peakRssMb } from "./peak-rss";
import { generate } from "../src/files/generate";
import { createFilePool } from "../src/files/pool";
import type { SinkSpec } from "../src/sinks";

/**
 * One benchmark run of `generate` in its own process, so its peak RSS (main thread plus worker threads)
 * is its own and not the embedded S3 server's. Prints one JSON line.
 */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as { files: number; sizeMb: number; threads: number; sink: SinkSpec; prefix: string; format?: string };
  const pool = createFilePool(spec.threads, { parquet: spec.format === "parquet" });
  const { body } = await generate(
    { file_count: spec.files, target_size_mb: spec.sizeMb, run_id: "bench", seed: 1, date_prefix: "2025-12-23", ...(spec.format ? { format: spec.format } : {}) },
    { defaults: { fileCount: 10, targetSizeMb: 3.5 }, configuredPrefix: spec.prefix, sink: spec.sink, pool, context: { now: new Date() } },
  );
  await pool.close();
  if (body.failed > 0) throw new Error(`bench run failed: ${JSON.stringify(body.errors)}`);
  const seconds = body.duration_ms / 1000;
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      mb: body.total_size_mb,
      mbPerS: body.total_size_mb / seconds,
      recordsPerS: body.total_records / seconds,
      peakRssMb: peakRssMb(),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
