/**
 * Names of the built-in datasets. Kept apart from their implementations so validation (in the
 * handler's main thread) does not load faker and the string pools; only worker threads do.
 */
export const DATASET_NAMES: readonly string[] = ["web-events"];
