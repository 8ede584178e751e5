import { SingleBar, Presets } from "cli-progress";
import { BYTES_PER_MB } from "../src/core/limits";
import type { FileDoneListener } from "../src/files/run";

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
  const bar = new SingleBar({ stream: process.stderr, format: `{bar} {value}/{total} ${unit} | {rate} ${unit}/s | {duration_formatted}`, hideCursor: true }, Presets.shades_classic);
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

/**
 * The rate over the last second against a shape's target at this moment: what a shaped run's live
 * bar shows. `now` is injectable so the arithmetic is specified without a terminal.
 */
export class ShapeMeter {
  /** Events settled at each update within the last second. */
  private readonly recent: { t: number; n: number }[] = [];

  constructor(
    private readonly targetAt: (seconds: number) => number,
    private readonly startedAt: number,
  ) {}

  add(n: number, now: number): void {
    this.recent.push({ t: now, n });
  }

  /** Events per second over the last second (over the time so far in the first one), and the target now. */
  reading(now: number): { achieved: number; target: number } {
    while (this.recent.length > 0 && (this.recent[0] as { t: number }).t <= now - 1000) this.recent.shift();
    const events = this.recent.reduce((sum, r) => sum + r.n, 0);
    const span = Math.min(1000, now - this.startedAt);
    return { achieved: span > 0 ? Math.round((events * 1000) / span) : 0, target: Math.round(this.targetAt((now - this.startedAt) / 1000)) };
  }
}

/** The live bar of a shaped emit: events, the rate over the last second against the shape's target now. */
export function shapeBar(total: number, targetAt: (seconds: number) => number): { add(n: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { add: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ stream: process.stderr, format: "{bar} {value}/{total} events | {achieved}/s now, target {target}/s | {duration_formatted}", hideCursor: true }, Presets.shades_classic);
  const meter = new ShapeMeter(targetAt, performance.now());
  let done = 0;
  bar.start(total, 0, { achieved: 0, target: Math.round(targetAt(0)) });
  // Redrawn on a timer too, so a pause in sending shows as a falling rate.
  const timer = setInterval(() => bar.update(done, meter.reading(performance.now())), 250);
  timer.unref();
  return {
    add(n) {
      done += n;
      meter.add(n, performance.now());
      bar.update(done, meter.reading(performance.now()));
    },
    stop: () => {
      clearInterval(timer);
      bar.stop();
    },
  };
}
