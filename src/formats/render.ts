import { createHash } from "node:crypto";
import { datasetOf } from "../datasets";
import { LAST_RECORD_RESERVE, RecordSource, type RecordTap } from "../records/record-source";
import type { FileIdentity, RenderedFile, RenderStats } from "./file-identity";

/** Chunks handed to sinks: big enough to amortise per-chunk costs, small against a part size. */
export const CHUNK_BYTES = 256 * 1024;

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
  /** Sees every record written, in order (see `RecordTap`): how `verify` recomputes a run's records in its format's counts. */
  readonly tap?: RecordTap;
  /**
   * A Buffer NDJSON's records are written into over and over, for a caller that is done with each
   * chunk before it asks for the next (it copies or writes it out): instead of a new Buffer per
   * chunk, whose fresh pages cost more than the records written into them. Other formats (their
   * encoders make their own chunks) ignore it, as does a render given an `arena`.
   */
  readonly ring?: Buffer;
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
    const { encodedChunks } = require("./encode") as typeof import("./encode");
    return { chunks: encodedChunks(id, id.format, datasetOf(id), stats, (file, encoder) => new RecordSource(file, datasetOf(file), encoder, options.tap), options.arena), stats };
  }
  return { chunks: generateChunks(id, stats, Math.max(1, options.chunkBytes ?? CHUNK_BYTES), options.arena, options.tap, options.arena ? undefined : options.ring), stats };
}

/**
 * The records of a file as generate writes them, each through `tap`, without making its bytes
 * (how `verify` recomputes a run): an NDJSON file's records are counted by their lines' lengths
 * (ASCII, so a character is a byte), another format's by rendering it. Stops when `stop` says so.
 */
export function tapRecords(id: FileIdentity, tap: RecordTap, stop: () => boolean = () => false): void {
  if (id.format !== undefined && id.format !== "ndjson") {
    for (const _ of renderFile(id, { tap }).chunks) {
      // Drained for the tap: a format's size decides how many records a file holds.
      if (stop()) return;
    }
    return;
  }
  const records = new RecordSource(id, datasetOf(id), undefined, tap);
  if (records.count === 0) return;
  let bytes = 0;
  for (let i = 0; !stop(); i++) {
    const { text, last } = records.line(i, id.targetBytes - bytes);
    bytes += text.length;
    if (last) return;
  }
}

/** Room for a file's worth of the rest, capped at a chunk unless the caller gave an arena. */
const bufferFor = (id: FileIdentity, written: number, chunkBytes: number, atLeast = 0): Buffer =>
  Buffer.allocUnsafe(Math.max(atLeast, Math.min(chunkBytes, Math.max(1, id.targetBytes - written) + LAST_RECORD_RESERVE)));

/**
 * Each record's text goes straight into a Buffer (latin1: datasets emit ASCII only, so it is
 * exact and the fastest encoding) — no chunk-sized strings, no conversion pass. A chunk is handed
 * out once it holds `chunkBytes`; a record that does not fit in what is left of the buffer goes
 * to a new one (of its own size if it is larger than a chunk), or with a ring to the ring's start.
 * Each chunk is hashed once, as it is handed out.
 */
function* generateChunks(id: FileIdentity, stats: RenderStats, chunkBytes: number, arena: Buffer | undefined, tap: RecordTap | undefined, ring: Buffer | undefined): Generator<Buffer> {
  const records = new RecordSource(id, datasetOf(id), undefined, tap);
  const hash = createHash("sha256");
  let buffer = arena ?? ring ?? bufferFor(id, 0, chunkBytes);
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
      // The chunks handed out so far are done with (see RenderOptions.ring): the ring starts over.
      buffer = ring !== undefined && text.length <= ring.length ? ring : bufferFor(id, stats.bytes, chunkBytes, text.length);
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
