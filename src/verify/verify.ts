import { ValidationError } from "../core/errors";
import { DIRTY_KINDS, type DirtyKind } from "../records/dirty";
import { existsSync } from "node:fs";
import { sinkFor } from "../sinks";
import type { SinkSpec } from "../sinks/sink";
import { shown } from "./canonical";
import { hashContent, hashKey, type KeyHash, KeyTable, type SharedKeyTable } from "./key-table";
import { canonicalValues, type DigestedObject, type DigestTask, decodeObjects, outputNames, RowDigester, readFoundValues } from "./digest";
import { EventChecks, type EventChecksOptions } from "./events";
import {
  type Comparison,
  comparisonOf,
  defaultKey,
  addLines,
  type ExpectHow,
  expectFile,
  type ExpectedRun,
  type ExpectedSource,
  type ExpectTask,
  expectedParts,
  type ExpectationSource,
  type FileExpectation,
  hashFileOf,
  mergeExpectations,
  recordValues,
  VERIFY_WORKER_FILE,
} from "./expected";
import { listOutput, type OutputFormat, type OutputRow, partitionOf, rowsOf, type VerbatimLines } from "./output";
import { datasetOf } from "../datasets";

/** Columns `--require` may name: each row's answer is one bit of a 32-bit word. */
export const MAX_REQUIRED = 32;

/** What a pipeline did with one kind of dirty record. */
export const OUTCOMES = ["dropped", "kept", "repaired", "deduplicated", "changed"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface VerifyOptions {
  /** Fields that identify a record; by default the dataset's (see `defaultKey`), none: matched by content. */
  readonly key?: readonly string[];
  /** Output column → generated field, for columns the pipeline renamed. */
  readonly map?: Readonly<Record<string, string>>;
  /** Generated fields the pipeline drops: not compared. */
  readonly drop?: readonly string[];
  /** Output columns the pipeline adds and that are not reported as unknown. */
  readonly ignore?: readonly string[];
  /** Output columns the pipeline adds that every row must hold a value in (a load time, a batch id); not reported as unknown. */
  readonly require?: readonly string[];
  /** What the pipeline should do with each dirty kind; the check fails where it did otherwise. */
  readonly expect?: Readonly<Partial<Record<DirtyKind, Outcome>>>;
  /** Examples per changed field, per kind of problem (default 3). */
  readonly examples?: number;
  /** Threads that recompute the run's files (1: this thread only). */
  readonly threads?: number;
  /** Timestamps compared to the microsecond (default), millisecond or second: a pipeline that stores less truncates. */
  readonly precision?: Precision;
  /** Called after each output file is read, for progress. */
  readonly onFile?: (key: string, rows: number) => void;
  /** An emit run's checks besides its records (order, idempotency keys, delay); its parts must be event streams. */
  readonly events?: EventChecksOptions;
  /** Look NDJSON lines up whole before parsing them, where that can tell (see `verbatimLines`); false parses every line: the same report, slower. */
  readonly verbatim?: boolean;
}

interface FieldChange {
  rows: number;
  /** `found` is read again from the output when the row was not kept (stored digests). */
  examples: { index: number; object: string; line: number; found?: string | null }[];
}

const SATURATED = 255;

/** Each timestamp precision verify compares at, as `cutTo`'s unit: microseconds, truncated (> 0) or rounded (< 0). */
export const PRECISION_UNITS = { us: 1, ms: 1000, s: 1_000_000, "ms-rounded": -1000, "s-rounded": -1_000_000 } as const;
export type Precision = keyof typeof PRECISION_UNITS;
const PRECISION_RULES: Readonly<Record<Precision, string>> = {
  us: "microsecond",
  ms: "millisecond, the generated value truncated (the pipeline stores no finer)",
  s: "second, the generated value truncated (the pipeline stores no finer)",
  "ms-rounded": "millisecond, the generated value rounded (the pipeline stores no finer)",
  "s-rounded": "second, the generated value rounded (the pipeline stores no finer)",
};

/**
 * Checks a pipeline's output against the run that fed it: every output row is matched to a
 * generated record by its key, and each record is found once with its values, or reported as
 * missing, duplicated or changed (field by field); rows the run never made are unexpected.
 * Memory: a few bytes per generated record and field; output files are streamed. On more than
 * one thread the run's files are recomputed and the output's objects digested on a pool of
 * workers, a few objects ahead of the join, which takes them in order: the same report.
 */
export async function verifyOutput(files: readonly ExpectedSource[], spec: SinkSpec, prefix: string, location: (key: string) => string, options: VerifyOptions = {}) {
  const sink = sinkFor(spec);
  const reader: OutputReader = {
    listed: () => listOutput(sink, prefix),
    rows: (key, format, verbatim) => rowsOf(sink, key, format as OutputFormat, undefined, undefined, verbatim),
    location,
    where: location(prefix),
  };
  const threads = options.threads ?? 1;
  if (threads <= 1 || !existsSync(VERIFY_WORKER_FILE)) return verifyReader(files, reader, options);
  const first = files[0];
  if (!first) throw new ValidationError("files", "the run has no files to verify");
  const plan = verifyPlan(first, options);
  const Piscina = require("piscina") as typeof import("piscina").default;
  const pool = new Piscina<ExpectTask | (DigestTask & { readonly sink: SinkSpec }), FileExpectation | Uint8Array>({ filename: VERIFY_WORKER_FILE, minThreads: threads, maxThreads: threads });
  // Tasks still running when the check ends early (bad input found by the join): settled before the pool goes, which would otherwise fail on their answers.
  const running = new Set<Promise<unknown>>();
  const run = <T>(task: Promise<T>): Promise<T> => {
    running.add(task);
    task.then(
      () => running.delete(task),
      () => running.delete(task),
    );
    return task;
  };
  try {
    const listed = await reader.listed();
    if (listed.files.length === 0) throw new ValidationError("output", `no data files under ${reader.where} (looked for .ndjson, .jsonl, .json, .csv, .parquet, optionally .gz)`);
    const { how, first: made } = await expectation(files, plan, options, listed, reader.rows);
    const lines = how.lines === true;
    // The run's files first, so the join can start; the output's objects behind them.
    const expecting = files.map((file, i) => (i === 0 && made ? Promise.resolve(made) : run(pool.run({ file, comparison: plan.comparison, how }) as Promise<FileExpectation>)));
    for (const p of expecting) p.catch(() => undefined);
    // At most this many digests wait for the join: memory stays flat however many objects there are.
    const ahead = threads * 2;
    const digests: (Promise<Uint8Array> | undefined)[] = [];
    // With lines hashed, objects are digested once the run is merged, each worker looking lines up in its table.
    let shared: SharedKeyTable | undefined;
    const digest = (i: number) => {
      const f = listed.files[i];
      if (f === undefined || f.format === "table") return;
      const p = run(
        pool.run({
          digest: { key: f.key, format: f.format },
          comparison: plan.comparison,
          outName: plan.outName,
          required: options.require ?? [],
          ...(options.events ? { events: options.events } : {}),
          ...(shared ? { lines: shared } : {}),
          sink: spec,
        }) as Promise<Uint8Array>,
      );
      p.catch(() => undefined);
      digests[i] = p;
    };
    if (!lines) for (let i = 0; i < ahead; i++) digest(i);
    const parts = await Promise.all(expecting);
    const merged = lines ? await expectedOf(files, parts, plan, options) : undefined;
    if (merged) {
      if (merged.expected.comparison.key.length && merged.expected.lines) shared = merged.expected.lines.shared();
      for (let i = 0; i < ahead; i++) digest(i);
    }
    const width = plan.comparison.leaves.length;
    const objects = async function* (): AsyncGenerator<DigestedObject> {
      for (let i = 0; i < listed.files.length; i++) {
        const bytes = await (digests[i] as Promise<Uint8Array>);
        digests[i] = undefined;
        digest(i + ahead);
        yield* decodeObjects(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), width);
      }
    };
    const formats = new Map(listed.files.map((f) => [f.key, f.format as OutputFormat]));
    return await verifyDigests(
      files,
      merged ? { merged } : parts,
      plan,
      objects(),
      {
        where: reader.where,
        location,
        skipped: listed.skipped,
        foundValues: (wanted) => readFoundValues(sink, (key) => formats.get(key), plan.comparison, plan.outName, wanted),
      },
      options,
    );
  } finally {
    await Promise.allSettled(running);
    await pool.destroy();
  }
}

/** Where verify reads a pipeline's output: its parts (files, or a table), each part's rows, and how to name them. */
export interface OutputReader {
  listed(): Promise<{ files: { key: string; format: OutputFormat | "table" }[]; skipped: { key: string; why: string }[] }>;
  /** The rows of one part; an NDJSON reader looks each line up in `verbatim` first, when given, and parses only the rest. */
  rows(key: string, format: OutputFormat | "table", verbatim?: VerbatimLines): AsyncIterable<OutputRow>;
  location(key: string): string;
  /** The output as a whole, as the report names it. */
  readonly where: string;
  /** The finest time the output can hold (a table's time columns), compared at unless the options say otherwise. */
  readonly precision?: Precision;
  /** Lets go of what the reader holds open (a connection, a point in time), read to the end or not. */
  close?(): Promise<void>;
}

/** What a verify request compares, fixed before any output is read: the fields, the key, the output's column names. */
export interface VerifyPlan {
  readonly comparison: Comparison;
  readonly keyNames: readonly string[] | undefined;
  /** Each compared field's output column (after `--map`). */
  readonly outName: readonly string[];
}

/** The comparison a request makes, its flags checked against the dataset (a field --map, --key or --drop names must exist). */
export function verifyPlan(first: ExpectedSource, options: VerifyOptions): VerifyPlan {
  const keyNames = options.key ?? defaultKey(first);
  const comparison = comparisonOf(first, keyNames, options.drop ?? [], PRECISION_UNITS[options.precision ?? "us"]);
  const { leaves } = comparison;
  for (const [out, gen] of Object.entries(options.map ?? {})) {
    if (!leaves.some((l) => l.name === gen)) throw new ValidationError("map", `--map ${out}=${gen}: the dataset has no field "${gen}"; its fields: ${leaves.map((l) => l.name).join(", ")}`);
  }
  return { comparison, keyNames, outName: outputNames(comparison, options.map) };
}

/** The run merged from its files' expectations, and the note when its records are matched by content for want of a unique key. */
export interface MergedRun {
  readonly expected: ExpectedRun;
  readonly keyNote?: string;
}

/**
 * The run's records as verify keeps them, from its files' expectations. When the dataset's own
 * id repeats in the run (a schema's sequence restarts each day) and no --key was named, records
 * are matched by content instead, and the note says so; a named key that repeats is refused.
 */
export async function expectedOf(files: readonly ExpectedSource[], parts: ExpectationSource, plan: VerifyPlan, options: VerifyOptions): Promise<MergedRun> {
  const { keyNames } = plan;
  let comparison = plan.comparison;
  let expected = await mergeExpectations(files, parts, comparison);
  let keyNote: string | undefined;
  if (options.key === undefined && comparison.key.length > 0 && expected.sharedKeys > 0) {
    keyNote = `${(keyNames ?? []).join(",")} repeats in this run (${expected.sharedKeys} records share one): matched by content, so a changed record counts as missing plus unexpected; name a unique key with --key`;
    comparison = { ...comparison, key: [] };
    // Matched by content, every record's field hashes are needed now.
    const whole = Array.isArray(parts) && (parts as readonly FileExpectation[]).some((p) => p.unhashed) ? await expectedParts(files, plan.comparison, options.threads ?? 1) : parts;
    expected = await mergeExpectations(files, whole, comparison);
  }
  if (comparison.key.length > 0 && expected.sharedKeys > 0) {
    // Keys are kept as hashes: the example's key is read again from its record.
    const at = expected.firstShared ?? 0;
    const n = Math.max(
      0,
      expected.files.findIndex((f) => at < f.first + f.count),
    );
    const values = recordValues(files[n] as ExpectedSource, (expected.files[n] as { first: number }).first, at, comparison.leaves, comparison.unit);
    throw new ValidationError(
      "key",
      `the key ${(keyNames ?? []).join(",")} does not identify a record: ${expected.sharedKeys} generated records share a key with another (e.g. ${JSON.stringify(comparison.key.map((i) => shown(values?.[i] ?? null)))}); name fields that together are unique`,
    );
  }
  return { expected, ...(keyNote ? { keyNote } : {}) };
}

/**
 * Whether output lines are looked up whole before they are parsed: an NDJSON line byte for byte a
 * generated record's clean line is that record, found once and equal in every field — what the
 * join finds by parsing it, for the cost of hashing its bytes (a pipeline that lands the files as
 * written: a copy, a replication, Firehose without a transform). Only where parsing could tell
 * nothing more: a generated NDJSON run (not an emit run's events, which land with fields added),
 * matched by a key (unique, or the join falls back to content and lines are not looked up), no
 * column renamed, dropped or required, and every top-level column compared.
 */
export function verbatimLines(files: readonly ExpectedSource[], plan: VerifyPlan, options: VerifyOptions): boolean {
  if (options.verbatim === false || options.events || Object.keys(options.map ?? {}).length > 0 || (options.drop?.length ?? 0) > 0 || (options.require?.length ?? 0) > 0) return false;
  const { leaves, key } = plan.comparison;
  const first = files[0];
  if (key.length === 0 || first === undefined) return false;
  if (!files.every((f) => !("emit" in f) && !("indexed" in f) && (f.format === undefined || f.format.startsWith("ndjson")))) return false;
  return datasetOf(first).columns.every((c) => leaves.some((l) => l.name === c.name || l.name.startsWith(`${c.name}.`)));
}

/**
 * How the run's files are recomputed for this output: with their lines hashed where lines can be
 * looked up (`verbatimLines`), and without field hashes too when the output looks kept as written
 * (`keptAsWritten`); `first` is then the first file's expectation, made for that check.
 */
async function expectation(
  files: readonly ExpectedSource[],
  plan: VerifyPlan,
  options: VerifyOptions,
  listed: Listed,
  rows: OutputReader["rows"],
): Promise<{ how: ExpectHow; first?: FileExpectation }> {
  if (!verbatimLines(files, plan, options) || !listed.files.some((f) => f.format.startsWith("ndjson"))) return { how: {} };
  const first = await keptAsWritten(files[0] as ExpectedSource, plan.comparison, listed, rows);
  return first ? { how: { lines: true, fields: false }, first } : { how: { lines: true } };
}

/** Lines of the output's first NDJSON object `keptAsWritten` reads. */
const PROBE_LINES = 256;

/**
 * Whether the output looks kept as written: 9 in 10 of the first lines of its first NDJSON object
 * are, byte for byte, lines of the run's first file. Then a file's field hashes are made only when
 * one of its rows is not found by its bytes (`hashFileOf`): a second rendering of that file, where
 * otherwise every field of every record is hashed for nothing. Gives the first file's expectation
 * made for the check (lines, no field hashes), or undefined.
 */
export async function keptAsWritten(first: ExpectedSource, comparison: Comparison, listed: Listed, rows: OutputReader["rows"]): Promise<FileExpectation | undefined> {
  const object = listed.files.find((f) => f.format.startsWith("ndjson"));
  if (!object) return undefined;
  const part = expectFile(first, comparison, { lines: true, fields: false });
  const table = new KeyTable(part.count);
  // Two lines alike: the rest of the file is not in the table, and the probe counts fewer hits.
  addLines(table, part);
  let read = 0;
  let kept = 0;
  for await (const row of rows(object.key, object.format, table)) {
    const n = "verbatim" in row ? row.verbatim.length : 1;
    if ("verbatim" in row) kept += n;
    read += n;
    if (read >= PROBE_LINES) break;
  }
  return read > 0 && kept >= 0.9 * read ? part : undefined;
}

/** An output's listing: its data files, and what was left out with why. */
type Listed = Awaited<ReturnType<OutputReader["listed"]>>;

/** Checks the output a reader gives against the run: see verifyOutput. */
export async function verifyReader(files: readonly ExpectedSource[], reader: OutputReader, given: VerifyOptions = {}) {
  const options: VerifyOptions = given.precision === undefined && reader.precision !== undefined ? { ...given, precision: reader.precision } : given;
  const first = files[0];
  if (!first) throw new ValidationError("files", "the run has no files to verify");
  const plan = verifyPlan(first, options);
  const listed = await reader.listed();
  if (listed.files.length === 0) throw new ValidationError("output", `no data files under ${reader.where} (looked for .ndjson, .jsonl, .json, .csv, .parquet, optionally .gz)`);
  const { how, first: made } = await expectation(files, plan, options, listed, reader.rows);
  const threads = options.threads ?? 1;
  const parts = made ? [made, ...(await expectedParts(files.slice(1), plan.comparison, threads, how))] : await expectedParts(files, plan.comparison, threads, how);
  // With lines hashed, the run is merged before the output is read, so lines can be looked up as they are read.
  const merged = how.lines ? await expectedOf(files, parts, plan, options) : undefined;
  const verbatim = merged?.expected.comparison.key.length ? merged.expected.lines : undefined;
  // Keys are made by the plan's comparison; matched by content instead, the join ignores them.
  const digester = new RowDigester(plan.comparison, plan.outName, options.require, options.events);
  const objects = listed.files.map((file): DigestedObject => {
    const columns: string[] = [];
    return { key: file.key, format: file.format, columns, rows: digester.rows(file.key, reader.rows(file.key, file.format, verbatim), columns) };
  });
  return verifyDigests(files, merged ? { merged } : parts, plan, objects, { where: reader.where, location: reader.location, skipped: listed.skipped }, options);
}

/** How a report names the output, and what the listing left out. */
export interface OutputNames {
  readonly where: string;
  location(key: string): string;
  readonly skipped: readonly { key: string; why: string }[];
  /**
   * The canonical values of rows a report shows as examples, when their digests did not keep the
   * row (the verify state machine's merge reads them again): object key → line → values.
   */
  foundValues?(wanted: ReadonlyMap<string, ReadonlySet<number>>): Promise<Map<string, Map<number, (string | null)[]>>>;
}

/**
 * The check itself, over digested output objects in order (read here, or digested by the slices
 * of the verify state machine and read back): the same report either way.
 */
export async function verifyDigests(
  files: readonly ExpectedSource[],
  parts: ExpectationSource | { readonly merged: MergedRun },
  plan: VerifyPlan,
  objects: Iterable<DigestedObject> | AsyncIterable<DigestedObject>,
  names: OutputNames,
  options: VerifyOptions = {},
) {
  const location = (key: string) => names.location(key);
  const first = files[0];
  if (!first) throw new ValidationError("files", "the run has no files to verify");
  const emitted = "emit" in first ? first.emit.request : undefined;
  if (options.events && !emitted) throw new ValidationError("events", "the order, idempotency and delay checks apply to an emit run's events");
  const { expected, keyNote } = "merged" in parts ? parts.merged : await expectedOf(files, parts, plan, options);
  const { comparison } = expected;
  const { leaves, key } = comparison;
  const examples = options.examples ?? 3;
  const outName = plan.outName;
  const generatedNames = new Set(leaves.map((l) => l.name));
  const ignored = new Set([...(options.ignore ?? []), ...(options.require ?? []).map((c) => c.split(".")[0] as string)]);
  const required = (options.require ?? []).map((column) => ({ column, rows: 0, examples: [] as { file: string; line: number }[] }));
  // An emit run's events: each stream's order is always reported; keys and delay when their columns are named.
  const events = emitted ? new EventChecks(expected, emitted.runId, options.events ?? {}) : undefined;
  for (const f of events?.fields ?? []) ignored.add(f.split(".")[0] as string);

  /** Expected values of the records a report shows as examples, rendered again once each. */
  const cache = new Map<number, (string | null)[]>();
  const found = new Uint8Array(expected.records);
  /** Per record, bits: 1 a copy equal to the clean record, 2 equal to its dirty version, 4 neither. */
  const matched = new Uint8Array(expected.records);
  const misplaced = new Uint8Array(expected.records);
  const changes = leaves.map((): FieldChange => ({ rows: 0, examples: [] }));
  const unexpected: { file: string; line: number; key: unknown }[] = [];
  const unparseable: { file: string; line: number; error: string }[] = [];
  let unexpectedCount = 0;
  let unkeyed = 0;
  let unparseableCount = 0;
  let rowsRead = 0;
  let objectCount = 0;
  const seenColumns = new Set<string>();
  const extraColumns = new Set<string>();
  const byFormat: Partial<Record<OutputFormat | "table", number>> = {};
  const foundByPartition = new Map<string, number>();
  const dayOf = dayIndex(expected);
  const width = leaves.length;
  const keyHash: KeyHash = { h1: 0, h2: 0 };

  /** Record `index` found once more, in an object under the `dt=` partition given. */
  const foundAt = (index: number, partition: string | undefined) => {
    if (found[index] !== SATURATED) found[index] = (found[index] as number) + 1;
    if (partition !== undefined) {
      foundByPartition.set(partition, (foundByPartition.get(partition) ?? 0) + 1);
      if (partition !== dayOf(index)) misplaced[index] = 1;
    }
  };

  // A large object's pieces (read by separate slices) come in order: one object, its rows numbered on from the piece before.
  let lastKey: string | undefined;
  let lineOffset = 0;
  for await (const file of objects) {
    const continued = file.piece !== undefined && file.piece.part > 0;
    if (continued && file.key !== lastKey) throw new Error(`verify: piece ${file.piece?.part} of ${file.key} came without the pieces before it`);
    if (!continued) {
      objectCount++;
      byFormat[file.format] = (byFormat[file.format] ?? 0) + 1;
      lineOffset = 0;
    }
    lastKey = file.key;
    const partition = partitionOf(file.key);
    let rows = 0;
    for await (const read of file.rows) {
      const row = lineOffset === 0 ? read : { ...read, line: read.line + lineOffset };
      if ("verbatim" in row) {
        // Their clean records' lines as written: found by each line's hash, equal in every field (see `verbatimLines`).
        if (events || required.length) throw new Error("verify: verbatim rows in a check that reads rows' columns");
        for (const index of row.verbatim) {
          foundAt(index, partition);
          matched[index] = (matched[index] as number) | 1;
        }
        rows += row.verbatim.length;
        continue;
      }
      rows++;
      if ("error" in row) {
        // A malformed record the pipeline passed through as it was written: kept, not unreadable output.
        const cut = row.textHash === undefined ? undefined : expected.malformedLines.get(row.textHash);
        if (cut !== undefined) {
          if (found[cut] !== SATURATED) found[cut] = (found[cut] as number) + 1;
          matched[cut] = (matched[cut] as number) | 2;
          continue;
        }
        unparseableCount++;
        if (unparseable.length < examples) unparseable.push({ file: location(file.key), line: row.line, error: row.error });
        continue;
      }
      for (let j = 0; j < required.length; j++) {
        if ((row.present & (1 << j)) !== 0) continue;
        const r = required[j] as (typeof required)[number];
        r.rows++;
        if (r.examples.length < examples) r.examples.push({ file: location(file.key), line: row.line });
      }
      const hashes = row.hashes;
      // By key, else (a dirty version that lost its key, or no key fields) by content.
      const k = row.key;
      let index = key.length && k !== undefined ? expected.keys.get(hashKey(k, keyHash)) : -1;
      if (index < 0) index = expected.keys.get(hashContent(hashes, 0, width, keyHash));
      if (index < 0) {
        if (key.length && k === undefined) unkeyed++;
        else unexpectedCount++;
        if (unexpected.length < examples) unexpected.push({ file: location(file.key), line: row.line, key: key.length === 0 ? [] : k === undefined ? null : keyShownOf(k) });
        continue;
      }
      if (events) {
        // Read with the row's digest (RowDigester), here or on the slice that digested it.
        if (row.events === undefined) throw new Error("verify: an emit run's output digested without its event fields");
        events.row(index, found[index] === 0, row.events, location(file.key), row.line);
      }
      foundAt(index, partition);
      if (expected.unhashed) hashFileOf(expected, files, index);
      const base = index * leaves.length;
      const dirty = expected.dirtyHashes.get(index);
      let clean = true;
      let asDirty = dirty !== undefined;
      for (let f = 0; f < leaves.length; f++) {
        const h = hashes[f] as number;
        if (h !== expected.hashes[base + f]) clean = false;
        if (dirty && h !== dirty[f]) asDirty = false;
      }
      if (clean) matched[index] = (matched[index] as number) | 1;
      else if (asDirty) matched[index] = (matched[index] as number) | 2;
      else {
        matched[index] = (matched[index] as number) | 4;
        // Field by field only for clean records: a dirty one's changes are its dirt's.
        if (expected.kinds[index] === 0) {
          for (let f = 0; f < leaves.length; f++) {
            if (hashes[f] === expected.hashes[base + f]) continue;
            const change = changes[f] as FieldChange;
            change.rows++;
            if (change.examples.length < examples) {
              // A row read here gives its value now; a stored digest's is read again once the join ends.
              const value = row.values === undefined ? undefined : canonicalValues(file.key, row.values, row.textual === true, comparison, outName)[f];
              change.examples.push({ index, object: file.key, line: row.line, ...(value !== undefined ? { found: value } : {}) });
            }
          }
        }
      }
    }
    for (const c of file.columns) {
      if (!seenColumns.has(c)) {
        seenColumns.add(c);
        if (!ignored.has(c) && !generatedNames.has(c) && !outName.includes(c) && !outName.some((n) => n.startsWith(`${c}.`))) extraColumns.add(c);
      }
    }
    rowsRead += rows;
    if (file.piece) lineOffset += file.counted?.lines ?? 0;
    options.onFile?.(file.key, rows);
  }
  if (objectCount === 0) throw new ValidationError("output", `no data files under ${names.where} (looked for .ndjson, .jsonl, .json, .csv, .parquet, optionally .gz)`);

  for (const name of outName) {
    const top = name.split(".")[0] as string;
    if (!seenColumns.has(name) && !seenColumns.has(top) && options.map?.[name] !== undefined) {
      throw new ValidationError("map", `--map ${name}=${options.map[name]}: the output has no column "${name}"; its columns: ${[...seenColumns].join(", ")}`);
    }
  }

  events?.checkColumns(seenColumns);
  await resolveFound();

  return report();

  /** The found values of examples whose digests did not keep their row, read again from the output. */
  async function resolveFound(): Promise<void> {
    const wanted = new Map<string, Set<number>>();
    for (const change of changes) for (const e of change.examples) if (e.found === undefined) (wanted.get(e.object) ?? wanted.set(e.object, new Set()).get(e.object))?.add(e.line);
    if (wanted.size === 0) return;
    if (!names.foundValues) throw new Error("verify: examples without their rows, and no way to read them again");
    const values = await names.foundValues(wanted);
    changes.forEach((change, f) => {
      for (const e of change.examples) if (e.found === undefined) e.found = values.get(e.object)?.get(e.line)?.[f] ?? null;
    });
  }

  function report() {
    let missing = 0;
    let duplicated = 0;
    let changed = 0;
    let matchedOnce = 0;
    let misplacedCount = 0;
    const dirty: Partial<Record<DirtyKind, { injected: number } & Partial<Record<Outcome, number>> & { expected?: Outcome; holds?: boolean }>> = {};
    const perFile: { key: string; records: number; missing: number; duplicated: number; changed: number }[] = [];
    const partitions = new Map<string, { expected: number; missing: number; misplaced: number }>();
    for (const file of expected.files) {
      let m = 0;
      let d = 0;
      let c = 0;
      for (let i = file.first; i < file.first + file.count; i++) {
        const kind = expected.kinds[i] as number;
        const n = found[i] as number;
        if (misplaced[i]) misplacedCount++;
        if (kind === 0) {
          if (n === 0) m++;
          else {
            matchedOnce++;
            if (n > 1) d += n - 1;
            if (((matched[i] as number) & 4) !== 0) c++;
          }
          continue;
        }
        const name = DIRTY_KINDS[kind - 1] as DirtyKind;
        const entry = (dirty[name] ??= { injected: 0 });
        entry.injected++;
        const outcome = dirtyOutcome(name, n, matched[i] as number);
        entry[outcome] = (entry[outcome] ?? 0) + 1;
      }
      missing += m;
      duplicated += d;
      changed += c;
      const day = partitions.get(file.day) ?? { expected: 0, missing: 0, misplaced: 0 };
      day.expected += file.count;
      day.missing += m;
      partitions.set(file.day, day);
      if (m + d + c > 0) perFile.push({ key: file.key, records: file.count, missing: m, duplicated: d, changed: c });
    }
    let expectationsHold = true;
    for (const [kind, want] of Object.entries(options.expect ?? {}) as [DirtyKind, Outcome][]) {
      const entry = (dirty[kind] ??= { injected: 0 });
      entry.expected = want;
      entry.holds = (entry[want] ?? 0) === entry.injected;
      if (!entry.holds) expectationsHold = false;
    }
    const failedBy = [
      missing > 0 && "missing",
      duplicated > 0 && "duplicated",
      changed > 0 && "changed",
      unexpectedCount > 0 && "unexpected",
      unkeyed > 0 && "unkeyed",
      unparseableCount > 0 && "unparseable",
      misplacedCount > 0 && "misplaced",
      !expectationsHold && "dirty expectations",
      required.some((r) => r.rows > 0) && "required columns",
    ].filter((x): x is string => typeof x === "string");
    const landing = events?.report();
    if (landing) failedBy.push(...landing.failedBy);
    const fields: Record<string, { rows: number; examples: { key: unknown; expected: unknown; found: unknown }[] }> = {};
    changes.forEach((change, f) => {
      if (change.rows === 0) return;
      fields[(leaves[f] as { name: string }).name] = {
        rows: change.rows,
        examples: change.examples.map((e) => ({ key: keyShown(e.index), expected: shown(expectedValue(e.index, f)), found: shown(e.found ?? null) })),
      };
    });
    const dirtyRecords = [...expected.kinds].filter((k) => k !== 0).length;
    return {
      status: failedBy.length === 0 ? ("passed" as const) : ("failed" as const),
      ...(failedBy.length ? { failed_by: failedBy } : {}),
      matched_by: key.length ? leaves.filter((_, i) => key.includes(i)).map((l) => l.name) : "content",
      ...(keyNote ? { key_note: keyNote } : {}),
      expected_records: expected.records,
      clean_records: expected.records - dirtyRecords,
      found: matchedOnce,
      missing,
      duplicated,
      changed,
      unexpected: unexpectedCount,
      unkeyed,
      unparseable: unparseableCount,
      misplaced: misplacedCount,
      changed_fields: fields,
      ...(required.length ? { required_columns: Object.fromEntries(required.map((r) => [r.column, { rows_without: r.rows, ...(r.examples.length ? { examples: r.examples } : {}) }])) } : {}),
      ...(unexpected.length ? { unexpected_examples: unexpected } : {}),
      ...(unparseable.length ? { unparseable_examples: unparseable } : {}),
      ...(Object.keys(dirty).length ? { dirty } : {}),
      partitions: Object.fromEntries([...partitions].map(([day, p]) => [day, { expected: p.expected, found_under_partition: foundByPartition.get(day) ?? null, missing: p.missing }])),
      ...(landing ? { events: landing.events } : {}),
      // An emit run's parts are its streams: `stream 3`.
      files_with_problems: perFile,
      output: {
        location: names.where,
        files: objectCount,
        rows: rowsRead,
        formats: byFormat,
        ...(names.skipped.length ? { skipped: names.skipped.map((s) => ({ file: location(s.key), why: s.why })) } : {}),
        ...(extraColumns.size ? { columns_not_generated: [...extraColumns] } : {}),
      },
      compared: {
        fields: leaves.map((l) => l.name),
        ...(options.drop?.length ? { dropped: options.drop } : {}),
        ...(options.map && Object.keys(options.map).length ? { renamed: options.map } : {}),
        rules: [
          "null and a missing field are the same value",
          "numbers compare by value (3 equals 3.0); a number written as text is a change",
          `timestamps compare as instants, to the ${PRECISION_RULES[options.precision ?? "us"]} (an ISO string equals a Parquet TIMESTAMP); one without a zone is UTC`,
          "JSON values compare with their keys in any order",
          "CSV cells are read as their column's type",
          ...(byFormat.table ? ["a table's values are read as PostgreSQL's text of them, by their column's type, as CSV cells are"] : []),
        ],
      },
    };
  }

  function keyShown(index: number): unknown {
    const values = expectedValues(index);
    return key.length ? key.map((i) => shown(values?.[i] ?? null)) : index;
  }

  function expectedValue(index: number, field: number): string | null {
    return expectedValues(index)?.[field] ?? null;
  }

  function expectedValues(index: number): (string | null)[] | undefined {
    const file = expected.files.find((f) => index >= f.first && index < f.first + f.count) as { first: number };
    const planned = files[expected.files.indexOf(file as (typeof expected.files)[number])] as ExpectedSource;
    return cache.get(index) ?? cache.set(index, recordValues(planned, file.first, index, leaves, comparison.unit) ?? []).get(index);
  }
}

/** What became of one dirty record, from how often it was found and what its copies equalled. */
function dirtyOutcome(kind: DirtyKind, found: number, matched: number): Outcome {
  if (found === 0) return "dropped";
  if (kind === "duplicate") return found === 1 ? "deduplicated" : "kept";
  if ((matched & 4) !== 0) return "changed";
  // A dirty version equal to the clean one in every column (oversize: its extra field is no column) is kept.
  if ((matched & 2) !== 0 || kind === "oversize") return "kept";
  return kind === "malformed" || (matched & 1) !== 0 ? "repaired" : "changed";
}

/** A key as the report shows it: the key fields' values, from its canonical text. */
function keyShownOf(key: string): unknown {
  return key
    .split("\u0001")
    .slice(0, -1)
    .map((v) => shown(v));
}

function dayIndex(expected: ExpectedRun): (index: number) => string {
  const starts = expected.files.map((f) => f.first);
  return (index) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return (expected.files[lo] as { day: string }).day;
  };
}

export type { Comparison, ExpectedRun };
export type VerifyReport = Awaited<ReturnType<typeof verifyOutput>>;
