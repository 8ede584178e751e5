import { FORMATS } from "../src/formats";
import { generateRun } from "./child";

/**
 * Each format against NDJSON in the same run: stored MiB/s and records/s of web-events at 1 and 2
 * threads (20 × 3.5 MiB to a local folder), and peak RSS of a run of many files and of one large
 * file to the embedded S3 (multipart), which must stay within NDJSON's +10%.
 */
export async function formatsBench(s3: { endpoint: string; bucket: string }, local: string, largeMb: number): Promise<void> {
  console.log("formats: web-events, stored bytes (ratios against ndjson in this run)\n");
  console.log("| format | MiB/s 1 thread | records/s 1 thread | MiB/s 2 threads | records/s 2 threads | RSS MB 100 × 3.5 MiB to S3, 2 threads | RSS MB 1 × " + `${largeMb} MiB to S3 |`);
  console.log("|---|---|---|---|---|---|---|");
  let n = 0;
  const base: Record<string, number> = {};
  for (const format of FORMATS) {
    const cells: string[] = [];
    for (const threads of [1, 2]) {
      const f = await generateRun({ files: 20, sizeMb: 3.5, threads, sink: { kind: "local", dir: local }, prefix: `fmt-${n++}/`, format });
      if (format === "ndjson") base[`mb${threads}`] = f.mbPerS;
      const recordsPerS = f.recordsPerS ?? 0;
      if (format === "ndjson") base[`rec${threads}`] = recordsPerS;
      cells.push(`${f.mbPerS.toFixed(1)} (${(f.mbPerS / (base[`mb${threads}`] ?? 1)).toFixed(2)})`, `${Math.round(recordsPerS).toLocaleString("en-US")} (${(recordsPerS / (base[`rec${threads}`] ?? 1)).toFixed(2)})`);
    }
    const many = await generateRun({ files: 100, sizeMb: 3.5, threads: 2, sink: { kind: "s3", bucket: s3.bucket, endpoint: s3.endpoint }, prefix: `fmt-rss-${n++}/`, format });
    const large = await generateRun({ files: 1, sizeMb: largeMb, threads: 1, sink: { kind: "s3", bucket: s3.bucket, endpoint: s3.endpoint }, prefix: `fmt-big-${n++}/`, format });
    if (format === "ndjson") base.many = many.peakRssMb;
    if (format === "ndjson") base.large = large.peakRssMb;
    cells.push(`${many.peakRssMb.toFixed(0)} (${(many.peakRssMb / (base.many ?? 1)).toFixed(2)})`, `${large.peakRssMb.toFixed(0)} (${(large.peakRssMb / (base.large ?? 1)).toFixed(2)})`);
    console.log(`| ${format} | ${cells.join(" | ")} |`);
  }
  console.log("");
}
