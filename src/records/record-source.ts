import { Prng } from "../core/prng";
import PADDING_SOURCE from "./padding-source.json";
import { curvedSecondOfDay } from "./daily-curve";
import type { Dataset, RecordWriter } from "./dataset";
import { DirtInjector, NDJSON_LINES, type DirtyCounts, type DirtyKind, type DirtyRates, type LineEncoder } from "./dirty";

/**
 * Sees each record as it is made, for a check that recomputes what a run wrote (`synthgen
 * verify`): its clean JSON text, the dirt injected into it, and what was written instead when the
 * dirt changed it — the changed JSON, or a malformed record's cut line (undefined when it wrote
 * the record as is, or twice). `row`, when the dataset keeps them, is the clean record's values by
 * top-level column, padding included (see `RecordWriter.row`; dirt never changes them); it is
 * valid only during the call.
 */
export type RecordTap = (clean: string, kind: DirtyKind | undefined, dirtyJson: string | undefined, row?: readonly unknown[]) => void;

/** Everything that decides the records of one file or event stream: a file's identity less its size and format. */
export interface RecordIdentity {
  readonly dataset: string;
  readonly seed: number;
  readonly runId: string;
  readonly datePrefix: string;
  readonly hhmmss: string;
  readonly fileIndex: number;
  /** The run's number of files (or event streams); see `FileContext.fileCount`. */
  readonly fileCount: number;
  readonly eventWeights?: Readonly<Record<string, number>>;
  /** A declarative dataset (parsed schema) used instead of the built-in `dataset`. */
  readonly schema?: unknown;
  /** Dirty data to inject, by kind and rate. */
  readonly dirty?: DirtyRates;
  /** Timestamps follow a daily curve instead of spreading evenly over the day. */
  readonly dailyCurve?: boolean;
}

/**
 * The last record stretches its padding to land the file exactly on its target; it starts once
 * fewer than this many bytes would remain, which is more than any record's fixed part.
 */
export const LAST_RECORD_RESERVE = 4096;
const PADDING_SOURCE_LENGTH = 1 << 16;
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/**
 * Random alphanumeric text from a fixed seed; padding is sliced from it. Made by this function
 * and stored as data (`padding-source.json`, which a spec compares with it): made in each thread
 * it took 13–18 ms of a cold start, before the first record.
 */
export function makePaddingSource(): string {
  const rng = Prng.fromParts("padding source");
  const chars: string[] = [];
  for (let i = 0; i < PADDING_SOURCE_LENGTH; i++) chars.push(ALNUM[rng.int(ALNUM.length)] as string);
  return chars.join("");
}

/** The PRNG of one file, from its identity alone. */
export function filePrng(id: Pick<RecordIdentity, "dataset" | "seed" | "runId" | "datePrefix" | "hhmmss" | "fileIndex">): Prng {
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
  /** The last record's padding, and whether it was written as made (no dirt changed it). */
  private padding = "";
  private clean = false;

  constructor(
    id: RecordIdentity,
    dataset: Dataset,
    private readonly encoder: LineEncoder = NDJSON_LINES,
    private readonly tap?: RecordTap,
  ) {
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
    this.source = this.pad ? PADDING_SOURCE : "";
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
   * The values of the record `line` last returned (see `RecordWriter.row`), padding included;
   * undefined when the dataset does not keep them or dirt changed the record.
   */
  row(): readonly unknown[] | undefined {
    return this.clean ? this.values() : undefined;
  }

  /** The last record's values as made, before any dirt: the writer's row and the padding. */
  private values(): readonly unknown[] | undefined {
    if (!this.writer.row) return undefined;
    const row = this.writer.row();
    if (this.pad) row[row.length - 1] = this.padding;
    return row;
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
      this.padding = this.source.slice(start, start + length);
      text = head + this.padding + this.tail;
    }
    if (!this.dirt || last) {
      this.clean = true;
      this.tap?.(text.slice(0, -1), undefined, undefined, this.values());
      return { text: this.encoder === NDJSON_LINES ? text : `${this.encoder.encode(text.slice(0, -1))}\n`, last, lines: 1 };
    }
    const lines = this.dirt.apply(text.slice(0, -1), this.encoder);
    this.clean = this.dirt.lastKind === undefined;
    this.tap?.(text.slice(0, -1), this.dirt.lastKind, this.dirt.lastJson, this.values());
    return { text: `${lines.join("\n")}\n`, last, lines: lines.length };
  }
}
