import { constants, crc32, deflateRawSync } from "node:zlib";

/** zlib's default level: what `gzip` and most writers produce. */
const LEVEL = 6;
/** RFC 1952 header: deflate, no flags, mtime 0 (the bytes depend on nothing but the data), OS unknown. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/**
 * One gzip member written block by block, synchronously, so a file's compressed size is known
 * after every block (zlib's stream API only tells it asynchronously). Each block is deflated by
 * zlib and ended with a sync flush, which byte-aligns it so blocks join into one deflate stream;
 * the last block sets the final bit. Readers see one ordinary gzip file (checked by `gzip -t`,
 * zlib and DuckDB in the specs). Each block starts a fresh window: at 256 KiB blocks that costs
 * well under 1% of the size.
 */
export class GzipBlocks {
  private crc = 0;
  private inputBytes = 0;
  private outputBytes = 0;
  private started = false;

  /** Compressed bytes so far, header included. */
  get stored(): number {
    return this.outputBytes;
  }

  /** Input bytes so far. */
  get consumed(): number {
    return this.inputBytes;
  }

  /** Compresses one block; returns the bytes to append (the header first, with the first block). */
  block(input: Buffer): Buffer {
    const deflated = deflateRawSync(input, { level: LEVEL, finishFlush: constants.Z_SYNC_FLUSH });
    this.crc = crc32(input, this.crc);
    this.inputBytes += input.length;
    const out = this.started ? deflated : Buffer.concat([HEADER, deflated]);
    this.started = true;
    this.outputBytes += out.length;
    return out;
  }

  /** The final (empty) deflate block and the trailer: CRC-32 and input size mod 2^32. */
  finish(): Buffer {
    const last = deflateRawSync(Buffer.alloc(0), { level: LEVEL, finishFlush: constants.Z_FINISH });
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.inputBytes % 2 ** 32, 4);
    const out = this.started ? Buffer.concat([last, trailer]) : Buffer.concat([HEADER, last, trailer]);
    this.started = true;
    this.outputBytes += out.length;
    return out;
  }
}
