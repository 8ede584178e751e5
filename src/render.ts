import { createHash } from "node:crypto";
import { datasetByName, type Dataset, type RecordWriter } from "./datasets";
import { curvedSecondOfDay } from "./daily-curve";
import { DirtInjector, NDJSON_LINES, type DirtyCounts, type DirtyRates, type LineEncoder } from "./dirty";
import type { Format, ParquetCodec } from "./formats";
import { Prng } from "./prng";

/** Everything that decides the bytes of one file — and nothing else does. */
export interface FileIdentity {
  readonly dataset: string;
  readonly seed: number;
  readonly runId: string;
  readonly datePrefix: string;
  readonly hhmmss: string;
  readonly fileIndex: number;
  /** The run's number of files (or event streams); see `FileContext.fileCount`. */
  readonly fileCount: number;
  readonly targetBytes: number;
  readonly eventWeights?: Readonly<Record<string, number>>;
  /** A declarative dataset (parsed schema) used instead of the built-in `dataset`. */
  readonly schema?: unknown;
  /** Dirty data to inject, by kind and rate. */
  readonly dirty?: DirtyRates;
  /** Timestamps follow a daily curve instead of spreading evenly over the day. */
  readonly dailyCurve?: boolean;
  /** The object format; absent means NDJSON (the seed's bytes, unchanged). */
  readonly format?: Format;
  /** Parquet's compression codec (snappy when absent). */
  readonly parquetCodec?: ParquetCodec;
}

/** Filled in while the chunks are consumed; final once the iterator is exhausted. */
export interface RenderStats {
  bytes: number;
  records: number;
  /** Hex SHA-256 of all bytes; empty until the last chunk has been taken. */
  sha256: string;
  /** Dirty records injected, by kind (only when the file asked for dirt). */
  dirty?: DirtyCounts;
  /** Formats other than NDJSON: the bytes before compression (see formats/encode.ts). */
  uncompressedBytes?: number;
}

export interface RenderedFile {
  readonly chunks: Iterable<Buffer>;
  readonly stats: RenderStats;
}

/** Chunks handed to sinks: big enough to amortise per-chunk costs, small against a part size. */
export const CHUNK_BYTES = 256 * 1024;

/**
 * The last record stretches its padding to land the file exactly on its target; it starts once
 * fewer than this many bytes would remain, which is more than any record's fixed part.
 */
const LAST_RECORD_RESERVE = 4096;
const PADDING_SOURCE_LENGTH = 1 << 16;
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

let paddingSource: string | undefined;

/** Random alphanumeric text from a fixed seed, built once per thread; padding is sliced from it. */
function getPaddingSource(): string {
  if (paddingSource === undefined) {
    const rng = Prng.fromParts("padding source");
    const chars: string[] = [];
    for (let i = 0; i < PADDING_SOURCE_LENGTH; i++) chars.push(ALNUM[rng.int(ALNUM.length)] as string);
    paddingSource = chars.join("");
  }
  return paddingSource;
}

/** The dataset of a file: a built-in, or its declarative schema (whose compiler, and YAML parser, load only then). */
export function datasetOf(id: Pick<FileIdentity, "dataset" | "schema">): Dataset {
  if (id.schema === undefined) return datasetByName(id.dataset);
  const scenario = require("./scenario/dataset") as typeof import("./scenario/dataset");
  if (scenario.isScenarioRef(id.schema)) return scenario.scenarioDataset(id.schema);
  return (require("./schema/dataset") as typeof import("./schema/dataset")).schemaDataset(id.schema);
}

/** The PRNG of one file, from its identity alone. */
export function filePrng(id: Pick<FileIdentity, "dataset" | "seed" | "runId" | "datePrefix" | "hhmmss" | "fileIndex">): Prng {
  return Prng.fromParts(id.dataset, id.seed, id.runId, id.datePrefix, id.hhmmss, id.fileIndex);
}

/**
 * The records of one file (or one event stream), line by line, from its identity alone: the
 * dataset's record text plus padding from the file's PRNG. Shared by files and event streams so
 * both produce the same records for the same identity.
 */
export class RecordSource {
  private readonly writer: RecordWriter;
  private readonly rng: Prng;
  private readonly pad: Dataset["padding"];
  private readonly tail: string;
  private readonly source: string;
  private readonly dirt: DirtInjector | undefined;

  constructor(
    id: Omit<FileIdentity, "targetBytes">,
    private readonly encoder: LineEncoder = NDJSON_LINES,
  ) {
    // The schema compiler (and its YAML parser) loads only for runs that use a declarative dataset.
    const dataset = datasetOf(id);
    this.rng = filePrng(id);
    this.writer = dataset.open(
      {
        seed: id.seed,
        datePrefix: id.datePrefix,
        hhmmss: id.hhmmss,
        fileIndex: id.fileIndex,
        fileCount: id.fileCount,
        ...(id.eventWeights ? { eventWeights: id.eventWeights } : {}),
        ...(id.dailyCurve ? { secondOfDay: curvedSecondOfDay } : {}),
      },
      this.rng,
    );
    this.pad = dataset.padding;
    this.tail = `${dataset.tail}\n`;
    this.source = this.pad ? getPaddingSource() : "";
    this.dirt = id.dirty ? new DirtInjector(id.dirty, [id.dataset, id.seed, id.runId, id.datePrefix, id.hhmmss, id.fileIndex], dataset.required ?? []) : undefined;
  }

  /** Dirty records injected so far, by kind, with a scenario's broken links; undefined when none were asked for. */
  get dirtyCounts(): DirtyCounts | undefined {
    const links = this.writer.linkCounts?.();
    if (!this.dirt && (!links || Object.keys(links).length === 0)) return undefined;
    return { ...this.dirt?.counts, ...links };
  }

  /** The number of records when the dataset fixes it (a scenario's), else undefined: the file ends at its byte target. */
  get count(): number | undefined {
    return this.writer.count;
  }

  /**
   * Record `i` as NDJSON text (one line, or two when dirt duplicated it), ending in a newline.
   * With a byte budget left in the file, a padded record that would leave less than a record's
   * worth stretches to use it all up and reports itself as the last; the last record is never dirty.
   */
  line(i: number, remaining = Infinity): { text: string; last: boolean; lines: number } {
    const head = this.writer.head(i);
    const fixed = head.length + this.tail.length;
    let text: string;
    let last: boolean;
    if (this.writer.count !== undefined) {
      text = head + this.tail;
      last = i >= this.writer.count - 1;
    } else if (!this.pad) {
      text = head + this.tail;
      last = text.length >= remaining;
    } else {
      let length = this.rng.range(this.pad.min, this.pad.max);
      last = remaining - (fixed + length) < LAST_RECORD_RESERVE;
      if (last) length = Math.max(0, remaining - fixed);
      const start = this.rng.int(PADDING_SOURCE_LENGTH - length);
      text = head + this.source.slice(start, start + length) + this.tail;
    }
    if (!this.dirt || last) return { text: this.encoder === NDJSON_LINES ? text : `${this.encoder.encode(text.slice(0, -1))}\n`, last, lines: 1 };
    const lines = this.dirt.apply(text.slice(0, -1), this.encoder);
    return { text: `${lines.join("\n")}\n`, last, lines: lines.length };
  }
}

/** How a caller wants the bytes cut. */
export interface RenderOptions {
  /** Size of the chunks handed out (the last may be shorter); CHUNK_BYTES by default. */
  readonly chunkBytes?: number;
  /**
   * A Buffer to render into, reused from an earlier file: the chunks are consecutive slices of
   * it as long as the file fits, so a sink that keeps the whole file sends `arena.subarray(0,
   * bytes)` with nothing allocated or concatenated. What does not fit goes to new Buffers.
   */
  readonly arena?: Buffer;
}

/**
 * Renders one NDJSON file lazily, chunk by chunk. Calling it twice with the same identity yields
 * the same bytes, which lets a sink make a counting pass before the real one.
 *
 * Other formats: see formats/encode.ts (chunks go into the arena too; `chunkBytes` does not apply).
 *
 * Size: a padded dataset ends exactly on `targetBytes` (the last record's padding absorbs the
 * remainder) unless one record is already larger than the target; an unpadded dataset stops at
 * the first record that reaches the target, so it is never more than one record over.
 */
export function renderFile(id: FileIdentity, options: RenderOptions = {}): RenderedFile {
  const stats: RenderStats = { bytes: 0, records: 0, sha256: "" };
  if (id.format !== undefined && id.format !== "ndjson") {
    // Other formats (and their writers) load only for the runs that ask for them.
    const { encodedChunks } = require("./formats/encode") as typeof import("./formats/encode");
    return { chunks: encodedChunks(id, id.format, datasetOf(id), stats, (file, encoder) => new RecordSource(file, encoder), options.arena), stats };
  }
  return { chunks: generateChunks(id, stats, Math.max(1, options.chunkBytes ?? CHUNK_BYTES), options.arena), stats };
}

/** Room for a file's worth of the rest, capped at a chunk unless the caller gave an arena. */
const bufferFor = (id: FileIdentity, written: number, chunkBytes: number, atLeast = 0): Buffer =>
  Buffer.allocUnsafe(Math.max(atLeast, Math.min(chunkBytes, Math.max(1, id.targetBytes - written) + LAST_RECORD_RESERVE)));

/**
 * Each record's text goes straight into a Buffer (latin1: datasets emit ASCII only, so it is
 * exact and the fastest encoding) — no chunk-sized strings, no conversion pass. A chunk is handed
 * out once it holds `chunkBytes`; a record that does not fit in what is left of the buffer goes
 * to a new one (of its own size if it is larger than a chunk). Each chunk is hashed once, as it
 * is handed out.
 */
function* generateChunks(id: FileIdentity, stats: RenderStats, chunkBytes: number, arena: Buffer | undefined): Generator<Buffer> {
  const records = new RecordSource(id);
  const hash = createHash("sha256");
  let buffer = arena ?? bufferFor(id, 0, chunkBytes);
  let start = 0;
  let used = 0;
  const flush = (): Buffer => {
    const chunk = buffer.subarray(start, used);
    hash.update(chunk);
    stats.bytes += chunk.length;
    start = used;
    return chunk;
  };
  if (records.count === 0) {
    // A scenario file whose parents have no children: an empty object, as its count says.
    stats.sha256 = hash.digest("hex");
    const dirty = records.dirtyCounts;
    if (dirty) stats.dirty = dirty;
    yield buffer.subarray(0, 0);
    return;
  }
  for (let i = 0; ; i++) {
    const { text, last, lines } = records.line(i, id.targetBytes - stats.bytes - (used - start));
    stats.records += lines;
    if (used + text.length > buffer.length) {
      if (used > start) yield flush();
      buffer = bufferFor(id, stats.bytes, chunkBytes, text.length);
      start = used = 0;
    }
    used += buffer.write(text, used, "latin1");
    if (last) {
      const chunk = flush();
      stats.sha256 = hash.digest("hex");
      const dirty = records.dirtyCounts;
      if (dirty) stats.dirty = dirty;
      yield chunk;
      return;
    }
    if (used - start >= chunkBytes) yield flush();
  }
}
