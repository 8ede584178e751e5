/**
 * Per-invocation limits. `MAX_FILE_COUNT` keeps keys in the seed's four-digit `test{seq:04d}`
 * form; `MAX_TARGET_SIZE_MB` is what one 10 GB Lambda invocation streams comfortably inside its
 * 15 minutes even at the conservative rate below. The minimum size leaves room for a few records
 * so files can land exactly on their target. Bigger runs go through the fan-out.
 */
export const LIMITS = Object.freeze({
  MIN_FILE_COUNT: 1,
  MAX_FILE_COUNT: 10_000,
  MIN_TARGET_SIZE_MB: 0.01,
  MAX_TARGET_SIZE_MB: 1024,
  MAX_RUN_ID_LENGTH: 128,
  MAX_KEY_PREFIX_LENGTH: 512,
});

/** Sizes are MiB, as in the original generator (3.5 MB = 3,670,016 bytes). */
export const BYTES_PER_MB = 1024 * 1024;

const UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** A byte count as people read it: `1.4 MiB`, `3.0 PiB` (binary units, one decimal). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Files one thread works on at once: the next file renders while the previous ones are still on
 * their way (to S3 that doubled the overlap of rendering and sending; sinks bound the memory this
 * costs — see `S3Sink`). Three, not two: with one file rendering at a time, two left the thread
 * idle whenever both earlier files still waited on S3 — 30 × 3.5 MiB to s3rver on one thread,
 * 7 alternated rounds, 111 → 127 MiB/s median; 2 threads and their peak RSS unchanged
 * (bench/generate-run.js).
 */
export const TASKS_PER_THREAD = 3;
