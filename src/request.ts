import { createHash, randomUUID } from "node:crypto";
import { DATASET_NAMES } from "./datasets/names";
import { ValidationError } from "./errors";
import { LIMITS } from "./limits";

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

/** Where a run's identity comes from when the event does not give one. */
export interface RequestContext {
  /** Lambda's request id: the same on every async retry of one invocation. */
  readonly requestId?: string;
  /** The clock, used only for a missing `date_prefix` with no `time` in the event. */
  readonly now: Date;
}

const EVENT_FIELDS = ["file_count", "target_size_mb", "date_prefix", "dataset", "seed", "run_id", "key_prefix", "time"];
/** Fields of an EventBridge event envelope, accepted and ignored when a rule passes the whole event. */
const ENVELOPE_FIELDS = ["version", "id", "detail-type", "source", "account", "region", "resources", "detail"];
const RUN_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9!_.*'()=/-]*$/;

function describe(value: unknown): string {
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === "number") return String(value);
  return JSON.stringify(value) ?? String(value);
}

function integerField(event: Record<string, unknown>, field: string, fallback: number, min: number, max: number): number {
  const value = event[field] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `${field} must be a whole number from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

function sizeField(event: Record<string, unknown>, fallback: number): number {
  const field = "target_size_mb";
  const value = event[field] ?? fallback;
  const { MIN_TARGET_SIZE_MB: min, MAX_TARGET_SIZE_MB: max } = LIMITS;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ValidationError(field, `${field} must be a number of MiB from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

/** True when `text` is `YYYY-MM-DD` naming a day that exists. */
export function isRealDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function stringField(event: Record<string, unknown>, field: string): string | undefined {
  const value = event[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ValidationError(field, `${field} must be a string (got ${describe(value)})`);
  return value;
}

function parseTime(event: Record<string, unknown>): Date | undefined {
  const text = stringField(event, "time");
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(time.getTime())) {
    throw new ValidationError("time", `time must be an ISO-8601 timestamp such as 2025-12-23T14:00:00Z (got ${describe(text)})`);
  }
  return time;
}

/** A stable 32-bit number from text: the seed and time of day of a run that did not give them. */
function hash32(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

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
  if (event === null || event === undefined) event = {};
  if (typeof event !== "object" || Array.isArray(event)) {
    throw new ValidationError("event", `the event must be a JSON object (got ${describe(event)})`);
  }
  const e = event as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (!EVENT_FIELDS.includes(key) && !ENVELOPE_FIELDS.includes(key)) {
      throw new ValidationError(key, `unknown field ${key}; allowed fields: ${EVENT_FIELDS.join(", ")}`);
    }
  }

  const fileCount = integerField(e, "file_count", defaults.fileCount, LIMITS.MIN_FILE_COUNT, LIMITS.MAX_FILE_COUNT);
  const targetSizeMb = sizeField(e, defaults.targetSizeMb);

  const dataset = stringField(e, "dataset") ?? "web-events";
  if (!DATASET_NAMES.includes(dataset)) {
    throw new ValidationError("dataset", `dataset must be one of ${DATASET_NAMES.join(", ")} (got ${describe(dataset)})`);
  }

  const time = parseTime(e);
  const datePrefix = stringField(e, "date_prefix") ?? (time ?? ctx.now).toISOString().slice(0, 10);
  if (!isRealDate(datePrefix)) {
    throw new ValidationError("date_prefix", `date_prefix must be a real date as YYYY-MM-DD (got ${describe(datePrefix)})`);
  }

  const envelopeId = typeof e.id === "string" ? e.id : undefined;
  const runId = stringField(e, "run_id") ?? envelopeId ?? ctx.requestId ?? randomUUID();
  if (runId.length > LIMITS.MAX_RUN_ID_LENGTH || !RUN_ID_PATTERN.test(runId)) {
    throw new ValidationError(
      "run_id",
      `run_id must be 1 to ${LIMITS.MAX_RUN_ID_LENGTH} characters of letters, digits and . _ : - (got ${describe(runId)})`,
    );
  }

  const seed = e.seed === undefined ? hash32(`seed:${runId}`) : integerField(e, "seed", 0, 0, Number.MAX_SAFE_INTEGER);

  const secondOfDay = time
    ? time.getUTCHours() * 3600 + time.getUTCMinutes() * 60 + time.getUTCSeconds()
    : hash32(`time:${runId}`) % 86_400;
  const hhmmss = `${two(Math.floor(secondOfDay / 3600))}${two(Math.floor(secondOfDay / 60) % 60)}${two(secondOfDay % 60)}`;

  const keyPrefix = normaliseKeyPrefix("key_prefix", stringField(e, "key_prefix") ?? "");

  return Object.freeze({ fileCount, targetSizeMb, datePrefix, dataset, seed, runId, hhmmss, keyPrefix });
}
