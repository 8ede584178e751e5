import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { threadId } from "node:worker_threads";
import type { RenderStats } from "../formats/file-identity";
import { renderFile } from "../formats/render";
import { type FileSink, type PlannedFile, type LocalSinkSpec, RING_BYTES, writeFully } from "./sink";

/**
 * Writes each file to a temporary name beside its target and renames it into place when
 * complete, so a reader never sees a partial file and a failed write leaves nothing.
 */
export class LocalSink implements FileSink {
  constructor(private readonly spec: LocalSinkSpec) {}

  async write(file: PlannedFile): Promise<RenderStats> {
    const target = join(this.spec.dir, file.key);
    const temp = `${target}.${process.pid}-${threadId}${PARTIAL_SUFFIX}`;
    await mkdir(dirname(target), { recursive: true });
    const rendered = renderFile(file, { ring: Buffer.allocUnsafe(RING_BYTES) });
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, "w");
      // Each chunk written before the next is made: the renderer fills the same ring again.
      for (const chunk of rendered.chunks) await writeFully(handle, chunk);
      await handle.close();
      handle = undefined;
      await rename(temp, target);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw new Error(`writing ${target} failed: ${(err as Error).message}`, { cause: err });
    }
    return rendered.stats;
  }

  /** A local file has no metadata: it is this file when its bytes hash like a fresh rendering. */
  async existing(file: PlannedFile): Promise<RenderStats | undefined> {
    const target = join(this.spec.dir, file.key);
    const size = await stat(target).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) return undefined;
    const expected = renderFile(file);
    for (const _ of expected.chunks);
    if (expected.stats.bytes !== size) return undefined;
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(target)) hash.update(chunk as Buffer);
    return hash.digest("hex") === expected.stats.sha256 ? expected.stats : undefined;
  }

  async putJson(key: string, value: unknown): Promise<void> {
    const target = join(this.spec.dir, key);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.partial`, `${JSON.stringify(value, null, 2)}\n`);
    await rename(`${target}.partial`, target);
  }

  async getJson(key: string): Promise<unknown> {
    const text = await this.getText(key);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    const target = join(this.spec.dir, key);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.partial`, bytes);
    await rename(`${target}.partial`, target);
  }

  async list(prefix: string, last?: string, sizes?: Map<string, number>): Promise<string[]> {
    const slash = prefix.lastIndexOf("/");
    const base = join(this.spec.dir, prefix.slice(0, slash + 1));
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    const keys = entries
      .filter((e) => e.isFile() && !e.name.endsWith(".partial"))
      .map((e) => relative(this.spec.dir, join(e.parentPath, e.name)).split(sep).join("/"))
      .filter((key) => key.startsWith(prefix) && (last === undefined || key <= last))
      .sort();
    if (sizes) for (const key of keys) sizes.set(key, (await stat(join(this.spec.dir, key))).size);
    return keys;
  }

  async getText(key: string, maxBytes?: number): Promise<string | undefined> {
    try {
      return await readText(join(this.spec.dir, key), maxBytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.spec.dir, key), { force: true });
  }

  async stream(key: string, start = 0): Promise<NodeJS.ReadableStream> {
    const path = join(this.spec.dir, key);
    // Opened here, so a file that cannot be read fails this call rather than the first read.
    const handle = await open(path, "r");
    return handle.createReadStream({ highWaterMark: 1 << 20, start });
  }

  async size(key: string): Promise<number> {
    return (await stat(join(this.spec.dir, key))).size;
  }

  async range(key: string, start: number, end: number): Promise<Uint8Array> {
    const handle = await open(join(this.spec.dir, key), "r");
    try {
      const buffer = Buffer.alloc(Math.max(0, end - start));
      let read = 0;
      while (read < buffer.length) {
        const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return buffer.subarray(0, read);
    } finally {
      await handle.close();
    }
  }

  /** This process's temporary files for these keys (its threads were stopped mid-write). */
  async cleanUp(keys: readonly string[]): Promise<number> {
    const wanted = new Set(keys.map((k) => join(this.spec.dir, k)));
    let removed = 0;
    for (const partial of await partialFiles(this.spec.dir)) {
      if (partial.pid === process.pid && wanted.has(partial.target)) {
        await rm(partial.path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

/** A file's text; only its first `maxBytes + 1` bytes when given, so an oversized file is never read whole. */
export async function readText(path: string, maxBytes?: number): Promise<string> {
  if (maxBytes === undefined) return readFile(path, "utf8");
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes + 1, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

const PARTIAL_SUFFIX = ".partial";
const PARTIAL_NAME = /^(.*)\.(\d+)-(\d+)\.partial$/;

/** The temporary files of unfinished writes under a folder: `{target}.{pid}-{thread}.partial`. */
export async function partialFiles(dir: string): Promise<{ path: string; target: string; pid: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.flatMap((e) => {
    const m = e.isFile() ? PARTIAL_NAME.exec(e.name) : null;
    if (!m) return [];
    const path = join(e.parentPath, e.name);
    return [{ path, target: join(e.parentPath, m[1] as string), pid: Number(m[2]) }];
  });
}

/** Whether a process is still running (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the temporary files that runs which no longer exist (killed, crashed) left under a folder. */
export async function removeStalePartials(dir: string): Promise<number> {
  let removed = 0;
  for (const partial of await partialFiles(dir)) {
    if (partial.pid !== process.pid && !alive(partial.pid)) {
      await rm(partial.path, { force: true });
      removed++;
    }
  }
  return removed;
}
