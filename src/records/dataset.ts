import type { Column } from "./columns";
import type { Prng } from "../core/prng";

/** What a dataset knows about the file it is writing records for. */
export interface FileContext {
  /** The run's seed; the file's own PRNG already derives from it, but a catalogue may need it whole. */
  readonly seed: number;
  /** The run's day, `YYYY-MM-DD`; every timestamp falls inside it (UTC). */
  readonly datePrefix: string;
  /** The run's time of day, `HHMMSS`, as in the file keys. */
  readonly hhmmss: string;
  /** The file's position in the run (0-based); makes record ids unique across files. */
  readonly fileIndex: number;
  /** How many files (or event streams) the run has; a dataset may split a series across them. */
  readonly fileCount: number;
  /** Relative weights per event type, for datasets that have event types (checked beforehand). */
  readonly eventWeights?: Readonly<Record<string, number>>;
  /** Draws a second of the day for a timestamp, when the run shapes its day (a daily curve). */
  readonly secondOfDay?: (rng: Prng) => number;
}

/** Produces the records of one file, in order, from the file's own PRNG. */
export interface RecordWriter {
  /**
   * The record's JSON text up to where the padding value starts. For a dataset without padding
   * this is the whole record except `Dataset.tail`.
   */
  head(recordIndex: number): string;
  /**
   * A writer whose file holds a known number of records (a scenario's entities) says how many;
   * the file ends after them instead of at a byte target.
   */
  readonly count?: number;
  /**
   * The values of the record `head` last returned, by top-level column in declared order (structs
   * as objects, undefined for a left-out field; a padded dataset leaves its last column, the
   * padding, to the renderer), each what JSON.parse of the record's text would give: Parquet
   * takes them instead of parsing the text. A writer that does not keep them leaves this out.
   * The array may be reused from record to record.
   */
  row?(): unknown[];
  /** Records it wrote that break a relationship on purpose (orphans, dangling references), by kind. */
  linkCounts?(): Readonly<Record<string, number>>;
}

/**
 * A named record generator. Records are JSON objects, one per NDJSON line, built as
 * `head + padding + tail`: the renderer sizes the padding so a file ends at its byte target.
 * Everything emitted must be ASCII so that string length equals byte length.
 */
export interface Dataset {
  readonly name: string;
  /** Closing text after the padding (e.g. `"}`); constant for every record. */
  readonly tail: string;
  /** Length range of the random padding, or null when the dataset has no padding field. */
  readonly padding: { readonly min: number; readonly max: number } | null;
  /** Fields a record must have: what "missing required field" dirt removes first. */
  readonly required?: readonly string[];
  /** The record's fields and their types, in record order: CSV headers and Parquet schemas. */
  readonly columns: readonly Column[];
  /** Starts the records of one file. */
  open(ctx: FileContext, rng: Prng): RecordWriter;
}

/** A declarative dataset the caller loaded for the request's `dataset` (a file, or an S3 object). */
export interface ResolvedDataset {
  readonly name: string;
  readonly schema: unknown;
  /** The most bytes one of its records can take: a file's target must hold at least one. */
  readonly maxRecordBytes: number;
  /**
   * A scenario's dataset: the seed when the event gives none — the scenario's own, the same for
   * each of its datasets, so separate runs of users and of orders build the same world.
   */
  readonly defaultSeed?: number;
  /** A scenario's dataset: the key prefix when the event gives none (`{dataset}/`). */
  readonly defaultKeyPrefix?: string;
  /** A scenario's dataset: what it holds in a run, so a plan states its real size. */
  readonly size?: ScenarioSize;
}

/** What one dataset of a scenario holds in a run, by the plan's arithmetic: expected records × a sampled record's bytes. */
export interface ScenarioSize {
  readonly records: number;
  readonly bytes: number;
  /** Its root dataset and that dataset's entities: a file holds the descendants of whole roots, so at most this many files have records. */
  readonly root: string;
  readonly roots: number;
  /** The dataset's own `files`, when it sets one: with that many files, a file may exceed the size asked for. */
  readonly files?: number;
}

/** What one day of a scenario's backfill of `days` days holds: about 1/days of the dataset (each entity is filed under its own day). */
export const perDay = (size: ScenarioSize, days: number): ScenarioSize => (days === 1 ? size : { ...size, records: size.records / days, bytes: size.bytes / days });

/** The bytes each file of a scenario's dataset is expected to take when `fileCount` files hold it (files past its roots are empty). */
export const bytesPerFile = (size: ScenarioSize, fileCount: number): number => size.bytes / Math.max(1, Math.min(fileCount, size.roots));
