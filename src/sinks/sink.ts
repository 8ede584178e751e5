import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { FileIdentity, RenderStats } from "../formats/file-identity";

/** A file of a run's plan: its identity and where it goes (the key under the sink). */
export interface PlannedFile extends FileIdentity {
  readonly key: string;
}

/** An S3 bucket (AWS, or any S3-compatible endpoint such as the embedded s3rver). */
export interface S3SinkSpec {
  readonly kind: "s3";
  readonly bucket: string;
  /** Custom endpoint URL; path-style addressing is used with it. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Attempts per request, the first included (default `S3_MAX_ATTEMPTS`); specs of an endpoint that keeps failing lower it. */
  readonly maxAttempts?: number;
  /**
   * Where a file larger than a part is rendered once before its multipart upload (its
   * `record_count` and `sha256` go with the upload's start): the system's temporary folder by
   * default (Lambda's ephemeral storage); `false` renders it twice instead, keeping nothing on disk.
   */
  readonly spillDir?: string | false;
}

/** A folder on the local disk; keys become relative paths inside it. */
export interface LocalSinkSpec {
  readonly kind: "local";
  readonly dir: string;
}

/** Where a run writes: plain data, so it crosses into worker threads. */
export type SinkSpec = S3SinkSpec | LocalSinkSpec;

/** Writes whole files. A file either arrives complete under its key or not at all. */
export interface FileSink {
  write(file: PlannedFile): Promise<RenderStats>;
  /**
   * The stats of the file if it is already there, complete and from this run identity (for
   * resuming a run); undefined when it is missing or is not this file.
   */
  existing(file: PlannedFile): Promise<RenderStats | undefined>;
  /** Small JSON documents beside the data: shard results and run manifests. */
  putJson(key: string, value: unknown): Promise<void>;
  getJson(key: string): Promise<unknown>;
  /**
   * Keys under a prefix in ascending order, stopping after `last` when given. S3 answers 403, not
   * 404, for a missing key to a role without an unconditional `s3:ListBucket`, so whether a key
   * exists is learned by listing (see `presentKeys`), never by reading it. `sizes`, when given,
   * receives each listed key's size in bytes.
   */
  list(prefix: string, last?: string, sizes?: Map<string, number>): Promise<string[]>;
  /** Bytes beside the data (verify's digests of a slice): written whole under the key. */
  putBytes(key: string, bytes: Uint8Array): Promise<void>;
  /** An object's text, or undefined when there is none; only its first `maxBytes + 1` bytes when given. */
  getText(key: string, maxBytes?: number): Promise<string | undefined>;
  /** An object's bytes from `start` on as a stream, never held whole (how `verify` reads a pipeline's output, or a piece of it). */
  stream(key: string, start?: number): Promise<NodeJS.ReadableStream>;
  /** An object's size in bytes, and bytes [start, end) of it: a Parquet file is read by its footer and row groups. */
  size(key: string): Promise<number>;
  range(key: string, start: number, end: number): Promise<Uint8Array>;
  remove(key: string): Promise<void>;
  /**
   * Removes what interrupted writes of these keys left behind (a local temporary file, an S3
   * multipart upload that was never completed); returns how many it removed.
   */
  cleanUp(keys: readonly string[]): Promise<number>;
}

/**
 * How a response names where the files went: `bucket` and `s3_uri` for S3 (the original
 * generator's response), `folder` and `path` for a local folder.
 */
export function sinkLocation(spec: SinkSpec): {
  where: { bucket: string } | { folder: string };
  uri(key: string): string;
  fileFields(key: string): { s3_uri: string } | { path: string };
} {
  if (spec.kind === "s3") {
    const uri = (key: string) => `s3://${spec.bucket}/${key}`;
    return { where: { bucket: spec.bucket }, uri, fileFields: (key) => ({ s3_uri: uri(key) }) };
  }
  const uri = (key: string) => join(spec.dir, key);
  return { where: { folder: spec.dir }, uri, fileFields: (key) => ({ path: uri(key) }) };
}

/** The longest prefix all of these strings share. */
export function commonPrefix(keys: readonly string[]): string {
  if (keys.length === 0) return "";
  let prefix = keys[0] as string;
  for (const k of keys) {
    let i = 0;
    while (i < prefix.length && i < k.length && prefix[i] === k[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/**
 * Which of these keys exist, learned by listing their common prefix up to the last of them —
 * one request per 1,000 keys listed, and allowed by a listing permission scoped to the prefix.
 */
export async function presentKeys(sink: FileSink, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const wanted = new Set(keys);
  const last = [...keys].sort().at(-1) as string;
  return new Set((await sink.list(commonPrefix(keys), last)).filter((k) => wanted.has(k)));
}

/**
 * A large file is rendered into a ring of this size (RenderOptions.ring) by a sink that writes
 * out or copies each chunk before it asks for the next, instead of into a new Buffer per chunk.
 */
export const RING_BYTES = 1024 * 1024;

/** Writes all of `chunk` at the handle's position: a write may take less than it was given (none at all is an error, not a retry). */
export async function writeFully(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let at = 0; at < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
    if (bytesWritten === 0) throw new Error(`a write took none of ${chunk.length - at} bytes`);
    at += bytesWritten;
  }
}
