import { ValidationError } from "../core/errors";
import { describe, eventObject, integerField, parseRunIdentity, stringField, type RequestContext } from "../core/fields";
import { INDEX_DEFAULTS, INDEX_LIMITS } from "./limits";

export { INDEX_DEFAULTS, INDEX_LIMITS };

export interface IndexRequest {
  readonly index: string;
  /** Hours of history ending with the hour of `endMs` (1: just that hour). */
  readonly hours: number;
  /** The catalogue's seed: fixed per deployment so hourly runs extend the same merchants' trends. */
  readonly seed: number;
  readonly runId: string;
  /** A moment inside the last hour indexed: the event's `time` (the schedule's), else now. */
  readonly endMs: number;
}

export interface IndexDefaults {
  readonly index: string;
  readonly seed: number;
}

const INDEX_FIELDS = ["index", "hours", "seed", "run_id", "time"];

/** Elasticsearch index names: lowercase, none of `\ / * ? " < > | , # :` or spaces, not starting with `- _ +`, at most 255 bytes. */
export function checkIndexName(field: string, name: string): string {
  if (name.length === 0 || Buffer.byteLength(name) > 255 || name !== name.toLowerCase() || /[\\/*?"<>|,#: ]/.test(name) || /^[-_+]/.test(name) || name === "." || name === "..") {
    throw new ValidationError(field, `${field} must be an Elasticsearch index name: lowercase, up to 255 bytes, no spaces or \\ / * ? " < > | , # :, not starting with - _ + (got ${describe(name)})`);
  }
  return name;
}

/**
 * Validates an index event: `{}` for the scheduled hour, `{"hours": 720}` for a 30-day backfill.
 * Throws a `ValidationError` naming the first bad field; nothing has been indexed.
 */
export function parseIndexRequest(event: unknown, defaults: IndexDefaults, ctx: RequestContext): IndexRequest {
  const e = eventObject(event, INDEX_FIELDS);
  const index = checkIndexName("index", stringField(e, "index") ?? defaults.index);
  const hours = integerField(e, "hours", 1, INDEX_LIMITS.MIN_HOURS, INDEX_LIMITS.MAX_HOURS);
  const identity = parseRunIdentity(e, ctx, { fixedSeed: defaults.seed, clockTime: true });
  const time = stringField(e, "time");
  return Object.freeze({
    index,
    hours,
    seed: identity.seed,
    runId: identity.runId,
    endMs: time !== undefined ? Date.parse(time) : ctx.now.getTime(),
  });
}
