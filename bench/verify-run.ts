import { peakRssMb } from "./peak-rss";
import { planRun } from "../src/files/plan";
import { parseGenerateRequest } from "../src/files/request";
import { verifyOutput } from "../src/verify/verify";

/** One `verify` of a bench run's local folder in its own process (its peak RSS its own). Prints one JSON line. */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as { files: number; sizeMb: number; dir: string; prefix: string; threads?: number };
  const started = performance.now();
  const request = parseGenerateRequest(
    { file_count: spec.files, target_size_mb: spec.sizeMb, run_id: "bench", seed: 1, date_prefix: "2025-12-23" },
    { fileCount: 10, targetSizeMb: 3.5 },
    { now: new Date() },
  );
  const plan = planRun(request, spec.prefix);
  const report = await verifyOutput(plan.files, { kind: "local", dir: spec.dir }, spec.prefix, (k) => k, { threads: spec.threads ?? 1 });
  if (report.status !== "passed") throw new Error(`bench verify failed: ${JSON.stringify(report.failed_by)}`);
  const seconds = (performance.now() - started) / 1000;
  const mb = spec.files * spec.sizeMb;
  process.stdout.write(`${JSON.stringify({ seconds, mb, mbPerS: mb / seconds, recordsPerS: report.expected_records / seconds, peakRssMb: peakRssMb() })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
