import type { Leaf } from "../records/columns";
import { canonical, fieldHash, valueAt } from "./canonical";
import { type EventChecksOptions, type EventFields, eventFieldsOf } from "./events";
import type { Comparison, FileExpectation } from "./expected";
import { KeyTable, type SharedKeyTable } from "./key-table";
import type { FileSink } from "../sinks/sink";
import { hivePartitionsOf, type OutputFormat, type OutputRow, type Piece, rowsOf } from "./output";

/**
 * One output row as verify compares it: the key it is matched by (undefined when a key field is
 * null, or the comparison has no key) and the hash of each compared field. Local reads keep the
 * row's values too (for the report's examples and an emit run's checks); a stored digest does not.
 */
export interface DigestedRow {
  readonly line: number;
  readonly key: string | undefined;
  readonly hashes: Uint32Array;
  readonly values?: Record<string, unknown>;
  readonly textual?: boolean;
  /** Bit j set: the row holds a value (not null, not empty) in the j-th column `--require` names. */
  readonly present: number;
  /** An emit run's event fields of the row (when and sent, its idempotency key), read when its checks name them. */
  readonly events?: EventFields;
}

/** A row that could not be read, with the hash of its text when it has one (a malformed record passed through). */
export interface UnreadableRow {
  readonly line: number;
  readonly error: string;
  readonly textHash?: number;
}

/**
 * Consecutive rows, each byte for byte a generated record's clean line (see `VerbatimLines`): the
 * records' indices, nothing else needed; `line` is the first's. Their columns are not collected:
 * they are the dataset's own, which only matter to a check that renames, drops, requires or reads
 * event columns, and those never look lines up (see `verbatimLines`).
 */
export interface VerbatimRow {
  readonly line: number;
  readonly verbatim: readonly number[];
}

/** One output object's rows (or a piece's), digested, and the columns its rows had (in the order first seen). */
export interface DigestedObject {
  readonly key: string;
  readonly format: OutputFormat | "table";
  readonly rows: AsyncIterable<DigestedRow | UnreadableRow | VerbatimRow>;
  /** Filled while `rows` is read; complete once it ends. */
  readonly columns: string[];
  /** A piece of the object: its rows are numbered from the piece's first line, and the pieces come in order. */
  readonly piece?: Piece;
  /** A piece's lines (rows of Parquet), known once `rows` ends: the next piece's numbering starts after them. */
  readonly counted?: { lines: number };
}

/** Where each output column of a comparison is read: the generated field's name, or what `--map` renamed it to. */
export function outputNames(comparison: Comparison, map: Readonly<Record<string, string>> | undefined): string[] {
  const renamed = new Map(Object.entries(map ?? {}).map(([out, gen]) => [gen, out]));
  return comparison.leaves.map((l) => renamed.get(l.name) ?? l.name);
}

/**
 * Each compared field's value in a row, by its output name; a field the row lacks is taken from
 * the object's Hive partition of that name, if any (as text, read by the field's type). `text`
 * receives whether each value is text to be read by its field's type (a CSV cell, a partition).
 */
function rowValues(values: Record<string, unknown>, textual: boolean, outName: readonly string[], outPath: readonly string[][], partition: PartitionValues, raw: unknown[], text: boolean[]): void {
  for (let f = 0; f < outName.length; f++) {
    const path = outPath[f] as string[];
    // A CSV cell by its (dotted) name, a top-level field directly; own fields only (a missing `constructor` is missing).
    if (textual || path.length === 1) {
      const name = outName[f] as string;
      raw[f] = Object.hasOwn(values, name) ? values[name] : undefined;
    } else raw[f] = valueAt(values, path);
    text[f] = textual;
    if (raw[f] === undefined && partition !== undefined && partition[f] !== undefined) {
      raw[f] = partition[f];
      text[f] = true;
    }
  }
}

/** Per compared field, its value from the object's Hive partitions (undefined: none of that name). */
type PartitionValues = (string | null | undefined)[] | undefined;

function partitionValues(objectKey: string, outName: readonly string[]): PartitionValues {
  const hive = hivePartitionsOf(objectKey);
  if (hive === undefined) return undefined;
  const out = outName.map((n) => (Object.hasOwn(hive, n) ? hive[n] : undefined));
  return out.some((v) => v !== undefined) ? out : undefined;
}

/** An output row's canonical value of each compared field (for a report's examples). */
export function canonicalValues(objectKey: string, values: Record<string, unknown>, textual: boolean, comparison: Comparison, outName: readonly string[]): (string | null)[] {
  const raw: unknown[] = [];
  const text: boolean[] = [];
  rowValues(
    values,
    textual,
    outName,
    outName.map((n) => n.split(".")),
    partitionValues(objectKey, outName),
    raw,
    text,
  );
  return comparison.leaves.map((l, f) => canonical(l.type, raw[f], text[f], comparison.unit));
}

/**
 * Turns output rows into digests: each compared field's value read (by its output name), hashed,
 * and the key made. One digester per reader; its hash array is reused row after row, so a row's
 * digest is used (joined, or encoded) before the next is made.
 */
export class RowDigester {
  private readonly outPath: string[][];
  private readonly raw: unknown[];
  private readonly text: boolean[];
  private readonly hashes: Uint32Array;

  private readonly requiredPath: string[][];

  constructor(
    private readonly comparison: Comparison,
    private readonly outName: readonly string[],
    /** Columns every row must hold a value in (`--require`), at most 32. */
    private readonly required: readonly string[] = [],
    /** An emit run's checks: each row's event fields are read with its digest. */
    private readonly events?: EventChecksOptions,
  ) {
    this.requiredPath = required.map((n) => n.split("."));
    this.outPath = outName.map((n) => n.split("."));
    this.raw = new Array(comparison.leaves.length);
    this.text = new Array(comparison.leaves.length).fill(false);
    this.hashes = new Uint32Array(comparison.leaves.length);
  }

  /**
   * Digests of one object's rows, its columns collected into `columns` (a Hive partition in its
   * key counts as a column where it stands for a compared field the rows lack).
   */
  async *rows(objectKey: string, rows: AsyncIterable<OutputRow>, columns: string[]): AsyncGenerator<DigestedRow | UnreadableRow | VerbatimRow> {
    const seen = new Set<string>();
    const partition = partitionValues(objectKey, this.outName);
    partition?.forEach((v, f) => {
      if (v === undefined) return;
      seen.add(this.outName[f] as string);
      columns.push(this.outName[f] as string);
    });
    // The previous row's names, in order: a row with the same ones (most rows) adds no column.
    let last: string[] = [];
    for await (const row of rows) {
      if ("verbatim" in row) {
        yield row;
        continue;
      }
      if ("error" in row) {
        yield { line: row.line, error: row.error, ...(row.text !== undefined ? { textHash: fieldHash("string", row.text) } : {}) };
        continue;
      }
      let i = 0;
      let same = true;
      for (const c in row.values) {
        if (same && last[i] === c) {
          i++;
          continue;
        }
        same = false;
        break;
      }
      if (!same || i !== last.length) {
        last = Object.keys(row.values);
        for (const c of last) {
          if (!seen.has(c)) {
            seen.add(c);
            columns.push(c);
          }
        }
      }
      yield this.digest(row.values, row.textual, row.line, partition);
    }
  }

  digest(values: Record<string, unknown>, textual: boolean, line: number, partition?: PartitionValues): DigestedRow {
    const { leaves, key, unit } = this.comparison;
    const { raw, text, hashes } = this;
    rowValues(values, textual, this.outName, this.outPath, partition, raw, text);
    for (let f = 0; f < leaves.length; f++) hashes[f] = fieldHash((leaves[f] as Leaf).type, raw[f], text[f], unit);
    let k: string | undefined;
    if (key.length) {
      k = "";
      for (const i of key) {
        const v = canonical((leaves[i] as Leaf).type, raw[i], text[i], unit);
        if (v === null) {
          k = undefined;
          break;
        }
        k += `${v}\u0001`;
      }
    }
    let present = 0;
    for (let j = 0; j < this.required.length; j++) {
      const name = this.required[j] as string;
      const v = textual ? (Object.hasOwn(values, name) ? values[name] : undefined) : valueAt(values, this.requiredPath[j] as string[]);
      if (v !== undefined && v !== null && v !== "") present |= 1 << j;
    }
    // One shape for every row (no spread): the event fields are undefined unless an emit run's checks read them.
    return { line, key: k, hashes, values, textual, present, events: this.events ? eventFieldsOf(this.events, values, textual) : undefined };
  }
}

/** SGVD4: a row may be a verbatim one (SGVD3 had none; SGVD2 no event fields either). */
const MAGIC = "SGVD4";
/** Expectations keep 64-bit key hashes from SGVE2 on (SGVE1 kept the keys' text). */
const EXPECTED_MAGIC = "SGVE2";
const START = 0;
const END = 1;
const ROW = 2;
const UNREADABLE = 3;
/** A row with its event fields after its digest. */
const EVENT_ROW = 4;
/** Verbatim rows: how many, and each record's index. */
const VERBATIM_ROW = 5;

/** A growable byte buffer for digests. */
class Bytes {
  buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.utf8(s, n);
  }
  /** Text or none: its byte length plus one, 0 for none. */
  optionalText(s: string | undefined): void {
    if (s === undefined) {
      this.u32(0);
      return;
    }
    const n = Buffer.byteLength(s);
    this.u32(n + 1);
    this.utf8(s, n);
  }
  private utf8(s: string, n: number): void {
    this.room(n);
    this.buf.write(s, this.length, "utf8");
    this.length += n;
  }
  /** The platform's byte order: digests are read back by the same code on the same kind of machine (little-endian: x86-64, Graviton). */
  words(a: Uint32Array): void {
    this.room(a.byteLength);
    this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.length);
    this.length += a.byteLength;
  }
  bytes(a: Uint8Array): void {
    this.room(a.length);
    this.buf.set(a, this.length);
    this.length += a.length;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Reads what `Bytes` wrote, failing loudly on a digest that ends early. */
class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  get more(): boolean {
    return this.at < this.buf.length;
  }
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error(`a verify digest ends early at byte ${this.at} (needs ${n} more of ${this.buf.length})`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.at++] as number;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
  text(): string {
    return this.utf8(this.u32());
  }
  optionalText(): string | undefined {
    const n = this.u32();
    return n === 0 ? undefined : this.utf8(n - 1);
  }
  private utf8(n: number): string {
    this.need(n);
    const s = this.buf.toString("utf8", this.at, this.at + n);
    this.at += n;
    return s;
  }
  words(n: number): Uint32Array {
    this.need(n * 4);
    const out = new Uint32Array(n);
    new Uint8Array(out.buffer).set(this.buf.subarray(this.at, this.at + n * 4));
    this.at += n * 4;
    return out;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = Uint8Array.from(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }
}

/** What one slice of output objects holds, digested: stored by a slice, read back in order by the merge. */
export async function encodeObjects(objects: AsyncIterable<DigestedObject> | Iterable<DigestedObject>, width: number): Promise<Buffer> {
  const out = new Bytes();
  out.text(MAGIC);
  out.u32(width);
  for await (const object of objects) {
    out.u8(START);
    out.text(JSON.stringify({ key: object.key, format: object.format, ...(object.piece ? { piece: object.piece } : {}) }));
    let rows = 0;
    for await (const row of object.rows) {
      rows++;
      if ("verbatim" in row) {
        out.u8(VERBATIM_ROW);
        out.u32(row.line);
        out.u32(row.verbatim.length);
        for (const i of row.verbatim) out.u32(i);
        continue;
      }
      if ("error" in row) {
        out.u8(UNREADABLE);
        out.u32(row.line);
        out.text(row.error);
        out.u8(row.textHash === undefined ? 0 : 1);
        out.u32(row.textHash ?? 0);
        continue;
      }
      out.u8(row.events ? EVENT_ROW : ROW);
      out.u32(row.line);
      out.optionalText(row.key);
      out.words(row.hashes);
      out.u32(row.present);
      if (row.events) {
        // NaN for an instant the row does not hold.
        out.f64(row.events.arrival ?? Number.NaN);
        out.f64(row.events.sent ?? Number.NaN);
        out.optionalText(row.events.key);
      }
    }
    out.u8(END);
    out.text(JSON.stringify({ columns: object.columns, rows, ...(object.piece ? { lines: object.counted?.lines ?? 0 } : {}) }));
  }
  return out.done();
}

/** The objects a stored slice digest holds, in the order they were read. */
export function decodeObjects(buf: Buffer, width: number): DigestedObject[] {
  const r = new Reader(buf);
  if (r.text() !== MAGIC) throw new Error("not a verify digest of output rows");
  const stored = r.u32();
  if (stored !== width) throw new Error(`a verify digest of ${stored} fields where the comparison has ${width}: not this request's`);
  const objects: DigestedObject[] = [];
  while (r.more) {
    if (r.u8() !== START) throw new Error(`a verify digest is corrupt at byte ${r.at - 1}`);
    const head = JSON.parse(r.text()) as { key: string; format: OutputFormat | "table"; piece?: Piece };
    const rows: (DigestedRow | UnreadableRow | VerbatimRow)[] = [];
    for (;;) {
      const tag = r.u8();
      if (tag === END) break;
      const line = r.u32();
      if (tag === VERBATIM_ROW) rows.push({ line, verbatim: Array.from(r.words(r.u32())) });
      else if (tag === UNREADABLE) {
        const error = r.text();
        const has = r.u8();
        const textHash = r.u32();
        rows.push({ line, error, ...(has ? { textHash } : {}) });
      } else if (tag === ROW || tag === EVENT_ROW) {
        const key = r.optionalText();
        const hashes = r.words(width);
        const present = r.u32();
        if (tag === ROW) rows.push({ line, key, hashes, present });
        else {
          const instant = (v: number) => (Number.isNaN(v) ? undefined : v);
          const arrival = instant(r.f64());
          const sent = instant(r.f64());
          rows.push({ line, key, hashes, present, events: { arrival, sent, key: r.optionalText() } });
        }
      } else throw new Error(`a verify digest is corrupt at byte ${r.at - 1}`);
    }
    const tail = JSON.parse(r.text()) as { columns: string[]; rows: number; lines?: number };
    if (tail.rows !== rows.length) throw new Error(`a verify digest of ${head.key} holds ${rows.length} rows, its trailer says ${tail.rows}`);
    objects.push({ key: head.key, format: head.format, columns: tail.columns, rows: asAsync(rows), ...(head.piece ? { piece: head.piece, counted: { lines: tail.lines ?? 0 } } : {}) });
  }
  return objects;
}

async function* asAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Generated files' expectations, stored by a slice that recomputed them, read back by the merge. */
export function encodeExpectations(parts: readonly FileExpectation[], width: number): Buffer {
  const out = new Bytes();
  out.text(EXPECTED_MAGIC);
  out.u32(width);
  out.u32(parts.length);
  for (const p of parts) {
    out.text(JSON.stringify({ count: p.count, dirty: p.dirty.map((d) => ({ at: d.at, key: d.key ? [d.key.h1, d.key.h2] : null })), malformed: p.malformed }));
    out.words(p.hashes);
    out.bytes(p.kinds);
    out.words(p.keys);
    for (const d of p.dirty) out.words(d.hashes);
  }
  return out.done();
}

export function decodeExpectations(buf: Buffer, width: number): FileExpectation[] {
  const r = new Reader(buf);
  if (r.text() !== EXPECTED_MAGIC) throw new Error("not a verify digest of generated records (or one of an older synthgen)");
  const stored = r.u32();
  if (stored !== width) throw new Error(`a verify digest of ${stored} fields where the comparison has ${width}: not this request's`);
  const n = r.u32();
  const parts: FileExpectation[] = [];
  for (let i = 0; i < n; i++) {
    const head = JSON.parse(r.text()) as { count: number; dirty: { at: number; key: [number, number] | null }[]; malformed: [number, number][] };
    const hashes = r.words(head.count * width);
    const kinds = r.bytes(head.count);
    const keys = r.words(head.count * 2);
    const dirty = head.dirty.map((d) => ({ at: d.at, key: d.key ? { h1: d.key[0], h2: d.key[1] } : undefined, hashes: r.words(width) }));
    parts.push({ count: head.count, hashes, kinds, keys, dirty, malformed: head.malformed });
  }
  if (r.more) throw new Error("a verify digest of generated records has bytes after its last file");
  return parts;
}

/** One output object's digest, made on a worker thread (see `verifyOutput`) or by a state machine slice. */
export interface DigestTask {
  readonly digest: { readonly key: string; readonly format: OutputFormat; readonly piece?: Piece };
  readonly comparison: Comparison;
  readonly outName: readonly string[];
  readonly required: readonly string[];
  readonly events?: EventChecksOptions;
  /** The run's clean lines by hash, shared by the thread that merged it: NDJSON lines are looked up before they are parsed (see `verbatimLines`). */
  readonly lines?: SharedKeyTable;
}

/** Digests output objects in order and encodes them as one slice. */
export function digestObjects(
  sink: FileSink,
  objects: readonly { key: string; format: OutputFormat; piece?: Piece }[],
  comparison: Comparison,
  outName: readonly string[],
  required: readonly string[] = [],
  events?: EventChecksOptions,
  lines?: SharedKeyTable,
): Promise<Buffer> {
  const digester = new RowDigester(comparison, outName, required, events);
  const verbatim = lines ? new KeyTable(lines) : undefined;
  const digested = function* (): Generator<DigestedObject> {
    for (const o of objects) {
      const columns: string[] = [];
      const counted = { lines: 0 };
      yield { key: o.key, format: o.format, columns, rows: digester.rows(o.key, rowsOf(sink, o.key, o.format, o.piece, counted, verbatim), columns), ...(o.piece ? { piece: o.piece, counted } : {}) };
    }
  };
  return encodeObjects(digested(), comparison.leaves.length);
}

/** The canonical values of a few output rows (a report's examples), read again from their objects: object key → line → values. */
export async function readFoundValues(
  sink: FileSink,
  formatOf: (key: string) => OutputFormat | undefined,
  comparison: Comparison,
  outName: readonly string[],
  wanted: ReadonlyMap<string, ReadonlySet<number>>,
) {
  const out = new Map<string, Map<number, (string | null)[]>>();
  for (const [key, lines] of wanted) {
    const format = formatOf(key);
    if (format === undefined) continue;
    const values = new Map<number, (string | null)[]>();
    let left = lines.size;
    for await (const row of rowsOf(sink, key, format)) {
      if ("error" in row || "verbatim" in row || !lines.has(row.line)) continue;
      values.set(row.line, canonicalValues(key, row.values, row.textual, comparison, outName));
      if (--left === 0) break;
    }
    out.set(key, values);
  }
  return out;
}
