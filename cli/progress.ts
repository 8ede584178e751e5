import { SingleBar, Presets } from "cli-progress";
import { BYTES_PER_MB } from "../src/limits";
import type { FileDoneListener } from "../src/run";

/** A live bar on stderr (files, MiB, MiB/s, ETA) when stderr is a terminal; nothing otherwise. */
export function progressBar(totalFiles: number): { onFileDone: FileDoneListener; stop(): void } {
  if (!process.stderr.isTTY) return { onFileDone: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: "{bar} {value}/{total} files | {mb} MiB | {rate} MiB/s | {failed} failed | {duration_formatted} | ETA {eta_formatted}",
      etaBuffer: 20,
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

/** A live bar on stderr for a count of items (events, documents) and their rate; nothing off a terminal. */
export function countBar(total: number, unit: string): { add(n: number): void; set(n: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { add: () => undefined, set: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { stream: process.stderr, format: `{bar} {value}/{total} ${unit} | {rate} ${unit}/s | {duration_formatted}`, hideCursor: true },
    Presets.shades_classic,
  );
  const started = performance.now();
  let done = 0;
  bar.start(total, 0, { rate: "0" });
  const update = () => {
    const seconds = (performance.now() - started) / 1000;
    bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
  };
  return {
    add(n) {
      done += n;
      update();
    },
    set(n) {
      done = n;
      update();
    },
    stop: () => bar.stop(),
  };
}
