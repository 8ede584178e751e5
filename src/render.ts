import { createHash } from "node:crypto";
import { datasetByName } from "./datasets";
import { Prng } from "./prng";

/** Everything that decides the bytes of one file — and nothing else does. */
export interface FileIdentity {
  readonly dataset: string;
  readonly seed: number;
  readonly runId: string;
  readonly datePrefix: string;
  readonly hhmmss: string;
  readonly fileIndex: number;
  readonly targetBytes: number;
}

/** Filled in while the chunks are consumed; final once the iterator is exhausted. */
export interface RenderStats {
  bytes: number;
  records: number;
  /** Hex SHA-256 of all bytes; empty until the last chunk has been taken. */
  sha256: string;
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

/** The PRNG of one file, from its identity alone. */
export function filePrng(id: FileIdentity): Prng {
  return Prng.fromParts(id.dataset, id.seed, id.runId, id.datePrefix, id.hhmmss, id.fileIndex);
}

/**
 * Renders one NDJSON file lazily, chunk by chunk. Calling it twice with the same identity yields
 * the same bytes, which lets a sink make a counting pass before the real one.
 *
 * Size: a padded dataset ends exactly on `targetBytes` (the last record's padding absorbs the
 * remainder) unless one record is already larger than the target; an unpadded dataset stops at
 * the first record that reaches the target, so it is never more than one record over.
 */
export function renderFile(id: FileIdentity): RenderedFile {
  const stats: RenderStats = { bytes: 0, records: 0, sha256: "" };
  return { chunks: generateChunks(id, stats), stats };
}

function* generateChunks(id: FileIdentity, stats: RenderStats): Generator<Buffer> {
  const dataset = datasetByName(id.dataset);
  const rng = filePrng(id);
  const writer = dataset.open({ datePrefix: id.datePrefix, hhmmss: id.hhmmss, fileIndex: id.fileIndex }, rng);
  const pad = dataset.padding;
  const tail = `${dataset.tail}\n`;
  const source = pad ? getPaddingSource() : "";
  const hash = createHash("sha256");
  const target = id.targetBytes;

  let written = 0;
  let pending = "";
  for (let i = 0; ; i++) {
    const head = writer.head(i);
    const fixed = head.length + tail.length;
    let last: boolean;
    let line: string;
    if (pad) {
      let length = rng.range(pad.min, pad.max);
      const remaining = target - written;
      last = remaining - (fixed + length) < LAST_RECORD_RESERVE;
      if (last) length = Math.max(0, remaining - fixed);
      const start = rng.int(PADDING_SOURCE_LENGTH - length);
      line = head + source.slice(start, start + length) + tail;
    } else {
      line = head + tail;
      last = written + line.length >= target;
    }
    written += line.length;
    stats.records = i + 1;
    pending += line;
    if (pending.length >= CHUNK_BYTES || last) {
      // Datasets emit ASCII only, so latin1 is an exact and the fastest encoding.
      const chunk = Buffer.from(pending, "latin1");
      pending = "";
      hash.update(chunk);
      stats.bytes += chunk.length;
      if (last) stats.sha256 = hash.digest("hex");
      yield chunk;
    }
    if (last) return;
  }
}
