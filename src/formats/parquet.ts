import { gzipSync } from "node:zlib";
import { ByteWriter, type SchemaElement } from "hyparquet-writer";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import type { writeDictionaryPage } from "hyparquet-writer/src/dictionary.js";
import { writeRleBitPackedHybrid } from "hyparquet-writer/src/encoding.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import { zstdCompressSync, type ParquetCodec } from ".";
import { snappyCompress } from "./snappy";
import { columnNames, type Column, type ColumnType } from "../records/columns";

const CODEC = { snappy: "SNAPPY", gzip: "GZIP", zstd: "ZSTD", uncompressed: "UNCOMPRESSED" } as const;
const COMPRESSORS = {
  SNAPPY: snappyCompress,
  GZIP: (input: Uint8Array) => gzipSync(input),
  // Refused before a file starts where Node's zlib has no zstd (parseParquetCodec).
  ...(zstdCompressSync ? { ZSTD: zstdCompressSync } : {}),
};

/**
 * A column chunk's dictionary stops taking values once its values would take this many bytes
 * stored plain; later pages of that chunk are written plain (as parquet-java and Arrow do).
 */
const DICTIONARY_BYTES = 256 * 1024;
/**
 * Values a chunk's dictionary encodes before it is judged: from then on, it is kept only while
 * it and its indexes take at most half the plain bytes of what it encoded (hyparquet-writer's
 * own rule for a whole chunk).
 */
const DICTIONARY_TRIAL_VALUES = 1000;

type LeafKind = Exclude<ColumnType, { struct: readonly Column[] }>;
/** A value as a leaf column holds it: 64-bit integers as numbers while exact, bigints beyond. */
type Physical = string | bigint | number | boolean;
type Encoding = "PLAIN" | "RLE" | "RLE_DICTIONARY";
type ColumnChunk = Parameters<typeof writeMetadata>[1]["row_groups"][number]["columns"][number];
type RowGroup = Parameters<typeof writeMetadata>[1]["row_groups"][number];
type ColumnEncoder = Parameters<typeof writeDictionaryPage>[1];

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;
/** Milliseconds whose microseconds are still exact as a double (to the year 2255). */
const EXACT_MS = Number.MAX_SAFE_INTEGER / 1000;
const DAY_MS = 86_400_000;
/** Days before each month of a common year. */
const MONTH_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/** A leaf column's schema element for its kind; every column is optional. */
function leafElement(name: string, kind: LeafKind): SchemaElement {
  const optional = { name, repetition_type: "OPTIONAL" } as const;
  switch (kind) {
    case "string":
      return { ...optional, type: "BYTE_ARRAY", converted_type: "UTF8" };
    case "json":
      return { ...optional, type: "BYTE_ARRAY", converted_type: "JSON" };
    case "int":
      return { ...optional, type: "INT64" };
    case "double":
      return { ...optional, type: "DOUBLE" };
    case "boolean":
      return { ...optional, type: "BOOLEAN" };
    case "timestamp":
      return { ...optional, type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } };
  }
}

/** Two ASCII digits at `i`, or NaN. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number.NaN;
}

/**
 * Microseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` for years 1970–9999 and a real
 * day and time, read digit by digit; undefined for anything else (left to Date.parse, as before).
 */
function isoMicrosFast(s: string): number | bigint | undefined {
  const n = s.length;
  if (n < 20 || n > 27 || n === 21 || s.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const year = digits2(s, 0) * 100 + digits2(s, 2);
  const month = digits2(s, 5);
  const day = digits2(s, 8);
  const hour = digits2(s, 11);
  const minute = digits2(s, 14);
  const second = digits2(s, 17);
  if (!(year >= 1970 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59)) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthLength = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > monthLength) return undefined;
  let micros = 0;
  if (n > 20) {
    if (s.charCodeAt(19) !== 46 /* . */) return undefined;
    for (let i = 20; i < 26; i++) {
      const d = i < n - 1 ? s.charCodeAt(i) - 48 : 0;
      if (d < 0 || d > 9) return undefined;
      micros = micros * 10 + d;
    }
  }
  // Days since 1970-01-01: whole years (with their leap days), then months, then days.
  const y = year - 1;
  const days = 365 * (year - 1970) + (Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) - 477) + (MONTH_DAYS[month - 1] as number) + (month > 2 && leap ? 1 : 0) + day - 1;
  const ms = days * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000;
  return ms < EXACT_MS ? ms * 1000 + micros : BigInt(ms) * 1000n + BigInt(micros);
}

/** An ISO-8601 UTC time (`YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`) as a timestamp column stores it, in microseconds; undefined for any other value. */
export const timestampMicros = (value: unknown): number | bigint | undefined => physical(value, "timestamp") as number | bigint | undefined;

/**
 * A JSON value as its leaf column stores it, or undefined when the column cannot hold it. 64-bit
 * integers (ints and timestamps) are numbers while they are exact as one, bigints beyond.
 */
function physical(value: unknown, kind: LeafKind): Physical | undefined {
  switch (kind) {
    case "string":
      return typeof value === "string" ? value : undefined;
    case "json":
      return JSON.stringify(value);
    case "boolean":
      return typeof value === "boolean" ? value : undefined;
    case "double":
      return typeof value === "number" ? value : undefined;
    case "int":
      return Number.isSafeInteger(value) ? (value as number) : undefined;
    case "timestamp": {
      if (typeof value !== "string") return undefined;
      const fast = isoMicrosFast(value);
      if (fast !== undefined) return fast;
      const m = ISO.exec(value);
      if (!m) return undefined;
      const ms = Date.parse(`${m[1]}Z`);
      if (Number.isNaN(ms)) return undefined;
      const micros = Number((m[2] ?? "").padEnd(6, "0"));
      return Math.abs(ms) < EXACT_MS ? ms * 1000 + micros : BigInt(ms) * 1000n + BigInt(micros);
    }
  }
}

/**
 * A value a dataset handed over (see `RecordWriter.row`) as its leaf column stores it: null for a
 * left-out value, undefined where its JSON text might read back differently or the column cannot
 * hold it — a -0, NaN or infinite number, a value of another type — so the record's text is
 * parsed instead, exactly as before.
 */
function rowPhysical(value: unknown, kind: LeafKind): Physical | null | undefined {
  if (value === undefined || value === null) return null;
  // Text writes -0 as 0 and NaN or an infinity as null: the text decides those.
  if (typeof value === "number" && (!Number.isFinite(value) || (value === 0 && 1 / value < 0))) return undefined;
  return physical(value, kind);
}

/** A field of a record's object: its own, never one it inherits (a field named `constructor` left out is missing, not a function). */
const own = (object: Record<string, unknown>, key: string): unknown => (Object.hasOwn(object, key) ? object[key] : undefined);

/** Strings in UTF-8 byte order (code point order), as Parquet orders BYTE_ARRAY statistics. */
function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  // A surrogate (a code point above U+FFFF) sorts after every other UTF-16 unit.
  const surrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;
  if (surrogate(x) !== surrogate(y)) return surrogate(x) ? 1 : -1;
  return x - y;
}

const less = (a: Physical, b: Physical): boolean => (typeof a === "string" ? compareStrings(a, b as string) < 0 : a < b);

/** A typed array twice as long, its first `used` elements kept. */
function grown<T extends Uint8Array | Int32Array | Float64Array>(array: T, used: number): T {
  const larger = new (array.constructor as new (n: number) => T)(array.length * 2);
  larger.set(array.subarray(0, used) as never);
  return larger;
}

const TWO_32 = 4294967296;
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("parquet: pages are laid out for a little-endian machine");

/**
 * Values laid out as a PLAIN page (or a dictionary page) stores them: a string as its UTF-8 length
 * (4 bytes) and bytes, a 64-bit integer or a double as 8 little-endian bytes.
 */
class PlainBytes {
  buffer: Buffer;
  length = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Appends one value; returns the bytes it took. */
  add(value: Physical, kind: LeafKind): number {
    if (typeof value === "string") {
      const at = this.room(4 + value.length * 3);
      const length = this.buffer.write(value, at + 4, "utf8");
      this.buffer.writeUInt32LE(length, at);
      this.length = at + 4 + length;
      return 4 + length;
    }
    const at = this.room(8);
    this.length = at + 8;
    if (kind === "double") this.buffer.writeDoubleLE(value as number, at);
    else if (typeof value === "bigint") this.buffer.writeBigInt64LE(value, at);
    else {
      // A safe integer as two 32-bit halves, the high one signed: no BigInt made.
      const high = Math.floor((value as number) / TWO_32);
      this.buffer.writeUInt32LE((value as number) - high * TWO_32, at);
      this.buffer.writeInt32LE(high, at + 4);
    }
    return 8;
  }

  /** The bytes so far (a view, valid until the next `add`). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** Where the next `most` bytes go, the buffer grown to hold them. */
  private room(most: number): number {
    const at = this.length;
    if (at + most > this.buffer.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, at + most));
      this.buffer.copy(larger, 0, 0, at);
      this.buffer = larger;
    }
    return at;
  }
}

/**
 * One leaf column of the row group being built: the page being filled, the chunk's pages already
 * encoded and compressed, its dictionary and its statistics. The page's values wait in typed
 * arrays already as the page stores them — dictionary indexes; or plain: each string's length and
 * UTF-8 bytes, 64-bit integers, doubles (little-endian, as Parquet lays them out), booleans — so
 * encoding a page copies bytes, with no JavaScript value per cell.
 */
class LeafChunk {
  private defs = new Uint8Array(1024);
  /** Rows in the page being filled, and the values among them (the non-null ones). */
  private rows = 0;
  private count = 0;
  private indexes = new Int32Array(1024);
  /** A plain page's values so far (strings, 64-bit integers, doubles). */
  private readonly plain: PlainBytes;
  private booleans = new Uint8Array(0);
  private pages: Uint8Array[] = [];
  /** Stored bytes of the encoded pages. */
  pageBytes = 0;
  private uncompressed = 0;
  private numValues = 0;
  private dictionaryPages = 0;
  private plainPages = 0;
  private dictionary: Map<Physical, number> | undefined;
  private dictionaryValues: Physical[] = [];
  /** Plain bytes of each dictionary value, by index, and the dictionary page's values laid out. */
  private dictionarySizes: number[] = [];
  private readonly dictionaryPlain: PlainBytes;
  /** Bytes the dictionary's values take plain; its stored page size, once measured for this many values. */
  dictionaryBytes = 0;
  private measured: { values: number; bytes: number } | undefined;
  /** Non-null values the dictionary encoded, and their plain bytes. */
  private encoded = 0;
  private encodedPlain = 0;
  /**
   * Statistics of the values written plain (and whether a string one is ASCII); the dictionary's
   * values join them when the chunk is written.
   */
  private min: Physical | undefined;
  private max: Physical | undefined;
  private minAscii = false;
  private maxAscii = false;
  private nulls = 0;

  constructor(
    readonly encoder: ColumnEncoder,
    readonly kind: LeafKind,
    private readonly path: string[],
    private readonly maxDefinition: number,
  ) {
    if (kind !== "boolean") this.dictionary = new Map();
    if (kind === "boolean") this.booleans = new Uint8Array(1024);
    const text = kind === "string" || kind === "json";
    this.plain = new PlainBytes(kind === "boolean" ? 0 : text ? 64 * 1024 : 8 * 1024);
    this.dictionaryPlain = new PlainBytes(kind === "boolean" ? 0 : text ? 16 * 1024 : 1024);
  }

  push(value: Physical | null, definition: number): void {
    if (this.rows === this.defs.length) this.defs = grown(this.defs, this.rows);
    this.defs[this.rows++] = definition;
    if (value === null) {
      this.nulls++;
      return;
    }
    const k = this.count++;
    if (this.dictionary) {
      let index = this.dictionary.get(value);
      let size: number;
      if (index === undefined) {
        index = this.dictionaryValues.length;
        size = this.dictionaryPlain.add(value, this.kind);
        this.dictionary.set(value, index);
        this.dictionaryValues.push(value);
        this.dictionarySizes.push(size);
        this.dictionaryBytes += size;
      } else size = this.dictionarySizes[index] as number;
      if (k === this.indexes.length) this.indexes = grown(this.indexes, k);
      this.indexes[k] = index;
      this.encoded++;
      this.encodedPlain += size;
      return;
    }
    let size = 0;
    if (this.kind === "boolean") {
      if (k === this.booleans.length) this.booleans = grown(this.booleans, k);
      this.booleans[k] = value ? 1 : 0;
    } else size = this.plain.add(value, this.kind);
    if (typeof value !== "string") {
      if (this.min === undefined || less(value, this.min)) this.min = value;
      if (this.max === undefined || less(this.max, value)) this.max = value;
      return;
    }
    // ASCII strings (as many bytes as characters) compare the same in UTF-16 and UTF-8 order:
    // natively, then. Any other takes the code point comparison.
    const ascii = size - 4 === value.length;
    const min = this.min as string | undefined;
    if (min === undefined || (ascii && this.minAscii ? value < min : compareStrings(value, min) < 0)) {
      this.min = value;
      this.minAscii = ascii;
    }
    const max = this.max as string | undefined;
    if (max === undefined || (ascii && this.maxAscii ? max < value : compareStrings(max, value) < 0)) {
      this.max = value;
      this.maxAscii = ascii;
    }
  }

  /**
   * Encodes and compresses the values pushed since the last page as one data page — the same
   * bytes hyparquet-writer's writeDataPageV2 writes for them, made from the typed arrays.
   */
  page(scratch: PageScratch): void {
    const rows = this.rows;
    if (rows === 0) return;
    /** The page being filled is dictionary-encoded while the chunk's dictionary is open. */
    const dictionary = this.dictionary !== undefined;
    const encoding: Encoding = dictionary ? "RLE_DICTIONARY" : this.kind === "boolean" ? "RLE" : "PLAIN";
    const { levels, values, out } = scratch;
    levels.index = levels.offset = 0;
    values.index = values.offset = 0;
    out.index = out.offset = 0;
    const definitionBytes = writeRleBitPackedHybrid(levels, this.defs.subarray(0, rows), Math.ceil(Math.log2(this.maxDefinition + 1)));
    if (dictionary) {
      const indexes = this.indexes.subarray(0, this.count);
      let largest = 0;
      for (let k = 0; k < indexes.length; k++) if ((indexes[k] as number) > largest) largest = indexes[k] as number;
      const bitWidth = Math.ceil(Math.log2(largest + 1));
      values.appendUint8(bitWidth);
      writeRleBitPackedHybrid(values, indexes, bitWidth);
    } else if (this.kind === "boolean") {
      const rle = scratch.rle;
      rle.index = rle.offset = 0;
      writeRleBitPackedHybrid(rle, this.booleans.subarray(0, this.count), 1);
      values.appendUint32(rle.offset);
      values.appendBytes(new Uint8Array(rle.buffer, 0, rle.index));
    }
    // A plain page's values are its bytes already.
    const pageBytes = dictionary || this.kind === "boolean" ? new Uint8Array(values.buffer, 0, values.index) : this.plain.bytes();
    const compressed = this.compress(pageBytes);
    writePageHeader(out, {
      type: "DATA_PAGE_V2",
      uncompressed_page_size: levels.offset + pageBytes.length,
      compressed_page_size: levels.offset + compressed.length,
      data_page_header_v2: {
        num_values: rows,
        num_nulls: rows - this.count,
        num_rows: rows,
        encoding,
        definition_levels_byte_length: definitionBytes,
        repetition_levels_byte_length: 0,
        is_compressed: !!this.encoder.codec,
      },
    } as never);
    const headerSize = out.offset;
    out.appendBytes(new Uint8Array(levels.buffer, 0, levels.index));
    out.appendBytes(compressed);
    this.uncompressed += headerSize + levels.offset + pageBytes.length;
    this.pages.push(new Uint8Array(out.buffer, 0, out.index).slice());
    this.pageBytes += out.index;
    if (dictionary) {
      this.dictionaryPages++;
      // From the next page on, plain once the dictionary is too large or does not pay for itself.
      const indexBytes = (this.encoded * Math.ceil(Math.log2(this.dictionaryValues.length + 1))) / 8;
      const losing = this.encoded >= DICTIONARY_TRIAL_VALUES && 2 * (this.dictionaryBytes + indexBytes) > this.encodedPlain;
      if (losing || this.dictionaryBytes > DICTIONARY_BYTES) this.dictionary = undefined;
    } else this.plainPages++;
    this.numValues += rows;
    this.rows = 0;
    this.count = 0;
    this.plain.length = 0;
  }

  /** A page's bytes compressed by the column's codec (as they are, uncompressed). */
  private compress(bytes: Uint8Array): Uint8Array {
    return (this.encoder.compressors as Record<string, ((input: Uint8Array) => Uint8Array) | undefined>)[this.encoder.codec]?.(bytes) ?? bytes;
  }

  /**
   * Writes the dictionary page (its values laid out as they were added) into `writer`: the bytes
   * hyparquet-writer's writeDictionaryPage writes for them. Returns its uncompressed size.
   */
  private writeDictionary(writer: ByteWriter): number {
    const bytes = this.dictionaryPlain.bytes();
    const compressed = this.compress(bytes);
    const start = writer.offset;
    writePageHeader(writer, {
      type: "DICTIONARY_PAGE",
      uncompressed_page_size: bytes.byteLength,
      compressed_page_size: compressed.byteLength,
      dictionary_page_header: { num_values: this.dictionaryValues.length, encoding: "PLAIN" },
    } as never);
    const header = writer.offset - start;
    writer.appendBytes(compressed);
    return header + bytes.byteLength;
  }

  /** What the dictionary page will store: measured (by encoding it) or estimated from its plain bytes. */
  dictionaryStored(scratch: ByteWriter, exact: boolean): number {
    if (this.dictionaryValues.length === 0) return 0;
    if (!exact) return this.dictionaryBytes + 32;
    if (this.measured?.values !== this.dictionaryValues.length) {
      scratch.index = 0;
      scratch.offset = 0;
      this.writeDictionary(scratch);
      this.measured = { values: this.dictionaryValues.length, bytes: scratch.index };
    }
    return this.measured.bytes;
  }

  /**
   * Writes the chunk — its dictionary page into `writer`, then its data pages handed to `append`
   * as they are, not copied — and returns its metadata; empties it.
   */
  write(writer: ByteWriter, append: (page: Uint8Array) => void): ColumnChunk {
    const start = writer.offset;
    let uncompressed = this.uncompressed;
    let dictionaryOffset: bigint | undefined;
    const encodings: Encoding[] = [];
    const encodingStats: { page_type: "DICTIONARY_PAGE" | "DATA_PAGE_V2"; encoding: Encoding; count: number }[] = [];
    if (this.dictionaryPages > 0) {
      dictionaryOffset = BigInt(writer.offset);
      uncompressed += this.writeDictionary(writer);
      encodings.push("PLAIN", "RLE_DICTIONARY");
      encodingStats.push({ page_type: "DICTIONARY_PAGE", encoding: "PLAIN", count: 1 }, { page_type: "DATA_PAGE_V2", encoding: "RLE_DICTIONARY", count: this.dictionaryPages });
    }
    const plain: Encoding = this.kind === "boolean" ? "RLE" : "PLAIN";
    if (this.plainPages > 0) {
      if (!encodings.includes(plain)) encodings.push(plain);
      encodingStats.push({ page_type: "DATA_PAGE_V2", encoding: plain, count: this.plainPages });
    }
    const dataOffset = BigInt(writer.offset);
    for (const page of this.pages) append(page);
    const type = this.encoder.element.type as NonNullable<SchemaElement["type"]>;
    // Every value the dictionary encoded is one of its values: they join the plain ones' statistics here.
    let min = this.min;
    let max = this.max;
    for (const value of this.dictionaryValues) {
      if (min === undefined || less(value, min)) min = value;
      if (max === undefined || less(max, value)) max = value;
    }
    if (this.kind === "int" || this.kind === "timestamp") {
      if (typeof min === "number") min = BigInt(min);
      if (typeof max === "number") max = BigInt(max);
    }
    // Parquet's signed zero rule: a zero minimum is -0, a zero maximum +0.
    if (min === 0) min = -0;
    if (max === 0) max = 0;
    const chunk: ColumnChunk = {
      file_offset: BigInt(start),
      meta_data: {
        type,
        encodings,
        path_in_schema: this.path,
        codec: this.encoder.codec,
        num_values: BigInt(this.numValues),
        total_compressed_size: BigInt(writer.offset - start),
        total_uncompressed_size: BigInt(uncompressed),
        data_page_offset: dataOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics: { min_value: min, max_value: max, null_count: BigInt(this.nulls), ...(this.kind === "double" ? { nan_count: 0n } : {}) } as never,
        encoding_stats: encodingStats,
      },
    };
    this.pages = [];
    this.pageBytes = 0;
    this.uncompressed = 0;
    this.numValues = 0;
    this.dictionaryPages = 0;
    this.plainPages = 0;
    this.dictionary = this.kind !== "boolean" ? new Map() : undefined;
    this.dictionaryValues = [];
    this.dictionarySizes = [];
    this.dictionaryPlain.length = 0;
    this.dictionaryBytes = 0;
    this.encoded = 0;
    this.encodedPlain = 0;
    this.measured = undefined;
    this.min = undefined;
    this.max = undefined;
    this.nulls = 0;
    return chunk;
  }
}

/** Buffers a page is encoded in, reused page after page: its levels, its values, booleans' runs, the page itself. */
interface PageScratch {
  readonly levels: ByteWriter;
  readonly values: ByteWriter;
  readonly rle: ByteWriter;
  readonly out: ByteWriter;
}

/**
 * A Parquet file written page by page: records go straight into their leaf columns, `page()`
 * encodes and compresses what was added since the last call (one data page per column), and
 * `rowGroup()` writes every column's chunk and returns the bytes the group added. So the values
 * held at any time are one page's, and a row group costs its compressed pages, however many
 * records it holds. Dictionaries (per chunk, until DICTIONARY_BYTES) and column statistics are
 * kept. Pages and metadata are encoded by hyparquet-writer.
 */
export class ParquetPages {
  private readonly writer = new ByteWriter();
  private readonly scratch = new ByteWriter();
  private readonly pageScratch: PageScratch = { levels: new ByteWriter(), values: new ByteWriter(), rle: new ByteWriter(), out: new ByteWriter() };
  private readonly leaves: LeafChunk[] = [];
  private readonly schema: SchemaElement[];
  private readonly known: ReadonlySet<string>;
  /** Leaves under each struct column, for a missing struct's nulls. */
  private readonly leafCount = new Map<Column, number>();
  /**
   * Each written row group's footer entry, already serialized: a 1 GiB file has ~190 groups of
   * ~30 column chunks, and as objects their metadata (then its thrift tree, built whole by
   * writeMetadata at the end) held megabytes until the file ended.
   */
  private readonly rowGroupsThrift = new ByteWriter();
  private rowGroupCount = 0;
  /**
   * Where the row group list lies in this schema's footer: the bytes before its header (for a file
   * of no rows) and after the list (created_by, column orders, the stop byte).
   */
  private splice: { head: number; tail: number } | undefined;
  private groupRows = 0;
  private fileRows = 0;
  /** A row's leaf values and definition levels, checked whole before any is pushed. */
  private readonly rowValues: (Physical | null)[] = [];
  private readonly rowDefinitions: number[] = [];
  /** Record and column of a value the columns cannot hold, for the error. */
  private failed: { column: string; value: unknown } | undefined;

  constructor(
    private readonly columns: readonly Column[],
    codec: ParquetCodec,
    private readonly dataset: string,
  ) {
    this.schema = [{ name: "root", num_children: columns.length }];
    const declare = (cols: readonly Column[], parents: SchemaElement[], names: string[]): number => {
      let count = 0;
      for (const c of cols) {
        if (typeof c.type === "object") {
          const group: SchemaElement = { name: c.name, repetition_type: "OPTIONAL", num_children: c.type.struct.length };
          this.schema.push(group);
          const n = declare(c.type.struct, [...parents, group], [...names, c.name]);
          this.leafCount.set(c, n);
          count += n;
        } else {
          const element = leafElement(c.name, c.type);
          this.schema.push(element);
          const path = [...names, c.name];
          const encoder: ColumnEncoder = {
            columnName: path.join("."),
            element,
            schemaPath: [this.schema[0] as SchemaElement, ...parents, element],
            codec: CODEC[codec],
            compressors: COMPRESSORS,
            stats: true,
            pageSize: 0,
            columnIndex: false,
            offsetIndex: false,
          };
          this.leaves.push(new LeafChunk(encoder, c.type, path, path.length));
          count++;
        }
      }
      return count;
    };
    declare(columns, [], []);
    this.known = columnNames(columns);
    this.writer.appendUint32(0x31524150); // PAR1
  }

  /** Records added to the row group being built. */
  get rows(): number {
    return this.groupRows;
  }

  /**
   * Bytes the file holds so far: everything written, the row group's encoded pages, and its
   * dictionary pages — estimated from their plain bytes, or (`exact`) by encoding them. Records
   * added since the last `page()` are not counted.
   */
  bytes(exact: boolean): number {
    let held = 0;
    for (const leaf of this.leaves) held += leaf.pageBytes + leaf.dictionaryStored(this.scratch, exact);
    return this.writer.offset + held;
  }

  /**
   * Adds one record (a JSON line): its values go straight into the leaf columns, so neither the
   * line nor the parsed record outlives this call.
   */
  add(line: string, index: number): void {
    const record = JSON.parse(line) as Record<string, unknown>;
    for (const k in record) if (!this.known.has(k)) throw new Error(`${this.dataset}: a record has field "${k}", which its columns do not declare`);
    if (this.fill(this.columns, record, 0, 0, "") < 0) {
      const { column, value } = this.failed as { column: string; value: unknown };
      const type = this.leaves.find((l) => l.encoder.columnName === column)?.kind;
      throw new Error(`${this.dataset} record ${index}, ${column}: ${JSON.stringify(value)} does not fit its ${type} column`);
    }
    this.groupRows++;
  }

  /**
   * Adds one record from its values as the dataset made them (`RecordWriter.row`: by top-level
   * column, structs as objects), with no text parsed; false, with nothing added, when a value is
   * not one the row can stand for (see rowPhysical): the caller then adds the record's text.
   */
  addRow(row: readonly unknown[], _index: number): boolean {
    const columns = this.columns;
    let leaf = 0;
    for (let i = 0; i < columns.length; i++) {
      leaf = this.rowLeaves(columns[i] as Column, row[i], 0, leaf);
      if (leaf < 0) return false;
    }
    const leaves = this.leaves;
    for (let i = 0; i < leaves.length; i++) (leaves[i] as LeafChunk).push(this.rowValues[i] as Physical | null, this.rowDefinitions[i] as number);
    this.groupRows++;
    return true;
  }

  /** Sets the row's values of the leaves under column `c` from `value`; returns the next leaf's index, or -1. */
  private rowLeaves(c: Column, value: unknown, definition: number, leaf: number): number {
    if (typeof c.type === "object") {
      if (value === null || value === undefined) {
        const count = this.leafCount.get(c) as number;
        for (let i = 0; i < count; i++, leaf++) {
          this.rowValues[leaf] = null;
          this.rowDefinitions[leaf] = definition;
        }
        return leaf;
      }
      // A plain object only: anything else (a Date, an array) has other JSON text.
      if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return -1;
      for (const child of c.type.struct) {
        leaf = this.rowLeaves(child, own(value as Record<string, unknown>, child.name), definition + 1, leaf);
        if (leaf < 0) return -1;
      }
      return leaf;
    }
    const stored = rowPhysical(value, c.type);
    if (stored === undefined) return -1;
    this.rowValues[leaf] = stored;
    this.rowDefinitions[leaf] = stored === null ? definition : definition + 1;
    return leaf + 1;
  }

  /** Fills the leaves under `columns` from `object`; returns the next leaf's index, or -1 for a value that does not fit. */
  private fill(columns: readonly Column[], object: Record<string, unknown> | undefined, definition: number, leaf: number, prefix: string): number {
    for (const c of columns) {
      const value = object === undefined ? undefined : own(object, c.name);
      if (typeof c.type === "object") {
        const count = this.leafCount.get(c) as number;
        if (value === null || value === undefined) {
          for (let i = 0; i < count; i++) (this.leaves[leaf + i] as LeafChunk).push(null, definition);
          leaf += count;
        } else if (typeof value !== "object" || Array.isArray(value)) {
          this.failed = { column: `${prefix}${c.name}`, value };
          return -1;
        } else {
          leaf = this.fill(c.type.struct, value as Record<string, unknown>, definition + 1, leaf, `${prefix}${c.name}.`);
          if (leaf < 0) return -1;
        }
        continue;
      }
      const chunk = this.leaves[leaf++] as LeafChunk;
      if (value === null || value === undefined) {
        chunk.push(null, definition);
        continue;
      }
      const stored = physical(value, c.type);
      if (stored === undefined) {
        this.failed = { column: `${prefix}${c.name}`, value };
        return -1;
      }
      chunk.push(stored, definition + 1);
    }
    return leaf;
  }

  /** Encodes the records added since the last call as one data page per column. */
  page(): void {
    for (const leaf of this.leaves) leaf.page(this.pageScratch);
  }

  /**
   * Writes the row group being built; returns the bytes it added (the magic number first), in
   * pieces: each data page as it was encoded, the rest as written between them.
   */
  rowGroup(): Buffer[] {
    this.page();
    const start = this.writer.offset;
    const pieces: Buffer[] = [];
    const append = (page: Uint8Array): void => {
      if (this.writer.index > 0) pieces.push(this.take());
      pieces.push(Buffer.from(page.buffer, page.byteOffset, page.byteLength));
      this.writer.offset += page.byteLength;
    };
    const columns = this.leaves.map((leaf) => leaf.write(this.writer, append));
    let uncompressed = 0n;
    for (const c of columns) uncompressed += c.meta_data?.total_uncompressed_size ?? 0n;
    this.rowGroupsThrift.appendBytes(this.rowGroupThrift({ columns, total_byte_size: uncompressed, num_rows: BigInt(this.groupRows), total_compressed_size: BigInt(this.writer.offset - start) }));
    this.rowGroupCount++;
    this.fileRows += this.groupRows;
    this.groupRows = 0;
    if (this.writer.index > 0) pieces.push(this.take());
    return pieces;
  }

  /** The footer (schema, row groups, statistics) and the closing magic number. */
  finish(): Buffer {
    if (this.groupRows > 0) throw new Error("parquet: finish() with records not written as a row group");
    // The footer hyparquet-writer writes for no row groups, with the serialized groups spliced in
    // where its empty list is: the bytes writeMetadata would write for them all.
    const empty = this.footerThrift(BigInt(this.fileRows), []);
    const writer = this.writer;
    const start = writer.offset;
    if (this.splice === undefined) {
      writer.appendBytes(empty);
    } else {
      const at = empty.length - this.splice.tail - 1;
      if (empty[at - 1] !== 0x19 || empty[at] !== 0x00) throw new Error("parquet: the footer's row group list is not where it was expected");
      writer.appendBytes(empty.subarray(0, at));
      // Compact protocol list header: the size and the element type (12, struct); past 14, the size as a varint.
      if (this.rowGroupCount > 14) {
        writer.appendUint8(0xfc);
        writer.appendVarInt(this.rowGroupCount);
      } else {
        writer.appendUint8((this.rowGroupCount << 4) | 0x0c);
      }
      writer.appendBytes(new Uint8Array(this.rowGroupsThrift.buffer, 0, this.rowGroupsThrift.index));
      writer.appendBytes(empty.subarray(at + 1));
    }
    writer.appendUint32(writer.offset - start);
    this.writer.appendUint32(0x31524150);
    return this.take();
  }

  /**
   * One row group's entry in the footer, as writeMetadata serializes it. The footers of a file
   * with no row groups and of one with only this group agree up to the list's header byte (an
   * empty list's differs from a one-struct list's) and after the list: the group lies between.
   */
  private rowGroupThrift(group: RowGroup): Uint8Array {
    const one = this.footerThrift(0n, [group]);
    if (this.splice === undefined) {
      const empty = this.footerThrift(0n, []);
      let head = 0;
      while (empty[head] === one[head]) head++;
      this.splice = { head, tail: empty.length - head - 1 };
    }
    return one.subarray(this.splice.head + 1, one.length - this.splice.tail);
  }

  /** Footer thrift (without its length and magic number) of a file with these row groups. */
  private footerThrift(rows: bigint, groups: RowGroup[]): Buffer {
    const writer = this.scratch;
    writer.index = 0;
    writer.offset = 0;
    writeMetadata(writer, { version: 2, created_by: "synthgen", schema: this.schema, num_rows: rows, row_groups: groups, metadata_length: 0 });
    return Buffer.from(new Uint8Array(writer.buffer, 0, writer.index - 4));
  }

  private take(): Buffer {
    const bytes = Buffer.from(new Uint8Array(this.writer.buffer, 0, this.writer.index));
    this.writer.index = 0;
    return bytes;
  }
}
