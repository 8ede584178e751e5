/**
 * Snappy compression, byte for byte what hyparquet-writer's compressor (snappyjs's algorithm:
 * one block, a hash table of up to 2^14 entries, offsets up to 65,535) writes, without its
 * per-byte writer calls and per-literal copies: the output goes straight into one reused buffer.
 * A spec compares the two on text, random, repetitive and tiny inputs (test/formats.spec.ts).
 */

const MAX_HASH_TABLE_BITS = 14;
const MAX_OFFSET = 0xffff;
const INPUT_MARGIN = 15;
const hashTables: (Uint32Array | undefined)[] = [];
let output = new Uint8Array(64 * 1024);

const hash = (key: number, shift: number): number => Math.imul(key, 0x1e35a7bd) >>> shift;

/**
 * `input` compressed. The bytes returned are a view of a buffer the next call reuses: a caller
 * copies them (as a page writer appending them does) before compressing again.
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  // Snappy's bound on its output: 32 + n + n/6, and the varint of the length.
  const most = 32 + n + Math.ceil(n / 6) + 5;
  if (output.length < most) output = new Uint8Array(Math.max(most, output.length * 2));
  const out = output;
  let o = 0;
  for (let v = n; ; ) {
    if (v < 0x80) {
      out[o++] = v;
      break;
    }
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }

  const literal = (from: number, length: number): void => {
    const value = length - 1;
    if (length <= 60) out[o++] = value << 2;
    else {
      const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4;
      out[o++] = (59 + bytes) << 2;
      for (let i = 0; i < bytes; i++) out[o++] = (value >>> (i * 8)) & 0xff;
    }
    if (length < 32) for (let i = 0; i < length; i++) out[o++] = input[from + i] as number;
    else {
      out.set(input.subarray(from, from + length), o);
      o += length;
    }
  };
  const copyUnder64 = (offset: number, length: number): void => {
    if (length < 12 && offset < 2048) {
      out[o++] = (1 + ((length - 4) << 2) + ((offset >>> 8) << 5)) & 0xff;
      out[o++] = offset & 0xff;
    } else {
      out[o++] = (2 + ((length - 1) << 2)) & 0xff;
      out[o++] = offset & 0xff;
      out[o++] = (offset >>> 8) & 0xff;
    }
  };
  const copy = (offset: number, length: number): void => {
    let left = length;
    while (left >= 68) {
      copyUnder64(offset, 64);
      left -= 64;
    }
    if (left > 64) {
      copyUnder64(offset, 60);
      left -= 60;
    }
    copyUnder64(offset, left);
  };

  let bits = 1;
  while (1 << bits <= n && bits <= MAX_HASH_TABLE_BITS) bits++;
  bits--;
  const shift = 32 - bits;
  let table = hashTables[bits];
  if (table === undefined) {
    table = new Uint32Array(1 << bits);
    hashTables[bits] = table;
  } else table.fill(0);

  // Four bytes at a time, little-endian (reads past the end only where the result goes unused: 0).
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const last4 = n - 4;
  const load32 = (i: number): number => (i <= last4 ? view.getInt32(i, true) : 0);
  const equals32 = (i: number, j: number): boolean => view.getInt32(i, true) === view.getInt32(j, true);
  let nextEmit = 0;
  if (n >= INPUT_MARGIN) {
    const ipLimit = n - INPUT_MARGIN;
    let ip = 1;
    let nextHash = hash(load32(ip), shift);
    outer: for (;;) {
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      do {
        ip = nextIp;
        const h = nextHash;
        const step = skip >>> 5;
        skip++;
        nextIp = ip + step;
        if (ip > ipLimit) break outer;
        nextHash = hash(load32(nextIp), shift);
        candidate = table[h] as number;
        table[h] = ip;
      } while (ip - candidate > MAX_OFFSET || !equals32(ip, candidate));

      literal(nextEmit, ip - nextEmit);
      do {
        const base = ip;
        let matched = 4;
        while (ip + matched <= last4 && view.getInt32(ip + matched, true) === view.getInt32(candidate + matched, true)) matched += 4;
        while (ip + matched < n && input[ip + matched] === input[candidate + matched]) matched++;
        ip += matched;
        copy(base - candidate, matched);
        nextEmit = ip;
        if (ip >= ipLimit) break outer;
        table[hash(load32(ip - 1), shift)] = ip - 1;
        const h = hash(load32(ip), shift);
        candidate = table[h] as number;
        table[h] = ip;
      } while (ip - candidate <= MAX_OFFSET && equals32(ip, candidate));
      ip++;
      nextHash = hash(load32(ip), shift);
    }
  }
  if (nextEmit < n) literal(nextEmit, n - nextEmit);
  return out.subarray(0, o);
}
