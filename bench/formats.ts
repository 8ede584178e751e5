import { FORMATS, type Format } from "../src/formats";
import { MALLOC_ENV } from "../src/files/pool";
import { generateRun } from "./child";

/** Rounds of the RSS runs, all formats in turn each round; the table shows each format's least. */
const RSS_ROUNDS = 2;

/**
 * Each format against NDJSON in the same run: stored MiB/s and records/s of web-events at 1 and 2
 * threads (20 × 3.5 MiB to a local folder), and peak RSS of a run of many files and of one large
 * file to the embedded S3 (multipart), which must stay within NDJSON's +10%, with that file's
 * MiB/s (the slower round's: the per-format rates in src/files/capacity.ts rest on it). Every run is a
 * process started as the generate-files function starts (its glibc malloc settings, MALLOC_ENV).
 */
export async function formatsBench(s3: { endpoint: string; bucket: string }, local: string, largeMb: number): Promise<void> {
  const env = MALLOC_ENV;
  let n = 0;
  const speed = new Map<Format, { mb: number[]; rec: number[] }>();
  for (const format of FORMATS) {
    const figures = { mb: [] as number[], rec: [] as number[] };
    for (const threads of [1, 2]) {
      const f = await generateRun({ files: 20, sizeMb: 3.5, threads, sink: { kind: "local", dir: local }, prefix: `fmt-${n++}/`, format }, env);
      figures.mb.push(f.mbPerS);
      figures.rec.push(f.recordsPerS ?? 0);
    }
    speed.set(format, figures);
  }
  const many = new Map<Format, number>();
  const large = new Map<Format, number>();
  /** MiB/s of the large file (counted, then streamed in parts): the slower round's, which capacity.ts's rates rest on. */
  const largeSpeed = new Map<Format, number>();
  const s3Sink = { kind: "s3" as const, bucket: s3.bucket, endpoint: s3.endpoint };
  for (let round = 0; round < RSS_ROUNDS; round++) {
    for (const format of FORMATS) {
      const m = await generateRun({ files: 100, sizeMb: 3.5, threads: 2, sink: s3Sink, prefix: `fmt-rss-${n++}/`, format }, env);
      const l = await generateRun({ files: 1, sizeMb: largeMb, threads: 1, sink: s3Sink, prefix: `fmt-big-${n++}/`, format }, env);
      many.set(format, Math.min(many.get(format) ?? Infinity, m.peakRssMb));
      large.set(format, Math.min(large.get(format) ?? Infinity, l.peakRssMb));
      largeSpeed.set(format, Math.min(largeSpeed.get(format) ?? Infinity, l.mbPerS));
    }
  }

  console.log(`formats: web-events, stored bytes (ratios against ndjson in this run; RSS the least of ${RSS_ROUNDS} alternated rounds)\n`);
  console.log(
    `| format | MiB/s 1 thread | records/s 1 thread | MiB/s 2 threads | records/s 2 threads | RSS MB 100 × 3.5 MiB to S3, 2 threads | RSS MB 1 × ${largeMb} MiB to S3 | MiB/s 1 × ${largeMb} MiB to S3, 1 thread |`,
  );
  console.log("|---|---|---|---|---|---|---|---|");
  const base = { speed: speed.get("ndjson"), many: many.get("ndjson") ?? 1, large: large.get("ndjson") ?? 1, largeSpeed: largeSpeed.get("ndjson") ?? 1 };
  const ratio = (value: number, of: number) => `(${(value / of).toFixed(2)})`;
  for (const format of FORMATS) {
    const s = speed.get(format);
    const cells: string[] = [];
    for (const t of [0, 1]) {
      const mb = s?.mb[t] ?? 0;
      const rec = s?.rec[t] ?? 0;
      cells.push(`${mb.toFixed(1)} ${ratio(mb, base.speed?.mb[t] ?? 1)}`, `${Math.round(rec).toLocaleString("en-US")} ${ratio(rec, base.speed?.rec[t] ?? 1)}`);
    }
    const m = many.get(format) ?? 0;
    const l = large.get(format) ?? 0;
    const ls = largeSpeed.get(format) ?? 0;
    cells.push(`${m.toFixed(0)} ${ratio(m, base.many)}`, `${l.toFixed(0)} ${ratio(l, base.large)}`, `${ls.toFixed(1)} ${ratio(ls, base.largeSpeed)}`);
    console.log(`| ${format} | ${cells.join(" | ")} |`);
  }
  console.log("");
}
