import { type FileHandle, open, readdir, rm, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { threadId } from "node:worker_threads";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { RenderStats } from "../formats/file-identity";
import { renderFile } from "../formats/render";
import { FORMAT_INFO } from "../formats";
import { BYTES_PER_MB, TASKS_PER_THREAD } from "../core/limits";
import { Slots } from "../core/slots";
import { commonPrefix, type FileSink, type PlannedFile, RING_BYTES, type S3SinkSpec, writeFully } from "./sink";

/**
 * Multipart part size and parts in flight per file (each part filled in, and sent from, one of
 * the thread's arenas).
 */
export const PART_SIZE = 8 * BYTES_PER_MB;
export const UPLOAD_QUEUE_SIZE = 2;

/**
 * The memory of one thread's uploads: a whole file holds one slot, a multipart upload all of
 * them. A thread so holds at most TASKS_PER_THREAD whole files (an arena each) or one multipart
 * upload's UPLOAD_QUEUE_SIZE parts (an arena each), never both: at most TASKS_PER_THREAD arenas.
 */
const threadUploads = new Slots(TASKS_PER_THREAD);
/**
 * One whole file renders at a time in a thread, while the other in flight is sent: rendered side
 * by side, chunk about chunk, both finished together and then both waited on S3 with the thread
 * idle (a quarter of a 1-thread run's profile).
 */
const threadRenders = new Slots(1);
/**
 * Spill files a thread keeps at once: the one being sent and the next, made meanwhile. Each holds
 * its file's size on the local disk until its upload ends.
 */
const threadSpills = new Slots(2);

/**
 * Whole files are rendered into buffers kept for the thread's next files (at most one per slot),
 * and a multipart upload's parts are read into them, instead of a fresh multi-MiB allocation per
 * file or part: that garbage was 12% of a 1-thread S3 run, and a 256 MiB file's parts made fresh
 * for each (lib-storage's chunker, a 9 MiB `Buffer.concat` a part) cost it a fifth of its speed
 * and 40 MB of RSS (docs/performance.md).
 */
const ARENA_BYTES = PART_SIZE + 64 * 1024;
/**
 * The most a file sent whole may hold. A file with a byte target is never more than a record over
 * it; a scenario's file can be (its parents' children vary), and past this it is streamed in parts.
 */
const WHOLE_BYTES = 2 * PART_SIZE;
/** The thread's arenas not in use: a whole file's, or a multipart upload's part being sent (never both at once, see threadUploads). */
const idleArenas: Buffer[] = [];

/** Runs `use` with one of the thread's arenas, given back to the thread when it is done. */
async function withArena<T>(use: (arena: Buffer) => Promise<T>): Promise<T> {
  const arena = idleArenas.pop() ?? Buffer.allocUnsafe(ARENA_BYTES);
  try {
    return await use(arena);
  } finally {
    idleArenas.push(arena);
  }
}

/** Attempts per S3 request, the first included: at a 20% SlowDown rate, 0.2^10 ≈ 1e-7 of requests fail. */
export const S3_MAX_ATTEMPTS = 10;

/** Metadata value kept from the original generator: downstream filters may match on it. */
const GENERATOR = "test-data-lambda";

/** Thrown when the second rendering of a file differs from the first: a determinism bug. */
class NondeterministicOutputError extends Error {
  override readonly name = "NondeterministicOutputError";
}

/**
 * Writes each file with one PutObject when it fits in a part, else with one multipart upload,
 * aborted on failure so no partial object is left.
 */
export class S3Sink implements FileSink {
  private readonly client: S3Client;

  constructor(private readonly spec: S3SinkSpec) {
    this.client = new S3Client({
      region: spec.region ?? process.env.AWS_REGION ?? "us-east-1",
      // S3 throttles with 503 SlowDown while a prefix scales up. The SDK's default (3 attempts,
      // standard mode) lost 3 of 60 files at a 20% SlowDown rate; adaptive mode also slows this
      // client's sending down while it is being throttled.
      retryMode: "adaptive",
      maxAttempts: spec.maxAttempts ?? S3_MAX_ATTEMPTS,
      ...(spec.endpoint ? { endpoint: spec.endpoint, forcePathStyle: true } : {}),
    });
  }

  async write(file: PlannedFile): Promise<RenderStats> {
    if (file.targetBytes <= PART_SIZE) {
      const whole = await threadUploads.hold(1, () => this.putWhole(file));
      if (whole) return whole;
      // Larger than planned (a scenario's file holds whole parents, and their children vary): streamed in parts.
    }
    if (this.spec.spillDir === false) return threadUploads.hold(TASKS_PER_THREAD, () => this.uploadInParts(file, undefined));
    const dir = this.spec.spillDir ?? tmpdir();
    // Spilled in the thread's render turn, outside the upload slots: the next large file renders
    // while the one before it is still being sent. Where the disk has room for one of them only,
    // the next waits for the one before it to be gone rather than be rendered twice.
    const beside = await threadSpills.hold(1, () => this.spillAndUpload(file, dir, false));
    if (beside) return beside;
    // Alone, it renders twice where there is no room, so it always answers.
    return (await threadSpills.hold(2, () => this.spillAndUpload(file, dir, true))) as RenderStats;
  }

  /** Undefined, with nothing sent, when not `alone` and the disk has no room for the file beside the thread's other spill file. */
  private async spillAndUpload(file: PlannedFile, dir: string, alone: boolean): Promise<RenderStats | undefined> {
    const spilled = await threadRenders.hold(1, () => spill(file, dir));
    if (spilled === NO_ROOM && !alone) return undefined;
    const made = spilled === NO_ROOM ? undefined : spilled;
    try {
      return await threadUploads.hold(TASKS_PER_THREAD, () => this.uploadInParts(file, made));
    } finally {
      if (made) await rm(made.path, { force: true });
    }
  }

  /**
   * A file that fits in a part: rendered once into one Buffer, sent with one PutObject that
   * carries the SHA-256 already computed while rendering — as the signed payload hash and as the
   * object's `x-amz-checksum-sha256`, so S3 checks the bytes it stored against it and the SDK
   * neither hashes the body again to sign it nor adds a CRC32 of its own.
   */
  private putWhole(file: PlannedFile): Promise<RenderStats | undefined> {
    return withArena((arena) => this.putRendered(file, arena));
  }

  /** Undefined, with nothing sent, when the file turns out larger than WHOLE_BYTES. */
  private async putRendered(file: PlannedFile, arena: Buffer): Promise<RenderStats | undefined> {
    const rendered = renderFile(file, { arena });
    const chunks: Buffer[] = [];
    const whole = await threadRenders.hold(1, async () => {
      let held = 0;
      for (const chunk of rendered.chunks) {
        chunks.push(chunk);
        held += chunk.length;
        if (held > WHOLE_BYTES) return false;
        // Between chunks the thread sends what the other upload in flight still has to send.
        await new Promise(setImmediate);
      }
      return true;
    });
    if (!whole) return undefined;
    const stats = rendered.stats;
    const inArena = chunks.every((c) => c.buffer === arena.buffer) && stats.bytes <= arena.length;
    return this.putBody(file, stats, inArena ? arena.subarray(0, stats.bytes) : Buffer.concat(chunks, stats.bytes));
  }

  /** One PutObject of a whole file's bytes, with its metadata and the SHA-256 already computed. */
  private async putBody(file: PlannedFile, stats: RenderStats, body: Buffer): Promise<RenderStats> {
    const command = new PutObjectCommand({
      ...this.objectParams(file, stats),
      Body: body,
      ContentLength: stats.bytes,
      ChecksumSHA256: Buffer.from(stats.sha256, "hex").toString("base64"),
    });
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers["x-amz-content-sha256"] = stats.sha256;
        return next(args);
      },
      { step: "build", name: "knownPayloadSha256" },
    );
    try {
      await this.client.send(command);
    } catch (err) {
      throw uploadFailed(this.spec.bucket, file.key, err);
    }
    return stats;
  }

  /**
   * A file larger than a part: S3 metadata is fixed when a multipart upload starts, but
   * `record_count` and `sha256` are only known at the end. So the file is rendered once into a
   * spill file on local disk (counted and hashed on the way), then its parts are read from there;
   * never held whole in memory. Where the disk has no room for it (or `spillDir` is false) it is
   * rendered twice instead — once to count and hash, once into its parts, checked against the
   * first hash before the final part leaves: deterministic rendering makes both the same bytes.
   * The caller made the spill file (`write`) and removes it.
   */
  private async uploadInParts(file: PlannedFile, spilled: Spilled | undefined): Promise<RenderStats> {
    if (spilled) {
      const handle = await open(spilled.path, "r");
      try {
        return await this.sendParts(file, spilled.stats, (into, index) => readFully(handle, into, index * PART_SIZE));
      } finally {
        await handle.close();
      }
    }
    const counted = renderFile(file, { ring: Buffer.allocUnsafe(RING_BYTES) });
    let n = 0;
    // Hand the thread back now and then: the counting pass of a large file takes seconds.
    for (const _ of counted.chunks) if (++n % 16 === 0) await new Promise(setImmediate);
    return this.sendParts(file, counted.stats, inOrder(file, counted.stats.sha256));
  }

  /**
   * One multipart upload of a file whose bytes and metadata are known: parts of PART_SIZE, at most
   * UPLOAD_QUEUE_SIZE in flight, each filled by `fill` into an arena of the thread and sent from
   * it (no Buffer per part: a fresh 8 MiB Buffer costs more in page faults than the copy into it).
   * On the first failure no further part starts and the upload is aborted, so S3 keeps no parts.
   */
  private async sendParts(file: PlannedFile, stats: RenderStats, fill: PartFill): Promise<RenderStats> {
    if (stats.bytes <= PART_SIZE) {
      // Smaller than planned (a scenario's file): one part is the whole file, sent as one PutObject.
      return withArena(async (arena) => {
        const body = arena.subarray(0, stats.bytes);
        await fill(body, 0, true);
        return this.putBody(file, stats, body);
      });
    }
    const Bucket = this.spec.bucket;
    const Key = file.key;
    const failed = (err: unknown) => uploadFailed(Bucket, Key, err);
    let UploadId: string | undefined;
    try {
      // CRC32 for each part and for the whole, as the SDK's own multipart upload asks by default.
      ({ UploadId } = await this.client.send(new CreateMultipartUploadCommand({ ...this.objectParams(file, stats), ChecksumAlgorithm: "CRC32" })));
    } catch (err) {
      throw failed(err);
    }
    const count = Math.ceil(stats.bytes / PART_SIZE);
    const parts: CompletedPart[] = [];
    let next = 0;
    let failure: unknown;
    const sender = () =>
      withArena(async (arena) => {
        try {
          while (failure === undefined && next < count) {
            const index = next++;
            const body = arena.subarray(0, Math.min(PART_SIZE, stats.bytes - index * PART_SIZE));
            await fill(body, index, index === count - 1);
            if (failure !== undefined) return;
            const out = await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: index + 1, Body: body, ContentLength: body.length, ChecksumAlgorithm: "CRC32" }));
            parts[index] = { PartNumber: index + 1, ETag: out.ETag, ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}) };
          }
        } catch (err) {
          failure ??= err;
        }
      });
    await Promise.all(Array.from({ length: Math.min(UPLOAD_QUEUE_SIZE, count) }, sender));
    try {
      if (failure !== undefined) throw failure;
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      // Best effort: what an abort leaves behind (S3 down) is what `cleanUp` and a bucket's lifecycle rule remove.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw err instanceof NondeterministicOutputError ? err : failed(err);
    }
    return stats;
  }

  private objectParams(file: PlannedFile, stats: RenderStats) {
    return {
      Bucket: this.spec.bucket,
      Key: file.key,
      ContentType: FORMAT_INFO[file.format ?? "ndjson"].contentType,
      ...(FORMAT_INFO[file.format ?? "ndjson"].contentEncoding ? { ContentEncoding: FORMAT_INFO[file.format ?? "ndjson"].contentEncoding } : {}),
      Metadata: {
        generator: GENERATOR,
        date_prefix: file.datePrefix,
        record_count: String(stats.records),
        file_size_mb: String(Math.round((stats.bytes / BYTES_PER_MB) * 100) / 100),
        dataset: file.dataset,
        seed: String(file.seed),
        run_id: file.runId,
        sha256: stats.sha256,
        ...(file.format && file.format !== "ndjson" ? { format: file.format, uncompressed_bytes: String(stats.uncompressedBytes ?? stats.bytes) } : {}),
      },
    };
  }

  /**
   * A complete object of this file: S3 shows an object only once its upload completed, and the
   * metadata written with it names the run identity and the SHA-256 of its bytes. Same identity,
   * same bytes, so a match needs no download.
   */
  async existing(file: PlannedFile): Promise<RenderStats | undefined> {
    let head;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.spec.bucket, Key: file.key }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new Error(`checking s3://${this.spec.bucket}/${file.key} failed: ${describeError(err)}`, { cause: err });
    }
    const m = head.Metadata ?? {};
    const same = m.run_id === file.runId && m.seed === String(file.seed) && m.dataset === file.dataset && m.date_prefix === file.datePrefix;
    if (!same || !m.sha256 || !m.record_count || head.ContentLength === undefined) return undefined;
    return {
      bytes: head.ContentLength,
      records: Number(m.record_count),
      sha256: m.sha256,
      ...(m.uncompressed_bytes !== undefined ? { uncompressedBytes: Number(m.uncompressed_bytes) } : {}),
    };
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.spec.bucket, Key: key, Body: `${JSON.stringify(value, null, 2)}\n`, ContentType: "application/json" }));
  }

  async getJson(key: string): Promise<unknown> {
    const text = await this.getText(key);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.spec.bucket, Key: key, Body: bytes, ContentType: "application/octet-stream" }));
    } catch (err) {
      throw new Error(`writing s3://${this.spec.bucket}/${key} failed: ${describeError(err)}`, { cause: err });
    }
  }

  async list(prefix: string, last?: string, sizes?: Map<string, number>): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.spec.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          if (last !== undefined && o.Key > last) return keys;
          keys.push(o.Key);
          sizes?.set(o.Key, o.Size ?? 0);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw new Error(`listing s3://${this.spec.bucket}/${prefix} failed: ${describeError(err)}`, { cause: err });
    }
    return keys;
  }

  async getText(key: string, maxBytes?: number): Promise<string | undefined> {
    try {
      const range = maxBytes === undefined ? {} : { Range: `bytes=0-${maxBytes}` };
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: key, ...range }));
      return await (out.Body as { transformToString(): Promise<string> }).transformToString();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new Error(`reading s3://${this.spec.bucket}/${key} failed: ${describeError(err)}`, { cause: err });
    }
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.spec.bucket, Key: key }));
  }

  async stream(key: string, start = 0): Promise<NodeJS.ReadableStream> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: key, ...(start > 0 ? { Range: `bytes=${start}-` } : {}) }));
      return out.Body as Readable;
    } catch (err) {
      throw new Error(`reading s3://${this.spec.bucket}/${key} failed: ${describeError(err)}`, { cause: err });
    }
  }

  async size(key: string): Promise<number> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.spec.bucket, Key: key }))).ContentLength ?? 0;
    } catch (err) {
      throw new Error(`reading s3://${this.spec.bucket}/${key} failed: ${describeError(err)}`, { cause: err });
    }
  }

  async range(key: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      return await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    } catch (err) {
      throw new Error(`reading s3://${this.spec.bucket}/${key} failed: ${describeError(err)}`, { cause: err });
    }
  }

  /** Aborts the multipart uploads of these keys that were started and never completed. */
  async cleanUp(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const wanted = new Set(keys);
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.spec.bucket, Prefix: commonPrefix(keys), KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      for (const u of page.Uploads ?? []) {
        if (u.Key === undefined || u.UploadId === undefined || !wanted.has(u.Key)) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.spec.bucket, Key: u.Key, UploadId: u.UploadId }));
        aborted++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return aborted;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}

/** Room a spill file needs beyond its target: a scenario's file can run over it (its parents' children vary), and the disk is shared. */
const SPILL_MARGIN_BYTES = 64 * BYTES_PER_MB;
const SPILL_NAME = /^synthgen-(\d+)-\d+-\d+\.spill$/;
let spills = 0;
/** Folders already swept of spill files that outlived their process. */
const swept = new Set<string>();

/**
 * Removes spill files of processes that are gone — an invocation Lambda stopped at its timeout
 * leaves its file in /tmp, which the next invocations of that environment share — once per folder.
 * A live process's files (another synthgen on the same machine) are left alone.
 */
async function sweepStale(dir: string): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(SPILL_NAME.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") await rm(join(dir, name), { force: true });
    }
  }
}

interface Spilled {
  readonly path: string;
  readonly stats: RenderStats;
}

/** What `spill` says when the disk has too little room for the file now. */
const NO_ROOM = "no room";

/**
 * Renders a file once into a file under `dir`, counted and hashed as it goes: its path and stats;
 * NO_ROOM (nothing left behind) when the disk has no room for it now; undefined when the folder
 * cannot be used. Without a spill file the caller renders twice.
 */
async function spill(file: PlannedFile, dir: string): Promise<Spilled | typeof NO_ROOM | undefined> {
  await sweepStale(dir);
  try {
    const fs = await statfs(dir);
    if (fs.bavail * fs.bsize < file.targetBytes + SPILL_MARGIN_BYTES) return NO_ROOM;
  } catch {
    return undefined;
  }
  const path = join(dir, `synthgen-${process.pid}-${threadId}-${spills++}.spill`);
  let handle: FileHandle | undefined;
  let created = false;
  try {
    handle = await open(path, "wx", 0o600);
    created = true;
    const rendered = renderFile(file, { ring: Buffer.allocUnsafe(RING_BYTES) });
    for (const chunk of rendered.chunks) {
      // Written before the next chunk is made: the renderer fills the same ring again.
      await writeFully(handle, chunk);
    }
    await handle.close();
    handle = undefined;
    return { path, stats: rendered.stats };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    // Only a file this call made: a name someone else holds (EEXIST) is theirs.
    if (created) await rm(path, { force: true });
    // Out of room after all, the folder unusable, or the name taken: the file is rendered twice instead.
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code === "ENOSPC" || code === "EDQUOT") return NO_ROOM;
    if (["EACCES", "EROFS", "ENOENT", "EEXIST"].includes(code)) return undefined;
    throw err;
  }
}

/** Fills `into` with part `index` of a file (the last one when `last`). */
type PartFill = (into: Buffer, index: number, last: boolean) => Promise<void> | void;

/** Reads `into.length` bytes of a file at `position`. */
async function readFully(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  for (let at = 0; at < into.length; ) {
    const { bytesRead } = await handle.read(into, at, into.length - at, position + at);
    if (bytesRead === 0) throw new Error(`the spill file ended ${position + at} bytes in, before its part did`);
    at += bytesRead;
  }
}

/**
 * The file's parts rendered again, in order: each part filled from the chunks as they are made
 * (synchronously, so two senders never take chunks of the same part). Fails before the last part
 * is sent if the bytes hash differently this time or come out longer or shorter.
 */
function inOrder(file: PlannedFile, expectedSha256: string): PartFill {
  const again = renderFile(file, { ring: Buffer.allocUnsafe(RING_BYTES) });
  const chunks = again.chunks[Symbol.iterator]();
  let rest: Buffer = Buffer.alloc(0);
  let expected = 0;
  const differs = (how: string) => new NondeterministicOutputError(`${file.key} rendered ${how} on its upload pass`);
  return (into, index, last) => {
    if (index !== expected++) throw new Error(`part ${index + 1} of ${file.key} asked for out of order`);
    for (let at = 0; at < into.length; ) {
      if (rest.length === 0) {
        const made = chunks.next();
        if (made.done) throw differs("shorter");
        rest = made.value;
      }
      const copied = rest.copy(into, at);
      at += copied;
      rest = rest.subarray(copied);
    }
    if (!last) return;
    // That was the file's last part: its rendering must end here too.
    for (;;) {
      if (rest.length > 0) throw differs("longer");
      const made = chunks.next();
      if (made.done) break;
      rest = made.value;
    }
    if (again.stats.sha256 !== expectedSha256) throw differs("differently");
  };
}

/** The error of a failed upload: the object it was for, and what S3 (or the network) said. */
function uploadFailed(bucket: string, key: string, err: unknown): Error {
  return new Error(`upload of s3://${bucket}/${key} failed: ${describeError(err)}`, { cause: err });
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return `${err.name}: ${err.message}${status ? ` (HTTP ${status})` : ""}`;
}
