import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { threadId } from "node:worker_threads";
import type { PlannedFile } from "../plan";
import { renderFile, type RenderStats } from "../render";
import type { FileSink, LocalSinkSpec } from "./sink";

/**
 * Writes each file to a temporary name beside its target and renames it into place when
 * complete, so a reader never sees a partial file and a failed write leaves nothing.
 */
export class LocalSink implements FileSink {
  constructor(private readonly spec: LocalSinkSpec) {}

  async write(file: PlannedFile): Promise<RenderStats> {
    const target = join(this.spec.dir, file.key);
    const temp = `${target}.${process.pid}-${threadId}.partial`;
    await mkdir(dirname(target), { recursive: true });
    const rendered = renderFile(file);
    try {
      await pipeline(Readable.from(rendered.chunks, { highWaterMark: 1 }), createWriteStream(temp));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw new Error(`writing ${target} failed: ${(err as Error).message}`, { cause: err });
    }
    return rendered.stats;
  }
}
