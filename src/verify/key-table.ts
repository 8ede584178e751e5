/**
 * A record's key as verify keeps it: two 32-bit hashes of the key's text (64 bits), never the text.
 * Two different keys take the same pair with a chance of about n² / 2^65 for n keys (under one in
 * a thousand for 10^8 records), where keeping the strings cost ~140 bytes a record.
 */
export interface KeyHash {
  h1: number;
  h2: number;
}

/** (0, 0) stands for "no key" in a `FileExpectation`; a key that hashes to it is moved to (0, 1). */
export const NO_KEY = 0;

/** Both hashes of `text`, into `out` (reused, so a join makes no garbage per row). */
export function hashKey(text: string, out: KeyHash): KeyHash {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return finish(a, b, text.length, out);
}

/** Both hashes of a record's field hashes `words[start, start + width)`: how a record without a key is found, by its content. */
export function hashContent(words: Uint32Array, start: number, width: number, out: KeyHash): KeyHash {
  let a = 0x2545f491;
  let b = 0x6c8e9cf5;
  for (let i = start; i < start + width; i++) {
    const w = words[i] as number;
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ w, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // A different length tag from any key text's keeps content and key hashes apart.
  return finish(a, b, 0x80000000 + width, out);
}

/**
 * Both hashes of one line's bytes `buf[start, end)`, four bytes to a step: how an output line
 * that is byte for byte a generated record's is found without parsing it (see `hashLineText`).
 */
export function hashLine(buf: Uint8Array, start: number, end: number, out: KeyHash): KeyHash {
  return hashView(new DataView(buf.buffer, buf.byteOffset, buf.byteLength), start, end, out);
}

/** `hashLine` through a view of the bytes (a DataView reads four at a time, a third faster than four loads and shifts). */
function hashView(view: DataView, start: number, end: number, out: KeyHash): KeyHash {
  let a = 0x3c6ef372;
  let b = 0xa54ff53a;
  let i = start;
  // Two lanes: MurmurHash3's block step, and the key hash's second.
  for (; i + 4 <= end; i += 4) {
    const w = view.getInt32(i, true);
    a = murmurStep(a, w);
    b = Math.imul(b ^ w, 0x5bd1e995);
    b ^= b >>> 15;
  }
  if (i < end) {
    let w = 0;
    for (let s = 0; i < end; i++, s += 8) w |= view.getUint8(i) << s;
    a = murmurStep(a, w);
    b = Math.imul(b ^ w, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // A length tag apart from key texts' and contents' (below 2^31, and 0x80000000 + width).
  return finish(a, b, 0xc0000000 + (end - start), out);
}

/** One 4-byte block of MurmurHash3 (x86, 32-bit) into `h`. */
export function murmurStep(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

let scratch = Buffer.allocUnsafe(1 << 16);
let scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/**
 * `hashLine` of a generated record's line as generate writes it (latin1: a byte a character;
 * datasets make ASCII), which is what the output holds when the pipeline kept it as written.
 */
export function hashLineText(text: string, out: KeyHash): KeyHash {
  if (text.length > scratch.length) {
    scratch = Buffer.allocUnsafe(Math.max(text.length, scratch.length * 2));
    scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
  }
  return hashView(scratchView, 0, scratch.write(text, 0, "latin1"), out);
}

function finish(a: number, b: number, length: number, out: KeyHash): KeyHash {
  a ^= length;
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= Math.imul(length, 0xc2b2ae35);
  b ^= b >>> 16;
  b = Math.imul(b, 0x27d4eb2f);
  b ^= b >>> 15;
  out.h1 = a >>> 0;
  out.h2 = b >>> 0;
  if (out.h1 === NO_KEY && out.h2 === NO_KEY) out.h2 = 1;
  return out;
}

/** A key table's arrays in memory threads share. */
export interface SharedKeyTable {
  readonly h1: SharedArrayBuffer;
  readonly h2: SharedArrayBuffer;
  readonly index: SharedArrayBuffer;
  readonly size: number;
}

/**
 * Key hashes → record index, open addressing in typed arrays: 12 bytes a slot, at most half the
 * slots used, so ~24 bytes a key however many there are, and nothing for the collector to walk.
 */
export class KeyTable {
  private readonly h1: Uint32Array;
  private readonly h2: Uint32Array;
  private readonly index: Int32Array;
  private readonly mask: number;
  size = 0;

  /**
   * Room for `keys` keys (a run's records and their dirty versions' keys), in memory worker
   * threads can read too when `share` (see `shared()`); or the table another thread shared.
   */
  constructor(keys: number | SharedKeyTable, share = false) {
    if (typeof keys === "object") {
      this.h1 = new Uint32Array(keys.h1);
      this.h2 = new Uint32Array(keys.h2);
      this.index = new Int32Array(keys.index);
      this.size = keys.size;
    } else {
      let slots = 16;
      while (slots < keys * 2) slots *= 2;
      const words = (): ArrayBufferLike => (share ? new SharedArrayBuffer(slots * 4) : new ArrayBuffer(slots * 4));
      this.h1 = new Uint32Array(words());
      this.h2 = new Uint32Array(words());
      this.index = new Int32Array(words()).fill(-1);
    }
    this.mask = this.index.length - 1;
  }

  /** The table as worker threads receive it (read through `new KeyTable(shared)`), once it is complete; only of a table made to share. */
  shared(): SharedKeyTable {
    const { buffer } = this.index;
    if (!(buffer instanceof SharedArrayBuffer)) throw new Error("verify: a key table made unshared cannot be shared");
    return { h1: this.h1.buffer as SharedArrayBuffer, h2: this.h2.buffer as SharedArrayBuffer, index: buffer, size: this.size };
  }

  /** The record index stored under the key, or -1. */
  get(k: KeyHash): number {
    const { h1, h2, index, mask } = this;
    for (let s = (k.h1 ^ Math.imul(k.h2, 0x9e3779b1)) & mask; ; s = (s + 1) & mask) {
      const i = index[s] as number;
      if (i < 0) return -1;
      if (h1[s] === k.h1 && h2[s] === k.h2) return i;
    }
  }

  /** Stores `i` under the key unless one is stored already: that one's index, or -1 when `i` was stored. */
  add(k: KeyHash, i: number): number {
    const { h1, h2, index, mask } = this;
    for (let s = (k.h1 ^ Math.imul(k.h2, 0x9e3779b1)) & mask; ; s = (s + 1) & mask) {
      const at = index[s] as number;
      if (at < 0) {
        if (this.size * 2 >= index.length) throw new Error(`verify's key table is full (${this.size} keys)`);
        h1[s] = k.h1;
        h2[s] = k.h2;
        index[s] = i;
        this.size++;
        return -1;
      }
      if (h1[s] === k.h1 && h2[s] === k.h2) return at;
    }
  }
}
