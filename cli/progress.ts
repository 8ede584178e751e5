import { SingleBar, Presets } from "cli-progress";
import { BYTES_PER_MB } from "../src/limits";
import type { FileDoneListener } from "../src/run";

/** A live bar on stderr (files, MB, MB/s) when stderr is a terminal; nothing otherwise. */
export function progressBar(totalFiles: number): { onFileDone: FileDoneListener; stop(): void } {
  if (!process.stderr.isTTY) return { onFileDone: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: "{bar} {value}/{total} files | {mb} MB | {rate} MB/s | {failed} failed | {duration_formatted}",
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const started = performance.now();
  let bytes = 0;
  let failed = 0;
  bar.start(totalFiles, 0, { mb: "0.0", rate: "0.0", failed: 0 });
  return {
    onFileDone(result) {
      if ("bytes" in result) bytes += result.bytes;
      else failed += 1;
      const mb = bytes / BYTES_PER_MB;
      const seconds = (performance.now() - started) / 1000;
      bar.increment(1, { mb: mb.toFixed(1), rate: (seconds > 0 ? mb / seconds : 0).toFixed(1), failed });
    },
    stop: () => bar.stop(),
  };
}
