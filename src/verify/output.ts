import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ValidationError } from "../core/errors";
import type { FileSink } from "../sinks/sink";
import { Micros } from "./canonical";
import { hashLine, type KeyHash } from "./key-table";
import { CsvRows } from "../formats/csv-rows";

/** The formats verify reads, by how a key ends. */
export type OutputFormat = "ndjson" | "ndjson.gz" | "csv" | "csv.gz" | "parquet";

const BY_EXTENSION: readonly [RegExp, OutputFormat][] = [
  [/\.(ndjson|jsonl|json)\.gz$/, "ndjson.gz"],
  [/\.(ndjson|jsonl|json)$/, "ndjson"],
  [/\.csv\.gz$/, "csv.gz"],
  [/\.csv$/, "csv"],
  [/\.parquet$/, "parquet"],
];

/** What a pipeline's output folder holds besides data: synthgen's own folders, markers, temporary files. */
const NOT_DATA = /(^|\/)(_manifests|_datasets)\/|(^|\/)[._][^/]*$|\.partial$/;

export function formatOf(key: string): OutputFormat | undefined {
  return BY_EXTENSION.find(([re]) => re.test(key))?.[1];
}

/**
 * The Hive-style partition values of a key's folders (`event_type=page_view/dt=2026-01-15/…`):
 * name → value, percent-escapes decoded as Hive writes them, Hive's default partition as null.
 * A pipeline that moves a field into its path (and out of its rows) keeps it there.
 */
export function hivePartitionsOf(key: string): Record<string, string | null> | undefined {
  let out: Record<string, string | null> | undefined;
  const folders = key.split("/").slice(0, -1);
  for (const folder of folders) {
    const eq = folder.indexOf("=");
    if (eq <= 0) continue;
    let value: string | null;
    try {
      value = decodeURIComponent(folder.slice(eq + 1));
    } catch {
      value = folder.slice(eq + 1);
    }
    (out ??= {})[folder.slice(0, eq)] = value === "__HIVE_DEFAULT_PARTITION__" ? null : value;
  }
  return out;
}

/** The `dt=YYYY-MM-DD` partition a key sits under, if any. */
export function partitionOf(key: string): string | undefined {
  return /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
}

/** The data files under a prefix, and what was left out with why (`sizes`, when given, receives each key's size). */
export async function listOutput(sink: FileSink, prefix: string, sizes?: Map<string, number>): Promise<{ files: { key: string; format: OutputFormat }[]; skipped: { key: string; why: string }[] }> {
  const files: { key: string; format: OutputFormat }[] = [];
  const skipped: { key: string; why: string }[] = [];
  for (const key of await sink.list(prefix, undefined, sizes)) {
    const rel = key.slice(prefix.length);
    if (NOT_DATA.test(rel)) continue;
    const format = formatOf(key);
    if (format) files.push({ key, format });
    else skipped.push({ key, why: "not .ndjson, .jsonl, .json, .csv or .parquet (optionally .gz)" });
  }
  return { files, skipped };
}

/**
 * One row of output: an object (nested for NDJSON and Parquet, dotted CSV names for CSV), or why
 * it could not be read, or — NDJSON lines in a row each byte for byte a generated record's clean
 * line, found by its hash (see `VerbatimLines`) — those records' indices, from line `line` on, the
 * lines never parsed.
 */
export type OutputRow =
  | { readonly values: Record<string, unknown>; readonly textual: boolean; readonly line: number }
  | { readonly error: string; readonly line: number; readonly text?: string }
  | { readonly verbatim: readonly number[]; readonly line: number };

/** The record index whose clean line hashes to `h` (`hashLine`), or -1: an expected run's `lines` table. */
export interface VerbatimLines {
  get(h: KeyHash): number;
}

/**
 * Piece `part` of `parts` of an object too large for one reader (the verify state machine's read
 * slices): of NDJSON, the lines that start in its share of the bytes; of Parquet, its share of the
 * row groups. Gzip and CSV are read whole (a quoted field may hold a newline).
 */
export interface Piece {
  readonly part: number;
  readonly parts: number;
  /** The object's size when the pieces were planned: one that has another now was written again, and its pieces would not meet. */
  readonly bytes?: number;
}

/** An object's size, which must be what its pieces were planned for. */
async function sizeAsPlanned(sink: FileSink, key: string, piece: Piece): Promise<number> {
  const size = await sink.size(key);
  if (piece.bytes !== undefined && size !== piece.bytes) {
    throw new ValidationError("output", `${key} is ${size} bytes now, ${piece.bytes} when its pieces were planned: it was written again; start a new verify`);
  }
  return size;
}

/** Whether an object of this format can be read in pieces. */
export const splittable = (format: OutputFormat): boolean => format === "ndjson" || format === "parquet";

/** Piece `part` of `parts` of `count` things (bytes, row groups): [from, to). */
export const shareOf = (count: number, { part, parts }: Piece): [number, number] => [Math.floor((part * count) / parts), Math.floor(((part + 1) * count) / parts)];

/**
 * Rows of one output file (or of a piece of it), streamed: a file is never held whole, except one
 * Parquet row group at a time. A piece's rows are numbered from its own first line (or row);
 * `counted.lines` receives how many it read, so a reader of the pieces in order can number them
 * as the whole object's.
 */
export async function* rowsOf(sink: FileSink, key: string, format: OutputFormat, piece?: Piece, counted?: { lines: number }, verbatim?: VerbatimLines): AsyncGenerator<OutputRow> {
  if (piece && !splittable(format)) throw new Error(`verify: a ${format} object is read whole, not in pieces`);
  if (format === "parquet") {
    yield* parquetRows(sink, key, piece, counted);
    return;
  }
  let raw: Readable;
  let owned: ((chunks: AsyncIterable<Buffer>) => AsyncIterable<Buffer>) | undefined;
  if (piece && piece.parts > 1) {
    const [start, end] = shareOf(await sizeAsPlanned(sink, key, piece), piece);
    // From the byte before its share: a line is this piece's when it starts in [start, end).
    const from = Math.max(0, start - 1);
    raw = Readable.from(await sink.stream(key, from));
    owned = (chunks) => ownedLines(chunks, start > 0, end - from);
  } else raw = Readable.from(await sink.stream(key));
  const text = format.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  if (format.startsWith("ndjson")) {
    let line = 0;
    const chunks = text as AsyncIterable<Buffer>;
    const h: KeyHash = { h1: 0, h2: 0 };
    for await (const lines of lineBatchesOf(owned ? owned(chunks) : chunks)) {
      // Verbatim lines in a row go as one batch: most of a kept file's lines are, and cost a step each otherwise.
      let batch: number[] = [];
      let from = 0;
      for (const bytes of lines) {
        line++;
        if (verbatim) {
          const index = verbatim.get(hashLine(bytes, 0, bytes.length, h));
          if (index >= 0) {
            if (batch.length === 0) from = line;
            batch.push(index);
            continue;
          }
          if (batch.length > 0) {
            yield { verbatim: batch, line: from };
            batch = [];
          }
        }
        const l = bytes.toString("utf8");
        if (l.trim() === "") continue;
        try {
          const v = JSON.parse(l) as unknown;
          if (v === null || typeof v !== "object" || Array.isArray(v)) yield { error: "not a JSON object", line, text: l };
          else yield { values: v as Record<string, unknown>, textual: false, line };
        } catch {
          yield { error: "not valid JSON", line, text: l };
        }
      }
      if (batch.length > 0) yield { verbatim: batch, line: from };
    }
    if (counted) counted.lines = line;
    raw.destroy();
    return;
  }
  text.setEncoding("utf8");
  const csv = new CsvRows();
  let header: string[] | undefined;
  let line = 0;
  const rowsFrom = function* (rows: (string | null)[][]): Generator<OutputRow> {
    for (const row of rows) {
      line++;
      if (!header) {
        header = row.map((c) => c ?? "");
        continue;
      }
      if (row.length !== header.length) {
        yield { error: `${row.length} fields where the header has ${header.length}`, line };
        continue;
      }
      const values: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) values[header[i] as string] = row[i];
      yield { values, textual: true, line };
    }
  };
  for await (const chunk of text as AsyncIterable<string>) yield* rowsFrom(csv.push(chunk));
  yield* rowsFrom(csv.end());
}

/**
 * The bytes of the lines a piece owns, from a stream that starts one byte before its share:
 * without `skipFirst` (the share starts the object) from the first byte, else from after the
 * first newline (the line before belongs to the piece before, unless that byte is the newline
 * itself); through the end of the last line that starts before `limit` (the share's end, counted
 * from the stream's start), then no more is read.
 */
export async function* ownedLines(chunks: AsyncIterable<Buffer>, skipFirst: boolean, limit: number): AsyncGenerator<Buffer> {
  let at = 0;
  let skipping = skipFirst;
  for await (const chunk of chunks) {
    let begin = 0;
    if (skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        at += chunk.length;
        continue;
      }
      skipping = false;
      begin = nl + 1;
      // A newline at or after the limit ends the line that crosses the whole share: none start in it.
      if (at + nl >= limit - 1) return;
    }
    // The first newline at or after the limit's last byte ends the last line this piece owns.
    const stopFrom = Math.max(begin, limit - 1 - at);
    if (stopFrom < chunk.length) {
      const nl = chunk.indexOf(10, stopFrom);
      if (nl >= 0) {
        yield chunk.subarray(begin, nl + 1);
        return;
      }
    }
    if (begin < chunk.length) yield chunk.subarray(begin);
    at += chunk.length;
  }
}

/** A line longer than this is not a record (synthgen's largest, an oversize one, is just over 1 MiB). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Lines of a byte stream as text: see `lineBatchesOf`. */
export async function* linesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  for await (const lines of lineBatchesOf(chunks)) for (const line of lines) yield line.toString("utf8");
}

/**
 * Lines of a byte stream, split on `\n` (a `\r` before it dropped) where the bytes are, as views
 * of them (a line that spans chunks joined once), a chunk's at a time: decoded only by a reader
 * that needs the text, which is cheaper than readline's decoder and regular expression over every
 * chunk, and one step of the stream per chunk, not per line.
 */
export async function* lineBatchesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer[]> {
  // The start of a line that spans chunks, kept as pieces and joined once its end arrives.
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  const cut = (buf: Buffer, start: number, end: number) => buf.subarray(start, end > start && buf[end - 1] === 13 ? end - 1 : end);
  for await (const chunk of chunks) {
    const lines: Buffer[] = [];
    let start = 0;
    let nl = chunk.indexOf(10);
    if (nl >= 0 && pendingBytes > 0) {
      const line = Buffer.concat([...pending, chunk.subarray(0, nl)]);
      pending.length = 0;
      pendingBytes = 0;
      lines.push(cut(line, 0, line.length));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    for (; nl >= 0; nl = chunk.indexOf(10, start)) {
      lines.push(cut(chunk, start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) throw new Error(`a line longer than ${MAX_LINE_BYTES} bytes: not NDJSON`);
    }
    if (lines.length > 0) yield lines;
  }
  if (pendingBytes > 0) {
    const line = Buffer.concat(pending);
    yield [cut(line, 0, line.length)];
  }
}

async function* parquetRows(sink: FileSink, key: string, piece?: Piece, counted?: { lines: number }): AsyncGenerator<OutputRow> {
  const hyparquet = require("hyparquet") as typeof import("hyparquet");
  const { gunzipSync } = require("node:zlib") as typeof import("node:zlib");
  const zlib = require("node:zlib") as { zstdDecompressSync?: (b: Uint8Array) => Buffer };
  const file = await parquetFile(sink, key, piece && piece.parts > 1 ? await sizeAsPlanned(sink, key, piece) : undefined);
  const compressors = {
    GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
    ...(zlib.zstdDecompressSync ? { ZSTD: (input: Uint8Array) => new Uint8Array((zlib.zstdDecompressSync as (b: Uint8Array) => Buffer)(input)) } : {}),
  };
  const parsers = { timestampFromMicroseconds: (us: bigint) => new Micros(us), timestampFromMilliseconds: (ms: bigint) => new Micros(ms * 1000n) };
  let metadata: Awaited<ReturnType<typeof hyparquet.parquetMetadataAsync>>;
  try {
    metadata = await hyparquet.parquetMetadataAsync(file, { parsers });
  } catch (err) {
    yield { error: `not a Parquet file: ${(err as Error).message}`, line: 0 };
    return;
  }
  // A piece reads its share of the row groups, its rows numbered from its first.
  const [first, end] = piece ? shareOf(metadata.row_groups.length, piece) : [0, metadata.row_groups.length];
  let rowStart = 0;
  for (let g = 0; g < first; g++) rowStart += Number(metadata.row_groups[g]?.num_rows);
  const pieceStart = rowStart;
  for (let g = first; g < end; g++) {
    const rowEnd = rowStart + Number(metadata.row_groups[g]?.num_rows);
    const rows = await hyparquet.parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors, parsers });
    for (let i = 0; i < rows.length; i++) yield { values: rows[i] as Record<string, unknown>, textual: false, line: rowStart - pieceStart + i + 1 };
    rowStart = rowEnd;
  }
  if (counted) counted.lines = rowStart - pieceStart;
}

/** An object as hyparquet reads it: its size, and byte ranges on demand. */
async function parquetFile(sink: FileSink, key: string, size?: number): Promise<{ byteLength: number; slice(start: number, end?: number): Promise<ArrayBuffer> }> {
  const byteLength = size ?? (await sink.size(key));
  return {
    byteLength,
    slice: async (start: number, end?: number) => {
      const bytes = await sink.range(key, start, end ?? byteLength);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** How many row groups a Parquet object has (the verify plan splits a large one by them). */
export async function parquetRowGroups(sink: FileSink, key: string): Promise<number> {
  const hyparquet = require("hyparquet") as typeof import("hyparquet");
  const file = await parquetFile(sink, key);
  try {
    return (await hyparquet.parquetMetadataAsync(file)).row_groups.length;
  } catch {
    // Not a Parquet file: read whole, where it is reported unreadable.
    return 1;
  }
}
