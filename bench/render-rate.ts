import { peakRssMb } from "./peak-rss";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BYTES_PER_MB } from "../src/core/limits";
import type { Format } from "../src/formats";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { parseSchemaText } from "../src/schema/dataset";

const ROOT = join(__dirname, "..", "..");

/** What one render-rate process measures: the built-in web-events, the same shape as a schema, or the serialisation bound. */
export interface RenderRateSpec {
  readonly kind: "built-in" | "schema" | "bound";
  /** 8 MiB files (or their volume, for the bound). */
  readonly files: number;
  /** The files' format (NDJSON when absent). */
  readonly format?: Format;
  /** A schema's example file under `examples/` (web-events-like.yaml when absent). */
  readonly example?: string;
  /** With a scenario's example, the dataset of it measured; its files split the scenario's roots 10 ways. */
  readonly scenarioDataset?: string;
}

const identity = (i: number, over: Partial<FileIdentity> = {}): FileIdentity => ({
  dataset: "web-events",
  seed: 1,
  runId: "ratios",
  datePrefix: "2025-12-23",
  hhmmss: "120000",
  fileIndex: i,
  fileCount: 100,
  targetBytes: 8 * BYTES_PER_MB,
  ...over,
});

/** MiB/s (and records/s) of rendering `files` files of a dataset in this thread, bytes as a sink gets them. */
function renderRate(files: number, over: Partial<FileIdentity> = {}): { mbPerS: number; recordsPerS: number } {
  const started = performance.now();
  let bytes = 0;
  let records = 0;
  for (let i = 0; i < files; i++) {
    const f = renderFile(identity(i, over));
    for (const _ of f.chunks);
    bytes += f.stats.bytes;
    records += f.stats.records;
  }
  const seconds = (performance.now() - started) / 1000;
  return { mbPerS: bytes / BYTES_PER_MB / seconds, recordsPerS: records / seconds };
}

/**
 * The serialisation bound: the same volume of NDJSON made by `JSON.stringify` of one fixed
 * web-events record, written straight into preallocated 256 KiB Buffers the way the renderer
 * writes its own records — no data generation, no hashing.
 */
function serialisationBound(mib: number): number {
  const first = renderFile(identity(0)).chunks[Symbol.iterator]().next().value as Buffer;
  const record = JSON.parse(first.toString("utf8").split("\n")[0] as string) as Record<string, unknown>;
  const target = mib * BYTES_PER_MB;
  const started = performance.now();
  let bytes = 0;
  let buffer = Buffer.allocUnsafe(256 * 1024);
  let used = 0;
  while (bytes + used < target) {
    const line = `${JSON.stringify(record)}\n`;
    if (used + line.length > buffer.length) {
      bytes += used;
      buffer = Buffer.allocUnsafe(256 * 1024);
      used = 0;
    }
    used += buffer.write(line, used, "latin1");
  }
  bytes += used;
  return bytes / BYTES_PER_MB / ((performance.now() - started) / 1000);
}

/**
 * One measurement of a render path in its own process (so `taskset` can put it on a core of its
 * own): three warm-up files first, then `files` files timed. Prints one JSON line.
 */
function main(): void {
  const spec = JSON.parse(process.argv[2] ?? "{}") as RenderRateSpec;
  if (spec.kind === "bound") {
    serialisationBound(24);
    const mbPerS = serialisationBound(spec.files * 8);
    process.stdout.write(`${JSON.stringify({ seconds: 0, mbPerS, peakRssMb: peakRssMb() })}\n`);
    return;
  }
  const example = spec.example ?? "web-events-like.yaml";
  const schema = spec.kind === "schema" ? parseSchemaText(readFileSync(join(ROOT, "examples", example), "utf8"), example) : undefined;
  const over: Partial<FileIdentity> = {
    ...(schema !== undefined && spec.scenarioDataset === undefined ? { dataset: example.replace(/\.ya?ml$/, ""), schema } : {}),
    ...(schema !== undefined && spec.scenarioDataset !== undefined ? { dataset: spec.scenarioDataset, schema: { scenario: schema, dataset: spec.scenarioDataset }, fileCount: 10 } : {}),
    ...(spec.format ? { format: spec.format } : {}),
  };
  renderRate(3, over);
  const { mbPerS, recordsPerS } = renderRate(spec.files, over);
  process.stdout.write(`${JSON.stringify({ seconds: 0, mbPerS, recordsPerS, peakRssMb: peakRssMb() })}\n`);
}

main();
