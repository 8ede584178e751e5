/**
 * Limits of one emit invocation; more events than this go through several invocations. Apart from
 * the request's parsing so the CLI's help can name them without loading it.
 */
export const EMIT_LIMITS = Object.freeze({
  MAX_STREAMS: 1000,
  MAX_EVENTS_PER_STREAM: 100_000,
  MAX_EVENTS: 1_000_000,
  MAX_EVENTS_PER_SECOND: 100_000,
  MIN_TIMEOUT_MS: 100,
  MAX_TIMEOUT_MS: 60_000,
});
