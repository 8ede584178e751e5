import { createHash } from "node:crypto";
import type { Dataset } from "../records/dataset";
import type { LineEncoder } from "../records/dirty";
import type { RecordSource } from "../records/record-source";
import type { FileIdentity, RenderStats } from "./file-identity";
import type { Format } from ".";
import { leavesOf } from "../records/columns";
import { csvHeader, csvLines } from "./csv";
import { GzipBlocks } from "./gzip";

/** Text gathered per gzip block: large enough for zlib to compress well, small against a part. */
const GZIP_BLOCK_BYTES = 256 * 1024;
/**
 * Record text per Parquet data page: every column gets one page per this much text. A page's
 * values wait in typed arrays, so a larger page costs little memory; smaller pages compress worse
 * (24 MiB of web-events held 74,857 records with 128 KiB pages, 98,265 with 1 MiB).
 */
const PAGE_TEXT_BYTES = 1024 * 1024;
/**
 * Record text per Parquet row group: a group being built holds only its compressed pages (about
 * a quarter of this for web-events with snappy), handed out uncopied when it is written, and each
 * group adds ~95 bytes per column to the footer, kept serialized until the file ends. One 256 MiB
 * file at 4, 8 and 16 MiB: 102, 99 and 101 MB peak RSS (bench/generate-run.js, local folder).
 */
const ROW_GROUP_TEXT_BYTES = 16 * 1024 * 1024;

/**
 * How close a compressed file comes to its target before it stops: the larger of 0.5% of the
 * target and 2 KiB. Compressed sizes are only known after compressing, so the last block or row
 * group is sized from the ratio so far and may land a little under or over (docs/formats.md).
 */
const compressedSlack = (targetBytes: number): number => Math.max(2048, Math.ceil(targetBytes * 0.005));

/**
 * Text gathered for a block, written as UTF-8 into one Buffer reused block after block: a block's
 * worth of text as one string (256 KiB) lands in V8's large-object space and stays until a full
 * GC — the peak RSS of 100 gzip files was 37% over NDJSON's with strings. A record larger than
 * the room left gets a Buffer of its own size.
 */
class TextBuffer {
  private buffer = Buffer.allocUnsafe(GZIP_BLOCK_BYTES + 64 * 1024);
  bytes = 0;
  /** UTF-16 length of the text, as the block budgets count it (so blocks end where they always did). */
  chars = 0;

  add(text: string): void {
    const most = this.bytes + text.length * 3;
    if (most > this.buffer.length) {
      const needed = this.bytes + Buffer.byteLength(text);
      if (needed > this.buffer.length) {
        const larger = Buffer.allocUnsafe(needed);
        this.buffer.copy(larger, 0, 0, this.bytes);
        this.buffer = larger;
      }
    }
    this.bytes += this.buffer.write(text, this.bytes, "utf8");
    this.chars += text.length;
  }

  /** The text so far (valid until the next `add`), and empties it. */
  take(): Buffer {
    const view = this.buffer.subarray(0, this.bytes);
    this.bytes = 0;
    this.chars = 0;
    return view;
  }
}

/** A record source for a format: CSV needs its lines written as CSV rows (dirt included). */
export type SourceFactory = (id: FileIdentity, encoder?: LineEncoder) => RecordSource;

/**
 * The stored bytes of one file in a format other than NDJSON, chunk by chunk, from the same
 * records an NDJSON rendering of this identity holds (none is stretched to fit: the last record
 * is one like any other). `stats.bytes` and `sha256` are of the stored bytes; `uncompressedBytes`
 * of the text inside (`.gz`), the text itself (`csv`), or the records as NDJSON (`parquet`).
 */
export function* encodedChunks(id: FileIdentity, format: Format, dataset: Dataset, stats: RenderStats, open: SourceFactory, arena?: Buffer): Generator<Buffer> {
  const hash = createHash("sha256");
  let arenaUsed = 0;
  /**
   * A chunk handed out: copied into the caller's arena while it fits (a sink that sends the file
   * whole then sends the arena, with nothing concatenated), else a chunk of its own — never the
   * reused text buffer itself, which the next chunk overwrites.
   */
  const out = (chunk: Buffer, reused = false): Buffer => {
    let kept = chunk;
    if (arena && arenaUsed + chunk.length <= arena.length) {
      chunk.copy(arena, arenaUsed);
      kept = arena.subarray(arenaUsed, arenaUsed + chunk.length);
      arenaUsed += chunk.length;
    } else if (reused) {
      kept = Buffer.from(chunk);
    }
    hash.update(kept);
    stats.bytes += kept.length;
    return kept;
  };
  const text = new TextBuffer();
  const done = (records: RecordSource): void => {
    stats.sha256 = hash.digest("hex");
    const dirty = records.dirtyCounts;
    if (dirty) stats.dirty = dirty;
  };
  let uncompressed = 0;
  let i = 0;
  /** A scenario's file holds a fixed number of records and ignores the byte target. */
  let fixed: number | undefined;
  const more = (): boolean => fixed === undefined || i < fixed;
  const counted = (records: RecordSource): RecordSource => {
    fixed = records.count;
    return records;
  };
  /** The next record's lines (more than one when dirt duplicated it). */
  const next = (records: RecordSource): string => {
    const { text, lines } = records.line(i++);
    stats.records += lines;
    uncompressed += text.length;
    return text;
  };

  if (format === "csv") {
    // As an unpadded NDJSON file: rows until the one that reaches the target.
    const records = counted(open(id, csvLines(dataset.columns, dataset.name)));
    // Rows are UTF-8: a schema's values (and names) may be any text once parsed back from JSON.
    text.add(`${csvHeader(dataset.columns)}\n`);
    let written = 0;
    while (fixed !== undefined ? more() : stats.records === 0 || written + text.bytes < id.targetBytes) {
      text.add(next(records));
      if (text.bytes >= GZIP_BLOCK_BYTES || (fixed === undefined && written + text.bytes >= id.targetBytes)) {
        written += text.bytes;
        yield out(text.take(), true);
      }
    }
    if (text.bytes > 0) yield out(text.take(), true);
    stats.uncompressedBytes = stats.bytes;
    done(records);
    return;
  }

  if (format === "ndjson.gz" || format === "csv.gz") {
    const csv = format === "csv.gz";
    const records = counted(csv ? open(id, csvLines(dataset.columns, dataset.name)) : open(id));
    const gzip = new GzipBlocks();
    const slack = compressedSlack(id.targetBytes);
    let header = csv ? `${csvHeader(dataset.columns)}\n` : "";
    // Trailer and final block: 10 bytes. The first block assumes text compresses to half.
    for (let ratio = 0.5; ; ) {
      const room = id.targetBytes - gzip.stored - 10;
      if (fixed !== undefined ? !more() && header === "" : room <= slack && stats.records > 0) break;
      const budget = fixed !== undefined ? GZIP_BLOCK_BYTES : Math.min(GZIP_BLOCK_BYTES, Math.max(1, Math.floor(room / ratio)));
      text.add(header);
      header = "";
      while (more() && text.chars < budget) text.add(next(records));
      yield out(gzip.block(text.take()));
      ratio = (gzip.stored - 10) / gzip.consumed;
    }
    yield out(gzip.finish());
    stats.uncompressedBytes = gzip.consumed;
    done(records);
    return;
  }

  // parquet
  const { ParquetPages } = require("./parquet") as typeof import("./parquet");
  const records = counted(open(id));
  const parquet = new ParquetPages(dataset.columns, id.parquetCodec ?? "snappy", dataset.name);
  const slack = compressedSlack(id.targetBytes);
  // The footer holds the schema and, per row group, each leaf column's metadata and statistics:
  // measured at 40-50 bytes per leaf plus 80-95 per leaf and row group for the built-ins.
  const leaves = leavesOf(dataset.columns).length;
  const footer = (groups: number) => 512 + 48 * leaves + 96 * leaves * groups;
  let groups = 0;
  let groupText = 0;
  /** Stored bytes per character of record text, from the last page; the first guess is 1. */
  let ratio = 1;
  let lastPage = 0;
  for (;;) {
    const after = (exact: boolean) => id.targetBytes - parquet.bytes(exact) - footer(groups + 1);
    let room = after(false);
    // Near the end the dictionaries' stored size matters: measure it rather than estimate it.
    if (room < 4 * lastPage + 64 * 1024) room = after(true);
    if (fixed !== undefined ? !more() : room <= slack && stats.records > 0) break;
    // Aim a little short: the next page's ratio differs from the last one's.
    const budget = fixed !== undefined ? PAGE_TEXT_BYTES : Math.min(PAGE_TEXT_BYTES, Math.max(1, Math.floor((0.8 * room) / ratio)));
    // What the page adds: its encoded bytes and its new dictionary entries (counted as they come).
    const before = parquet.bytes(false);
    let text = 0;
    do {
      const first = stats.records;
      const chunk = next(records);
      text += chunk.length;
      // The record's values as the dataset made them; its text parsed where it has none to give.
      const row = records.row();
      if (row !== undefined && parquet.addRow(row, first)) continue;
      let r = first;
      for (const line of chunk.split("\n")) if (line !== "") parquet.add(line, r++);
    } while (text < budget && more());
    parquet.page();
    lastPage = parquet.bytes(false) - before;
    ratio = Math.max(0.01, lastPage / text);
    groupText += text;
    if (groupText >= ROW_GROUP_TEXT_BYTES) {
      for (const piece of parquet.rowGroup()) yield out(piece);
      groups++;
      groupText = 0;
    }
  }
  if (parquet.rows > 0) for (const piece of parquet.rowGroup()) yield out(piece);
  yield out(parquet.finish());
  stats.uncompressedBytes = uncompressed;
  done(records);
}
