import { gzipSync } from "node:zlib";
import { ByteWriter, type SchemaElement } from "hyparquet-writer";
import { writeDataPageV2 } from "hyparquet-writer/src/datapage.js";
import { writeDictionaryPage } from "hyparquet-writer/src/dictionary.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import { snappyCompress } from "hyparquet-writer/src/snappy.js";
import { zstdCompressSync, type ParquetCodec } from ".";
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
type Physical = string | bigint | number | boolean;
type Encoding = "PLAIN" | "RLE" | "RLE_DICTIONARY";
type ColumnChunk = Parameters<typeof writeMetadata>[1]["row_groups"][number]["columns"][number];
type RowGroup = Parameters<typeof writeMetadata>[1]["row_groups"][number];
type ColumnEncoder = Parameters<typeof writeDataPageV2>[0]["column"];

const NO_LEVELS: number[] = [];
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;
/** Milliseconds whose microseconds are still exact as a double (to the year 2255). */
const EXACT_MS = Number.MAX_SAFE_INTEGER / 1000;

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

/** A JSON value as its leaf column stores it, or undefined when the column cannot hold it. */
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
      return Number.isSafeInteger(value) ? BigInt(value as number) : undefined;
    case "timestamp": {
      const m = typeof value === "string" ? ISO.exec(value) : null;
      if (!m) return undefined;
      const ms = Date.parse(`${m[1]}Z`);
      const micros = Number((m[2] ?? "").padEnd(6, "0"));
      return Math.abs(ms) < EXACT_MS ? BigInt(ms * 1000 + micros) : BigInt(ms) * 1000n + BigInt(micros);
    }
  }
}

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

/** Bytes a value takes stored plain. */
function plainBytes(value: Physical, kind: LeafKind): number {
  if (typeof value === "string") return 4 + Buffer.byteLength(value);
  return kind === "boolean" ? 1 : 8;
}

/** A typed array twice as long, its first `used` elements kept. */
function grown<T extends Uint8Array | Int32Array | Float64Array | BigInt64Array>(array: T, used: number): T {
  const larger = new (array.constructor as new (n: number) => T)(array.length * 2);
  larger.set(array.subarray(0, used) as never);
  return larger;
}

/**
 * One leaf column of the row group being built: the page being filled, the chunk's pages already
 * encoded and compressed, its dictionary and its statistics. The page's values are held in typed
 * arrays (dictionary indexes, UTF-8 bytes, 64-bit integers, doubles, booleans), not as one
 * JavaScript value per cell: JavaScript values exist only while a page is encoded.
 */
class LeafChunk {
  private defs = new Uint8Array(1024);
  /** Rows in the page being filled, and the values among them (the non-null ones). */
  private rows = 0;
  private count = 0;
  private indexes = new Int32Array(1024);
  private bytes = Buffer.allocUnsafe(0);
  private byteLength = 0;
  private ends = new Int32Array(0);
  private int64s = new BigInt64Array(0);
  private doubles = new Float64Array(0);
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
  /** Bytes the dictionary's values take plain; its stored page size, once measured for this many values. */
  dictionaryBytes = 0;
  private measured: { values: number; bytes: number } | undefined;
  /** Non-null values the dictionary encoded, and their plain bytes. */
  private encoded = 0;
  private encodedPlain = 0;
  private min: Physical | undefined;
  private max: Physical | undefined;
  private nulls = 0;

  constructor(
    readonly encoder: ColumnEncoder,
    readonly kind: LeafKind,
    private readonly path: string[],
    private readonly maxDefinition: number,
  ) {
    if (kind !== "boolean") this.dictionary = new Map();
    if (kind === "string" || kind === "json") {
      this.bytes = Buffer.allocUnsafe(64 * 1024);
      this.ends = new Int32Array(1024);
    } else if (kind === "int" || kind === "timestamp") this.int64s = new BigInt64Array(1024);
    else if (kind === "double") this.doubles = new Float64Array(1024);
    else this.booleans = new Uint8Array(1024);
  }

  push(value: Physical | null, definition: number): void {
    if (this.rows === this.defs.length) this.defs = grown(this.defs, this.rows);
    this.defs[this.rows++] = definition;
    if (value === null) {
      this.nulls++;
      return;
    }
    if (this.min === undefined || less(value, this.min)) this.min = value;
    if (this.max === undefined || less(this.max, value)) this.max = value;
    const k = this.count++;
    if (this.dictionary) {
      const size = plainBytes(value, this.kind);
      let index = this.dictionary.get(value);
      if (index === undefined) {
        index = this.dictionaryValues.length;
        this.dictionary.set(value, index);
        this.dictionaryValues.push(value);
        this.dictionaryBytes += size;
      }
      if (k === this.indexes.length) this.indexes = grown(this.indexes, k);
      this.indexes[k] = index;
      this.encoded++;
      this.encodedPlain += size;
      return;
    }
    switch (this.kind) {
      case "string":
      case "json": {
        const text = value as string;
        if (this.byteLength + text.length * 3 > this.bytes.length) {
          const larger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.byteLength + text.length * 3));
          this.bytes.copy(larger, 0, 0, this.byteLength);
          this.bytes = larger;
        }
        this.byteLength += this.bytes.write(text, this.byteLength, "utf8");
        if (k === this.ends.length) this.ends = grown(this.ends, k);
        this.ends[k] = this.byteLength;
        return;
      }
      case "int":
      case "timestamp":
        if (k === this.int64s.length) this.int64s = grown(this.int64s, k);
        this.int64s[k] = value as bigint;
        return;
      case "double":
        if (k === this.doubles.length) this.doubles = grown(this.doubles, k);
        this.doubles[k] = value as number;
        return;
      case "boolean":
        if (k === this.booleans.length) this.booleans = grown(this.booleans, k);
        this.booleans[k] = value ? 1 : 0;
    }
  }

  /** The page's k-th value as the page encoder takes it. */
  private value(k: number, dictionary: boolean): Physical | Uint8Array {
    if (dictionary) return this.indexes[k] as number;
    switch (this.kind) {
      case "string":
      case "json":
        return this.bytes.subarray(k === 0 ? 0 : (this.ends[k - 1] as number), this.ends[k]);
      case "int":
      case "timestamp":
        return this.int64s[k] as bigint;
      case "double":
        return this.doubles[k] as number;
      case "boolean":
        return this.booleans[k] === 1;
    }
  }

  /** Encodes and compresses the values pushed since the last page as one data page. */
  page(scratch: ByteWriter): void {
    const rows = this.rows;
    if (rows === 0) return;
    /** The page being filled is dictionary-encoded while the chunk's dictionary is open. */
    const dictionary = this.dictionary !== undefined;
    const values: (Physical | Uint8Array | null)[] = new Array(rows);
    for (let i = 0, k = 0; i < rows; i++) values[i] = this.defs[i] === this.maxDefinition ? this.value(k++, dictionary) : null;
    const encoding: Encoding = dictionary ? "RLE_DICTIONARY" : this.kind === "boolean" ? "RLE" : "PLAIN";
    scratch.index = 0;
    scratch.offset = 0;
    this.uncompressed += writeDataPageV2({
      writer: scratch,
      column: this.encoder,
      encoding,
      pageData: { values: values as never, definitionLevels: this.defs.subarray(0, rows) as never, repetitionLevels: NO_LEVELS, maxDefinitionLevel: this.maxDefinition },
    });
    this.pages.push(new Uint8Array(scratch.buffer, 0, scratch.index).slice());
    this.pageBytes += scratch.index;
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
    this.byteLength = 0;
  }

  /** What the dictionary page will store: measured (by encoding it) or estimated from its plain bytes. */
  dictionaryStored(scratch: ByteWriter, exact: boolean): number {
    if (this.dictionaryValues.length === 0) return 0;
    if (!exact) return this.dictionaryBytes + 32;
    if (this.measured?.values !== this.dictionaryValues.length) {
      scratch.index = 0;
      scratch.offset = 0;
      writeDictionaryPage(scratch, this.encoder, this.dictionaryValues as never);
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
      uncompressed += writeDictionaryPage(writer, this.encoder, this.dictionaryValues as never);
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
    // Parquet's signed zero rule: a zero minimum is -0, a zero maximum +0.
    const min = this.min === 0 ? -0 : this.min;
    const max = this.max === 0 ? 0 : this.max;
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

  /** Fills the leaves under `columns` from `object`; returns the next leaf's index, or -1 for a value that does not fit. */
  private fill(columns: readonly Column[], object: Record<string, unknown> | undefined, definition: number, leaf: number, prefix: string): number {
    for (const c of columns) {
      const value = object === undefined ? undefined : object[c.name];
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
    for (const leaf of this.leaves) leaf.page(this.scratch);
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
