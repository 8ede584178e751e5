import { existsSync } from "node:fs";
import { join } from "node:path";
import { ValidationError } from "../core/errors";
import { datasetOf } from "../datasets";
import { merchantPoints } from "../datasets/merchant-metrics";
import { tapRecords } from "../formats/render";
import type { Column, Leaf } from "../records/columns";
import { leavesOf } from "../records/columns";
import { DIRTY_KINDS, type DirtyKind } from "../records/dirty";
import type { PlannedFile } from "../sinks/sink";
import type { EmitRequest } from "../events/request";
import { EventStream } from "../events/streams";
import type { RecordTap } from "../records/record-source";
import { canonical, fieldHash, valueAt } from "./canonical";
import { hashContent, hashKey, hashLineText, type KeyHash, KeyTable, NO_KEY } from "./key-table";

/**
 * One event stream of an emit run, as verify recomputes it: the records stream `emit.stream` of
 * `emit.request` sends, in order (dirt's second copies aside, which are the same record).
 */
export interface EmittedStream {
  /** How the report names it: `stream 3`. */
  readonly key: string;
  readonly datePrefix: string;
  readonly dataset: string;
  readonly schema?: unknown;
  readonly emit: { readonly request: EmitRequest; readonly stream: number };
}

/**
 * An index run's documents (`synthgen index`, `index-documents`), as verify recomputes them: every
 * merchant's point for each hour, the last hour the one holding `endMs`.
 */
export interface IndexedDocuments {
  /** How the report names it: `index pp-merchantai`. */
  readonly key: string;
  readonly datePrefix: string;
  readonly dataset: "merchant-metrics";
  readonly schema?: undefined;
  readonly indexed: { readonly seed: number; readonly endMs: number; readonly hours: number };
}

/** What verify recomputes a run from, part by part: a generated file, an emitted event stream, or an index run's documents. */
export type ExpectedSource = PlannedFile | EmittedStream | IndexedDocuments;

/** The event streams of an emit run, every event of each (a fanned-out run's whole streams, not one cell's). */
export function emittedStreams(request: EmitRequest): EmittedStream[] {
  return Array.from({ length: request.streamCount }, (_, stream) => ({
    key: `stream ${stream}`,
    datePrefix: request.datePrefix,
    dataset: request.dataset,
    ...(request.schema !== undefined ? { schema: request.schema } : {}),
    emit: { request, stream },
  }));
}

/** Makes a part's records again, each through `tap`, as generate wrote them or emit sent them. */
function replay(part: ExpectedSource, tap: RecordTap, stop: () => boolean = () => false): void {
  if ("indexed" in part) {
    const { seed, endMs, hours } = part.indexed;
    for (const point of merchantPoints(seed, endMs, hours)) {
      tap(point.json, undefined, undefined);
      if (stop()) return;
    }
    return;
  }
  if ("emit" in part) {
    const { request, stream } = part.emit;
    const { cell: _, ...whole } = request;
    const events = new EventStream(whole, stream, 0, undefined, tap);
    while (!stop() && events.next() !== undefined) {
      // Each record is tapped as it is made; a dirty duplicate's second send is the same record.
    }
    return;
  }
  tapRecords(part, tap, stop);
}

/** A growable Uint32Array: 4 bytes per value however many records a run has. */
export class U32s {
  data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/** The columns verify compares, and how a record's key is made from them. */
export interface Comparison {
  /** Every leaf of the dataset (struct fields flattened, as CSV names them) except those the pipeline drops. */
  readonly leaves: readonly Leaf[];
  /** Indices into `leaves` of the key; empty: records are matched by their whole content. */
  readonly key: readonly number[];
  /** Timestamps are compared cut down to this many microseconds (1, 1000: milliseconds, 1e6: seconds). */
  readonly unit: number;
}

/** One generated file, as verify remembers it: where its records start in the run's numbering. */
export interface ExpectedFile {
  readonly key: string;
  readonly day: string;
  readonly first: number;
  readonly count: number;
}

/**
 * What a run wrote, recomputed from its plan — never stored, never read back: each record's key,
 * 32 bits per compared field of its clean and (when dirt changed it) dirty versions, and its dirt.
 */
export interface ExpectedRun {
  readonly comparison: Comparison;
  readonly files: readonly ExpectedFile[];
  readonly records: number;
  /** Record index by key hash (a dirty version's key too, when the dirt changed it); by content hash without key fields. */
  readonly keys: KeyTable;
  /** `records × leaves` field hashes of the clean records. */
  readonly hashes: Uint32Array;
  /** 0 for a clean record, else 1 + the index of its kind in DIRTY_KINDS. */
  readonly kinds: Uint8Array;
  /** Field hashes of the dirty version of records whose dirt changed a value. */
  readonly dirtyHashes: Map<number, Uint32Array>;
  /** Malformed records by the hash of the cut line written for them (NDJSON), so a pipeline that passed one through is seen to keep it. */
  readonly malformedLines: Map<number, number>;
  /** Records that share a key with an earlier one (the key does not identify a record). */
  readonly sharedKeys: number;
  /** The first record found sharing one (its index in the run). */
  readonly firstShared?: number;
  /**
   * Record index by the hash of its clean line, in memory worker threads share, when every file's
   * expectation hashed its lines and no two lines are the same (see `verbatimLines`).
   */
  readonly lines?: KeyTable;
  /** Per file, 1 while its records' field hashes are not made yet (they are made by `hashFileOf` when a row needs them). */
  readonly unhashed?: Uint8Array;
}

/**
 * The fields that identify a dataset's records unless `--key` names others: a built-in's id (a
 * merchant's metrics by merchant and hour), a schema's first `sequence` field; none for the
 * tutoring events, which carry no id (matched by their whole content).
 */
export function defaultKey(file: Pick<ExpectedSource, "dataset" | "schema">): string[] | undefined {
  if (file.schema === undefined) return { "web-events": ["id"], "merchant-metrics": ["merchant_id", "timestamp"] }[file.dataset];
  const schema = file.schema as { scenario?: { datasets?: Record<string, { fields?: unknown }> }; dataset?: string; fields?: unknown };
  const fields = (schema.scenario && schema.dataset ? schema.scenario.datasets?.[schema.dataset]?.fields : schema.fields) as Record<string, unknown> | undefined;
  const sequence = Object.entries(fields ?? {}).find(([, spec]) => typeof spec === "object" && spec !== null && "sequence" in spec);
  return sequence ? [sequence[0]] : undefined;
}

/**
 * A record's (or an output row's) key from its fields' values as read: the key fields' canonical
 * values, or with no key fields all of them; undefined when a key field is null or missing.
 */
export function keyOf(raw: readonly unknown[], leaves: readonly Leaf[], key: readonly number[], textual = false, unit = 1): string | undefined {
  if (key.length === 0) return raw.map((v, i) => canonical((leaves[i] as Leaf).type, v, textual, unit) ?? "\u0000").join("\u0001");
  let out = "";
  for (const k of key) {
    const v = canonical((leaves[k] as Leaf).type, raw[k], textual, unit);
    if (v === null) return undefined;
    out += `${v}\u0001`;
  }
  return out;
}

/** A record's values at each compared leaf, as its JSON holds them. */
const rawOf = (json: string, leaves: readonly Leaf[]): unknown[] => {
  const record = JSON.parse(json) as unknown;
  return leaves.map((l) => valueAt(record, l.path));
};

/**
 * Reads each compared leaf's value from the row a dataset handed over instead of parsing the
 * record's text: the same values JSON.parse of the text would give, or false where that is not
 * certain (a -0, NaN or infinite number, a value that is not a string, boolean or number, an
 * object that is not plain), and the text is parsed instead. A json leaf's value is taken
 * through its own JSON text, so it is the parsed value by construction.
 */
export function rowReader(columns: readonly Column[], leaves: readonly Leaf[]): (row: readonly unknown[], out: unknown[]) => boolean {
  const names = columns.map((c) => c.name);
  // Per leaf: its top-level column, the path below it (none for most), whether it is json.
  const column = Int32Array.from(leaves, (l) => names.indexOf(l.path[0] as string));
  const below = leaves.map((l) => (l.path.length > 1 ? l.path.slice(1) : undefined));
  const json = leaves.map((l) => l.type === "json");
  return (row, out) => {
    for (let f = 0; f < column.length; f++) {
      let v = row[column[f] as number];
      const path = below[f];
      if (path !== undefined) {
        for (let d = 0; d < path.length && v !== undefined && v !== null; d++) {
          if (typeof v !== "object" || Object.getPrototypeOf(v) !== Object.prototype) return false;
          const name = path[d] as string;
          v = Object.hasOwn(v, name) ? (v as Record<string, unknown>)[name] : undefined;
        }
      }
      const plain = v === undefined || v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v) && !(v === 0 && 1 / v < 0));
      if (!plain) {
        if (!json[f]) return false;
        v = JSON.parse(JSON.stringify(v) ?? "null") as unknown;
      }
      out[f] = v;
    }
    return true;
  };
}

/** A generated record's canonical values, field by field. */
function canonicalOf(json: string, leaves: readonly Leaf[], unit: number): (string | null)[] {
  const record = JSON.parse(json) as unknown;
  return leaves.map((l) => canonical(l.type, valueAt(record, l.path), false, unit));
}

/** The compared leaves of a plan's dataset, less the dropped ones, with the key's indices. */
export function comparisonOf(file: Pick<ExpectedSource, "dataset" | "schema">, keyNames: readonly string[] | undefined, dropped: readonly string[], unit = 1): Comparison {
  const all = leavesOf(datasetOf(file).columns);
  const names = new Set(all.map((l) => l.name));
  for (const d of dropped) {
    if (!names.has(d)) throw new ValidationError("drop", `--drop ${d}: the dataset has no field "${d}"; its fields: ${[...names].join(", ")}`);
  }
  const leaves = all.filter((l) => !dropped.includes(l.name));
  const key = (keyNames ?? []).map((k) => {
    const i = leaves.findIndex((l) => l.name === k);
    if (i < 0) throw new ValidationError("key", `--key ${k}: the dataset has no field "${k}"${dropped.includes(k) ? " (it is dropped)" : ""}; its fields: ${leaves.map((l) => l.name).join(", ")}`);
    return i;
  });
  return { leaves, key, unit };
}

/** What one generated file holds, as verify keeps it: made on any thread, merged in file order. */
export interface FileExpectation {
  readonly count: number;
  /** `count × leaves` field hashes of the clean records. */
  readonly hashes: Uint32Array;
  readonly kinds: Uint8Array;
  /** Each record's key hash as `h1, h2` pairs (see key-table.ts); `0, 0` when a key field is null or there are no key fields. */
  readonly keys: Uint32Array;
  /** Records whose dirt changed them: their field hashes, and the hash of the key they were written with (none: found by content). */
  readonly dirty: { readonly at: number; readonly hashes: Uint32Array; readonly key: KeyHash | undefined }[];
  /** Malformed records by the hash of their cut line. */
  readonly malformed: [number, number][];
  /** Each record's line as written, hashed (`hashLineText`) as `h1, h2` pairs, when asked for (see `verbatimLines`). */
  readonly lines?: Uint32Array;
  /** Its clean records' field hashes were left to be made when a row needs them (`hashes` is empty; see `hashFileOf`). */
  readonly unhashed?: true;
}

/** What `expectFile` keeps besides keys and dirt. */
export interface ExpectHow {
  /** Each record's values from the row its dataset hands over where it does (default); false parses every record's text. */
  readonly rows?: boolean;
  /** Each record's line hashed as written (see `verbatimLines`); default false. */
  readonly lines?: boolean;
  /** Each clean record's field hashes (default); false leaves them to `hashFileOf`. */
  readonly fields?: boolean;
}

/**
 * Renders one planned file as `generate` wrote it (in its format, so it holds the same records),
 * or one stream's events as `emit` sent them, and keeps what verify needs of every record.
 * Rendering is what generate does less the writing. Each record's values come from the row its
 * dataset made it from where it hands one over (`rows`; false parses every record's text, as a
 * check of the rows does).
 */
export function expectFile(file: ExpectedSource, comparison: Comparison, how: ExpectHow = {}): FileExpectation {
  const { rows = true, lines = false, fields = true } = how;
  const { leaves, key, unit } = comparison;
  const hashes = new U32s();
  const kinds: number[] = [];
  const keys = new U32s();
  const lineHashes = lines ? new U32s() : undefined;
  const keyHash: KeyHash = { h1: 0, h2: 0 };
  const dirty: { at: number; hashes: Uint32Array; key: KeyHash | undefined }[] = [];
  const malformed: [number, number][] = [];
  let at = 0;
  // Emitted events are NDJSON lines (a malformed one is sent cut, as a file's would be written).
  const ndjson = "emit" in file || "indexed" in file || file.format === undefined;
  // Without field hashes only the key's values are read.
  const read = fields ? leaves : key.map((i) => leaves[i] as Leaf);
  const readKey = fields ? key : key.map((_, j) => j);
  const fromRow = rowReader(datasetOf(file).columns, read);
  const values: unknown[] = new Array(read.length);
  replay(file, (clean, kind, dirtyJson, row) => {
    const raw = rows && row !== undefined && fromRow(row, values) ? values : rawOf(clean, read);
    if (fields) for (let f = 0; f < leaves.length; f++) hashes.push(fieldHash((leaves[f] as Leaf).type, raw[f], false, unit));
    kinds.push(kind === undefined ? 0 : 1 + DIRTY_KINDS.indexOf(kind));
    if (lineHashes) {
      // The clean record's line (what the file holds unless dirt changed it).
      hashLineText(clean, keyHash);
      lineHashes.push(keyHash.h1);
      lineHashes.push(keyHash.h2);
    }
    // Without key fields a record is found by its content, hashed when merged.
    const k = key.length ? keyOf(raw, read, readKey, false, unit) : undefined;
    if (k === undefined) {
      keys.push(NO_KEY);
      keys.push(NO_KEY);
    } else {
      hashKey(k, keyHash);
      keys.push(keyHash.h1);
      keys.push(keyHash.h2);
    }
    if (kind === "malformed") {
      if (dirtyJson !== undefined && ndjson) malformed.push([fieldHash("string", dirtyJson), at]);
    } else if (dirtyJson !== undefined) {
      const d = rawOf(dirtyJson, leaves);
      // A dirty version without its key is found by its whole content (see merge).
      const dk = key.length ? keyOf(d, leaves, key, false, unit) : undefined;
      dirty.push({ at, hashes: Uint32Array.from(leaves, (l, f) => fieldHash(l.type, d[f], false, unit)), key: dk === undefined ? undefined : hashKey(dk, { h1: 0, h2: 0 }) });
    }
    at++;
  });
  return {
    count: at,
    hashes: hashes.data.slice(0, hashes.length),
    kinds: Uint8Array.from(kinds),
    keys: keys.data.slice(0, keys.length),
    dirty,
    malformed,
    ...(lineHashes ? { lines: lineHashes.data.slice(0, lineHashes.length) } : {}),
    ...(fields ? {} : { unhashed: true as const }),
  };
}

/**
 * Adds a file's line hashes to a table of lines, its records numbered from `first`; false (and
 * not all added) when a line is there already: two lines alike, which the table cannot tell apart.
 */
export function addLines(table: KeyTable, part: FileExpectation, first = 0): boolean {
  const { lines } = part;
  if (lines === undefined) throw new Error("verify: a file's expectation without its lines hashed");
  const k: KeyHash = { h1: 0, h2: 0 };
  for (let i = 0; i < part.count; i++) {
    k.h1 = lines[2 * i] as number;
    k.h2 = lines[2 * i + 1] as number;
    if (table.add(k, first + i) >= 0) return false;
  }
  return true;
}

/** The task a verify worker runs: `expectFile` on another thread. */
export interface ExpectTask {
  readonly file: ExpectedSource;
  readonly comparison: Comparison;
  readonly how?: ExpectHow;
}

/** workers/verify-file.js, beside the file workers (built by `npm run build`). */
export const VERIFY_WORKER_FILE = join(__dirname, "..", "..", "workers", "verify-file.js");

/**
 * The run's records, recomputed file by file on `threads` threads (each file independent, as in
 * generate) and merged in file order, so the result is the same whatever the thread count.
 */
export async function expectedRun(files: readonly ExpectedSource[], comparison: Comparison, threads = 1): Promise<ExpectedRun> {
  return mergeExpectations(files, await expectedParts(files, comparison, threads), comparison);
}

/**
 * Files' expectations read again each time they are merged, one slice's at a time (the verify
 * state machine's merge, from its stored digests): only the merged run is ever held whole.
 */
export interface StoredExpectations {
  /** Their records, and the records whose dirt changed them, over all files. */
  readonly records: number;
  readonly dirty: number;
  parts(): AsyncIterable<FileExpectation> | Iterable<FileExpectation>;
}

/** Expectations to merge: in memory, or stored. */
export type ExpectationSource = readonly FileExpectation[] | StoredExpectations;

/** Each file's expectation, recomputed on `threads` threads, in file order. */
export async function expectedParts(files: readonly ExpectedSource[], comparison: Comparison, threads = 1, how: ExpectHow = {}): Promise<FileExpectation[]> {
  if (threads <= 1 || files.length <= 1 || !existsSync(VERIFY_WORKER_FILE)) return files.map((file) => expectFile(file, comparison, how));
  const Piscina = require("piscina") as typeof import("piscina").default;
  const pool = new Piscina<ExpectTask, FileExpectation>({ filename: VERIFY_WORKER_FILE, minThreads: threads, maxThreads: threads });
  try {
    return await Promise.all(files.map((file) => pool.run({ file, comparison, how })));
  } finally {
    await pool.destroy();
  }
}

/**
 * The run as verify keeps it, from its files' expectations in file order (made here, on workers,
 * or by the slices of the verify state machine). With no key fields, or for a dirty version that
 * lost its key, a record is remembered by its content: its field hashes.
 */
export async function mergeExpectations(files: readonly ExpectedSource[], source: ExpectationSource, comparison: Comparison): Promise<ExpectedRun> {
  const width = comparison.leaves.length;
  const inMemory = source as readonly FileExpectation[];
  const stored: StoredExpectations = Array.isArray(source)
    ? { records: inMemory.reduce((n, p) => n + p.count, 0), dirty: inMemory.reduce((n, p) => n + p.dirty.length, 0), parts: () => inMemory }
    : (source as StoredExpectations);
  const { records, dirty: dirtyRecords } = stored;
  const hashes = new Uint32Array(records * width);
  const kinds = new Uint8Array(records);
  const keys = new KeyTable(records + dirtyRecords);
  const dirtyHashes = new Map<number, Uint32Array>();
  const malformedLines = new Map<number, number>();
  // Lines are hashed on request, by every file's expectation or none; two alike and the table is no use.
  let lines: KeyTable | undefined;
  let lineless = false;
  let unhashed: Uint8Array | undefined;
  let sharedKeys = 0;
  let firstShared: number | undefined;
  const out: ExpectedFile[] = [];
  const k: KeyHash = { h1: 0, h2: 0 };
  const remember = (key: KeyHash, i: number) => {
    const seen = keys.add(key, i);
    if (seen >= 0 && seen !== i) {
      sharedKeys++;
      firstShared ??= i;
    }
  };
  let first = 0;
  let n = 0;
  const byContent = comparison.key.length === 0;
  for await (const part of stored.parts()) {
    if (first + part.count > records) throw new Error(`verify: the expectations hold more than the ${records} records they said`);
    if (part.unhashed) {
      if (byContent) throw new Error("verify: records matched by their content need their field hashes made");
      (unhashed ??= new Uint8Array(files.length))[n] = 1;
    } else hashes.set(part.hashes, first * width);
    kinds.set(part.kinds, first);
    let d = 0;
    for (let i = 0; i < part.count; i++) {
      if (byContent) remember(hashContent(part.hashes, i * width, width, k), first + i);
      else {
        k.h1 = part.keys[2 * i] as number;
        k.h2 = part.keys[2 * i + 1] as number;
        if (k.h1 !== NO_KEY || k.h2 !== NO_KEY) remember(k, first + i);
      }
      const dirty = part.dirty[d];
      if (dirty && dirty.at === i) {
        dirtyHashes.set(first + i, dirty.hashes);
        // A dirty version without its key is found by its whole content.
        remember(byContent || dirty.key === undefined ? hashContent(dirty.hashes, 0, width, k) : dirty.key, first + i);
        d++;
      }
    }
    for (const [hash, at] of part.malformed) malformedLines.set(hash, first + at);
    if (part.lines && !lineless) {
      lines ??= new KeyTable(records, true);
      lineless = !addLines(lines, part, first);
    } else lineless = true;
    const file = files[n++] as ExpectedSource;
    out.push({ key: file.key, day: file.datePrefix, first, count: part.count });
    first += part.count;
  }
  if (first !== records || n !== files.length) throw new Error(`verify: expectations of ${n} files and ${first} records, where the run has ${files.length} files and they said ${records} records`);
  return {
    comparison,
    files: out,
    records,
    keys,
    hashes,
    kinds,
    dirtyHashes,
    malformedLines,
    sharedKeys,
    ...(firstShared !== undefined ? { firstShared } : {}),
    ...(lines && !lineless ? { lines } : {}),
    ...(unhashed ? { unhashed } : {}),
  };
}

/**
 * Makes the field hashes of the file holding record `index` where its expectation left them out
 * (a run whose lines the output kept as written needs none, unless a row was not: see
 * `keptAsWritten`), by recomputing the file; nothing when they are made already.
 */
export function hashFileOf(expected: ExpectedRun, files: readonly ExpectedSource[], index: number): void {
  const { unhashed } = expected;
  if (unhashed === undefined) return;
  let lo = 0;
  let hi = expected.files.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((expected.files[mid] as ExpectedFile).first <= index) lo = mid;
    else hi = mid - 1;
  }
  if (unhashed[lo] === 0) return;
  const file = expected.files[lo] as ExpectedFile;
  const part = expectFile(files[lo] as ExpectedSource, expected.comparison);
  if (part.count !== file.count) throw new Error(`verify: ${file.key} recomputed with ${part.count} records, ${file.count} the first time`);
  expected.hashes.set(part.hashes, file.first * expected.comparison.leaves.length);
  unhashed[lo] = 0;
}

/** Record `index`'s canonical values again, by rendering its file or stream (for a report's examples only). */
export function recordValues(file: ExpectedSource, first: number, index: number, leaves: readonly Leaf[], unit = 1): (string | null)[] | undefined {
  let i = first;
  let found: (string | null)[] | undefined;
  replay(
    file,
    (clean) => {
      if (i++ === index) found = canonicalOf(clean, leaves, unit);
    },
    () => found !== undefined,
  );
  return found;
}

export type { DirtyKind };
