import { createReadStream } from "node:fs";
import { basename, extname } from "node:path";
import { ValidationError } from "../core/errors";
import { CsvRows } from "../formats/csv-rows";
import { fieldSpec, type FieldSpec } from "./fields";
import { FieldProfile } from "./profile";

/** What `infer` reads of a sample at most: records, and characters in one line. */
export const SAMPLE_LIMITS = Object.freeze({ MAX_RECORDS: 1_000_000, DEFAULT_RECORDS: 100_000, MAX_LINE_CHARS: 1024 * 1024 });

export type SampleFormat = "ndjson" | "csv" | "parquet";

export interface SampleProfile {
  readonly records: number;
  /** NDJSON lines that were not a JSON object, skipped. */
  readonly skipped: number;
  readonly root: FieldProfile;
}

/** The sample's format, by its extension. */
export function sampleFormat(path: string): SampleFormat {
  const ext = extname(path).toLowerCase();
  if ([".ndjson", ".jsonl", ".json"].includes(ext)) return "ndjson";
  if (ext === ".csv") return "csv";
  if (ext === ".parquet") return "parquet";
  throw new ValidationError(
    "sample",
    `${basename(path)}: infer reads NDJSON (.ndjson, .jsonl, .json: one object a line), CSV (.csv with a header row) or Parquet (.parquet) samples, JSON Schema (.schema.json) or Avro (.avsc) schemas, or a database URL (got "${ext || "no extension"}")`,
  );
}

/** A CSV cell as the value it spells: a number, true/false, or the text; an empty unquoted cell is null. */
function cellValue(cell: string | null): unknown {
  if (cell === null) return null;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(cell)) return Number(cell);
  if (cell === "true" || cell === "false") return cell === "true";
  return cell;
}

/** A CSV row as a record: a header `parent.child` makes a nested object, as synthgen writes structs. */
function csvRecord(header: readonly string[], row: readonly (string | null)[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  header.forEach((name, i) => {
    const path = name.split(".");
    let at = record;
    for (const k of path.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[path.at(-1) as string] = cellValue(row[i] ?? null);
  });
  return record;
}

/**
 * Profiles the first `maxRecords` records of a sample file, streamed: NDJSON (a line that is not a
 * JSON object is skipped and counted; a line longer than MAX_LINE_CHARS is refused) or CSV with a
 * header row. Memory stays bounded by the profiles, whatever the file's size.
 */
export async function profileSample(path: string, maxRecords: number = SAMPLE_LIMITS.DEFAULT_RECORDS): Promise<SampleProfile> {
  const format = sampleFormat(path);
  const root = new FieldProfile();
  let records = 0;
  let skipped = 0;
  const add = (record: unknown) => {
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      skipped++;
      return;
    }
    root.add(record);
    records++;
  };
  if (format === "parquet") {
    for await (const record of parquetRecords(path, maxRecords)) add(record);
    if (records === 0) throw new ValidationError("sample", `${basename(path)} holds no rows`);
    return { records, skipped, root };
  }
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 });
  try {
    if (format === "ndjson") {
      let carry = "";
      for await (const chunk of stream as AsyncIterable<string>) {
        const text = carry + chunk;
        let start = 0;
        for (let end = text.indexOf("\n"); end !== -1 && records < maxRecords; end = text.indexOf("\n", start)) {
          if (end - start > SAMPLE_LIMITS.MAX_LINE_CHARS)
            throw new ValidationError("sample", `${basename(path)} has a line longer than ${SAMPLE_LIMITS.MAX_LINE_CHARS} characters; infer reads one record a line`);
          const line = text.slice(start, end).trim();
          start = end + 1;
          if (line === "") continue;
          try {
            add(JSON.parse(line));
          } catch {
            skipped++;
          }
        }
        carry = text.slice(start);
        if (records >= maxRecords) break;
        if (carry.length > SAMPLE_LIMITS.MAX_LINE_CHARS)
          throw new ValidationError("sample", `${basename(path)} has a line longer than ${SAMPLE_LIMITS.MAX_LINE_CHARS} characters; infer reads one record a line`);
      }
      if (carry.trim() !== "" && records < maxRecords) {
        try {
          add(JSON.parse(carry));
        } catch {
          skipped++;
        }
      }
    } else {
      const rows = new CsvRows(SAMPLE_LIMITS.MAX_LINE_CHARS);
      let header: string[] | undefined;
      const take = (row: (string | null)[]) => {
        if (!header) header = row.map((c, i) => c ?? `column_${i + 1}`);
        else if (records < maxRecords) add(csvRecord(header, row));
      };
      for await (const chunk of stream as AsyncIterable<string>) {
        for (const row of rows.push(chunk)) take(row);
        if (records >= maxRecords) break;
      }
      if (records < maxRecords) for (const row of rows.end()) take(row);
    }
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError("sample", `${basename(path)}: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (records === 0) throw new ValidationError("sample", `${basename(path)} holds no record infer can read${skipped ? ` (${skipped} lines are not JSON objects)` : ""}`);
  return { records, skipped, root };
}

/** A Parquet value as JSON would hold it: times as ISO text, 64-bit integers as numbers, bytes as text. */
function plain(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** A Parquet file's rows, row group by row group (hyparquet), read from the file by ranges, up to `maxRecords`. */
async function* parquetRecords(path: string, maxRecords: number): AsyncGenerator<Record<string, unknown>> {
  const { open } = require("node:fs/promises") as typeof import("node:fs/promises");
  const hyparquet = require("hyparquet") as typeof import("hyparquet");
  const { gunzipSync } = require("node:zlib") as typeof import("node:zlib");
  const zlib = require("node:zlib") as { zstdDecompressSync?: (b: Uint8Array) => Buffer };
  const handle = await open(path, "r");
  try {
    const byteLength = (await handle.stat()).size;
    const file = {
      byteLength,
      slice: async (start: number, end?: number) => {
        const buffer = Buffer.alloc((end ?? byteLength) - start);
        await handle.read(buffer, 0, buffer.length, start);
        return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length) as ArrayBuffer;
      },
    };
    const compressors = {
      GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
      ...(zlib.zstdDecompressSync ? { ZSTD: (input: Uint8Array) => new Uint8Array((zlib.zstdDecompressSync as (b: Uint8Array) => Buffer)(input)) } : {}),
    };
    let metadata: Awaited<ReturnType<typeof hyparquet.parquetMetadataAsync>>;
    try {
      metadata = await hyparquet.parquetMetadataAsync(file);
    } catch (err) {
      throw new ValidationError("sample", `${basename(path)} is not a Parquet file: ${(err as Error).message}`);
    }
    let rowStart = 0;
    let given = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = Math.min(rowStart + Number(group.num_rows), rowStart + (maxRecords - given));
      const rows = await hyparquet.parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors });
      for (const row of rows) {
        yield plain(row) as Record<string, unknown>;
        if (++given >= maxRecords) return;
      }
      rowStart += Number(group.num_rows);
    }
  } finally {
    await handle.close();
  }
}

/** The dataset document a sample implies: its name, where it came from, and a field for each field seen. */
export function datasetDocument(name: string, source: string, profile: SampleProfile): { name: string; description: string; fields: Record<string, FieldSpec> } {
  const fields: Record<string, FieldSpec> = {};
  for (const [k, f] of profile.root.fields) fields[k] = fieldSpec(k, f, profile.records);
  return { name, description: `Inferred by synthgen infer from ${profile.records.toLocaleString("en-US")} records of ${source}.`, fields };
}
