import type { Leaf } from "../records/columns";
import { canonical, fieldHash, valueAt } from "./canonical";
import type { Comparison, FileExpectation } from "./expected";
import { keyOf } from "./expected";
import type { OutputFormat, OutputRow } from "./output";

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
}

/** A row that could not be read, with the hash of its text when it has one (a malformed record passed through). */
export interface UnreadableRow {
  readonly line: number;
  readonly error: string;
  readonly textHash?: number;
}

/** One output object's rows, digested, and the columns its rows had (in the order first seen). */
export interface DigestedObject {
  readonly key: string;
  readonly format: OutputFormat | "table";
  readonly rows: AsyncIterable<DigestedRow | UnreadableRow>;
  /** Filled while `rows` is read; complete once it ends. */
  readonly columns: string[];
}

/** Where each output column of a comparison is read: the generated field's name, or what `--map` renamed it to. */
export function outputNames(comparison: Comparison, map: Readonly<Record<string, string>> | undefined): string[] {
  const renamed = new Map(Object.entries(map ?? {}).map(([out, gen]) => [gen, out]));
  return comparison.leaves.map((l) => renamed.get(l.name) ?? l.name);
}

/** An output row's canonical value of each compared field (for a report's examples). */
export function canonicalValues(values: Record<string, unknown>, textual: boolean, comparison: Comparison, outName: readonly string[]): (string | null)[] {
  return comparison.leaves.map((l, f) => canonical(l.type, textual ? values[outName[f] as string] : valueAt(values, (outName[f] as string).split(".")), textual));
}

/**
 * Turns output rows into digests: each compared field's value read (by its output name), hashed,
 * and the key made. One digester per reader; its hash array is reused row after row.
 */
export class RowDigester {
  private readonly outPath: string[][];
  private readonly raw: unknown[];
  private readonly hashes: Uint32Array;

  constructor(
    private readonly comparison: Comparison,
    private readonly outName: readonly string[],
    /** A stored digest needs each row's own copy of its hashes. */
    private readonly copy = false,
  ) {
    this.outPath = outName.map((n) => n.split("."));
    this.raw = new Array(comparison.leaves.length);
    this.hashes = new Uint32Array(comparison.leaves.length);
  }

  /** Digests of one object's rows, its columns collected into `columns`. */
  async *rows(rows: AsyncIterable<OutputRow>, columns: string[]): AsyncGenerator<DigestedRow | UnreadableRow> {
    const seen = new Set<string>();
    for await (const row of rows) {
      if ("error" in row) {
        yield { line: row.line, error: row.error, ...(row.text !== undefined ? { textHash: fieldHash("string", row.text) } : {}) };
        continue;
      }
      for (const c of Object.keys(row.values)) {
        if (!seen.has(c)) {
          seen.add(c);
          columns.push(c);
        }
      }
      yield this.digest(row.values, row.textual, row.line);
    }
  }

  digest(values: Record<string, unknown>, textual: boolean, line: number): DigestedRow {
    const { leaves, key } = this.comparison;
    const raw = this.raw;
    for (let f = 0; f < leaves.length; f++) raw[f] = textual ? values[this.outName[f] as string] : valueAt(values, this.outPath[f] as string[]);
    const hashes = this.copy ? new Uint32Array(leaves.length) : this.hashes;
    for (let f = 0; f < leaves.length; f++) hashes[f] = fieldHash((leaves[f] as Leaf).type, raw[f], textual);
    return { line, key: key.length ? keyOf(raw, leaves, key, textual) : undefined, hashes, values, textual };
  }
}

const MAGIC = "SGVD1";
const START = 0;
const END = 1;
const ROW = 2;
const UNREADABLE = 3;

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
  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.room(n);
    this.buf.write(s, this.length, "utf8");
    this.length += n;
  }
  words(a: Uint32Array): void {
    this.room(a.length * 4);
    for (let i = 0; i < a.length; i++) {
      this.buf.writeUInt32LE(a[i] as number, this.length);
      this.length += 4;
    }
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
  text(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString("utf8", this.at, this.at + n);
    this.at += n;
    return s;
  }
  words(n: number): Uint32Array {
    this.need(n * 4);
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.buf.readUInt32LE(this.at + i * 4);
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
    out.text(JSON.stringify({ key: object.key, format: object.format }));
    let rows = 0;
    for await (const row of object.rows) {
      rows++;
      if ("error" in row) {
        out.u8(UNREADABLE);
        out.u32(row.line);
        out.text(row.error);
        out.u8(row.textHash === undefined ? 0 : 1);
        out.u32(row.textHash ?? 0);
        continue;
      }
      out.u8(ROW);
      out.u32(row.line);
      // A key's length is one more than its bytes, so 0 stands for no key.
      if (row.key === undefined) out.u32(0);
      else {
        const n = Buffer.byteLength(row.key);
        out.u32(n + 1);
        out.bytes(Buffer.from(row.key, "utf8"));
      }
      out.words(row.hashes);
    }
    out.u8(END);
    out.text(JSON.stringify({ columns: object.columns, rows }));
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
    const head = JSON.parse(r.text()) as { key: string; format: OutputFormat | "table" };
    const rows: (DigestedRow | UnreadableRow)[] = [];
    for (;;) {
      const tag = r.u8();
      if (tag === END) break;
      const line = r.u32();
      if (tag === UNREADABLE) {
        const error = r.text();
        const has = r.u8();
        const textHash = r.u32();
        rows.push({ line, error, ...(has ? { textHash } : {}) });
      } else if (tag === ROW) {
        const n = r.u32();
        const key = n === 0 ? undefined : r.bytes(n - 1);
        rows.push({ line, key: key === undefined ? undefined : Buffer.from(key).toString("utf8"), hashes: r.words(width) });
      } else throw new Error(`a verify digest is corrupt at byte ${r.at - 1}`);
    }
    const tail = JSON.parse(r.text()) as { columns: string[]; rows: number };
    if (tail.rows !== rows.length) throw new Error(`a verify digest of ${head.key} holds ${rows.length} rows, its trailer says ${tail.rows}`);
    objects.push({ key: head.key, format: head.format, columns: tail.columns, rows: asAsync(rows) });
  }
  return objects;
}

async function* asAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Generated files' expectations, stored by a slice that recomputed them, read back by the merge. */
export function encodeExpectations(parts: readonly FileExpectation[], width: number): Buffer {
  const out = new Bytes();
  out.text("SGVE1");
  out.u32(width);
  out.u32(parts.length);
  for (const p of parts) {
    out.text(JSON.stringify({ count: p.count, keys: p.keys.map((k) => k ?? null), dirty: p.dirty.map((d) => ({ at: d.at, key: d.key ?? null })), malformed: p.malformed }));
    out.words(p.hashes);
    out.bytes(p.kinds);
    for (const d of p.dirty) out.words(d.hashes);
  }
  return out.done();
}

export function decodeExpectations(buf: Buffer, width: number): FileExpectation[] {
  const r = new Reader(buf);
  if (r.text() !== "SGVE1") throw new Error("not a verify digest of generated records");
  const stored = r.u32();
  if (stored !== width) throw new Error(`a verify digest of ${stored} fields where the comparison has ${width}: not this request's`);
  const n = r.u32();
  const parts: FileExpectation[] = [];
  for (let i = 0; i < n; i++) {
    const head = JSON.parse(r.text()) as { count: number; keys: (string | null)[]; dirty: { at: number; key: string | null }[]; malformed: [number, number][] };
    const hashes = r.words(head.count * width);
    const kinds = r.bytes(head.count);
    const dirty = head.dirty.map((d) => ({ at: d.at, key: d.key ?? undefined, hashes: r.words(width) }));
    parts.push({ count: head.count, hashes, kinds, keys: head.keys.map((k) => k ?? undefined), dirty, malformed: head.malformed });
  }
  if (r.more) throw new Error("a verify digest of generated records has bytes after its last file");
  return parts;
}
