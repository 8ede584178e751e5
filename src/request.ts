import { DATASET_NAMES } from "./datasets/names";
import { ValidationError } from "./errors";
import {
  IDENTITY_FIELDS,
  choiceField,
  describe,
  eventObject,
  integerField,
  numberField,
  parseRunIdentity,
  stringField,
  type RequestContext,
} from "./fields";
import { LIMITS } from "./limits";

export { isRealDate, type RequestContext } from "./fields";

/** A generate request after validation: every field present, typed and within its limits. */
export interface GenerateRequest {
  readonly fileCount: number;
  readonly targetSizeMb: number;
  readonly datePrefix: string;
  readonly dataset: string;
  readonly seed: number;
  readonly runId: string;
  /** `HHMMSS` in the keys: from the event's `time`, else derived from the run id. */
  readonly hhmmss: string;
  /** The request's own prefix (normalised to end with `/`), placed under the configured one. */
  readonly keyPrefix: string;
}

/** Values that apply when the event leaves a field out (the stack config's defaults). */
export interface RequestDefaults {
  readonly fileCount: number;
  readonly targetSizeMb: number;
}

const EVENT_FIELDS = ["file_count", "target_size_mb", "dataset", "key_prefix", ...IDENTITY_FIELDS];
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9!_.*'()=/-]*$/;

/** Normalises a key prefix to end with `/` (empty stays empty); rejects unsafe ones. */
export function normaliseKeyPrefix(field: string, prefix: string): string {
  if (prefix.length > LIMITS.MAX_KEY_PREFIX_LENGTH) {
    throw new ValidationError(field, `${field} must be at most ${LIMITS.MAX_KEY_PREFIX_LENGTH} characters (got ${prefix.length})`);
  }
  if (prefix.startsWith("/") || prefix.split("/").includes("..") || prefix.includes("//") || !KEY_PREFIX_PATTERN.test(prefix)) {
    throw new ValidationError(
      field,
      `${field} must be a relative S3 key prefix: letters, digits and ! _ . * ' ( ) = - /, no leading "/", no "//" and no ".." segment (got ${describe(prefix)})`,
    );
  }
  return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}

/**
 * Validates a generate event (Lambda payload or CLI flags in the same snake_case form) and fills
 * in defaults. Throws a `ValidationError` naming the first bad field; nothing has been written.
 *
 * Identity: `run_id` defaults to the EventBridge event id or Lambda's request id (both survive
 * retries), so a retried invocation writes the same keys and bytes and overwrites instead of
 * adding files. `seed` and the keys' `HHMMSS` default to values derived from the run id.
 */
export function parseGenerateRequest(event: unknown, defaults: RequestDefaults, ctx: RequestContext): GenerateRequest {
  const e = eventObject(event, EVENT_FIELDS);
  const fileCount = integerField(e, "file_count", defaults.fileCount, LIMITS.MIN_FILE_COUNT, LIMITS.MAX_FILE_COUNT);
  const targetSizeMb = numberField(e, "target_size_mb", defaults.targetSizeMb, LIMITS.MIN_TARGET_SIZE_MB, LIMITS.MAX_TARGET_SIZE_MB, " of MiB");
  const dataset = choiceField(e, "dataset", DATASET_NAMES, "web-events");
  const { runId, seed, datePrefix, hhmmss } = parseRunIdentity(e, ctx);
  const keyPrefix = normaliseKeyPrefix("key_prefix", stringField(e, "key_prefix") ?? "");
  return Object.freeze({ fileCount, targetSizeMb, datePrefix, dataset, seed, runId, hhmmss, keyPrefix });
}
