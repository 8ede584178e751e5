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

/**
 * Files one thread works on at once: the next file renders while the previous one is still on
 * its way (to S3 that doubled the overlap of rendering and sending; sinks bound the memory this
 * costs — see `S3Sink`).
 */
export const TASKS_PER_THREAD = 2;
