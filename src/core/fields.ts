import { createHash, randomUUID } from "node:crypto";
import { ValidationError } from "./errors";
import { LIMITS } from "./limits";

/**
 * Field checks shared by every request parser (generate, emit, index): each throws a
 * `ValidationError` naming the field and what is allowed.
 */

export type EventObject = Record<string, unknown>;

/** Fields of an EventBridge event envelope, accepted and ignored when a rule passes the whole event. */
export const ENVELOPE_FIELDS = ["version", "id", "detail-type", "source", "account", "region", "resources", "detail"];
const RUN_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** A run id as runs take one: 1 to 128 letters, digits and . _ : -, not "." or ".." (it names a folder in keys and paths). */
export const isRunId = (runId: string): boolean => runId.length <= LIMITS.MAX_RUN_ID_LENGTH && RUN_ID_PATTERN.test(runId) && runId !== "." && runId !== "..";

/** A value quoted for an error message, shortened when long. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === "number") return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** The event as an object (null/undefined become `{}`), with no field outside `allowed` and the envelope. */
export function eventObject(event: unknown, allowed: readonly string[]): EventObject {
  if (event === null || event === undefined) return {};
  if (typeof event !== "object" || Array.isArray(event)) {
    throw new ValidationError("event", `the event must be a JSON object (got ${describe(event)})`);
  }
  const e = event as EventObject;
  for (const key of Object.keys(e)) {
    if (!allowed.includes(key) && !ENVELOPE_FIELDS.includes(key)) {
      throw new ValidationError(key, `unknown field ${key}; allowed fields: ${allowed.join(", ")}`);
    }
  }
  return e;
}

export function integerField(e: EventObject, field: string, fallback: number, min: number, max: number): number {
  const value = e[field] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `${field} must be a whole number from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

export function numberField(e: EventObject, field: string, fallback: number, min: number, max: number, unit = ""): number {
  const value = e[field] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ValidationError(field, `${field} must be a number${unit} from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

export function stringField(e: EventObject, field: string): string | undefined {
  const value = e[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ValidationError(field, `${field} must be a string (got ${describe(value)})`);
  return value;
}

/** One of a fixed set of names. */
export function choiceField<T extends string>(e: EventObject, field: string, allowed: readonly T[], fallback: T): T {
  const value = stringField(e, field) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(field, `${field} must be one of ${allowed.join(", ")} (got ${describe(value)})`);
  }
  return value as T;
}

/** True when `text` is `YYYY-MM-DD` naming a day that exists. */
export function isRealDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** True for an `http://` or `https://` URL with a host: every endpoint, target and node we take. */
export function isHttpUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

/** An `http://` or `https://` URL with a host. */
export function urlField(e: EventObject, field: string): string | undefined {
  const text = stringField(e, field);
  if (text === undefined) return undefined;
  if (!isHttpUrl(text)) throw new ValidationError(field, `${field} must be an http:// or https:// URL (got ${describe(text)})`);
  return new URL(text).toString();
}

function parseTime(e: EventObject): Date | undefined {
  const text = stringField(e, "time");
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(time.getTime())) {
    throw new ValidationError("time", `time must be an ISO-8601 timestamp such as 2025-12-23T14:00:00Z (got ${describe(text)})`);
  }
  return time;
}

/** A stable 32-bit number from text: the seed and time of day of a run that did not give them. */
export function hash32(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** Where a run's identity comes from when the event does not give one. */
export interface RequestContext {
  /** Lambda's request id: the same on every async retry of one invocation. */
  readonly requestId?: string;
  /** The clock, used only for a missing `date_prefix` with no `time` in the event. */
  readonly now: Date;
}

/** What makes a run reproducible: the same identity gives the same bytes. */
export interface RunIdentity {
  readonly runId: string;
  readonly seed: number;
  /** The run's day, `YYYY-MM-DD`. */
  readonly datePrefix: string;
  /** The run's time of day, `HHMMSS`: from the event's `time`, else derived from the run id. */
  readonly hhmmss: string;
}

/** The fields `parseRunIdentity` reads. */
export const IDENTITY_FIELDS = ["date_prefix", "seed", "run_id", "time"];

export interface IdentityOptions {
  /** Replaces the seed derived from the run id (a catalogue that must stay the same run to run). */
  readonly fixedSeed?: number;
  /** With no `time` or `date_prefix` in the event, the run happens now (streams), not at a derived time of day (files). */
  readonly clockTime?: boolean;
}

/**
 * The run identity of an event. `run_id` defaults to the EventBridge event id or Lambda's request
 * id (both survive retries), so a retried invocation produces the same data. `seed` and the time
 * of day default to values derived from the run id.
 */
export function parseRunIdentity(e: EventObject, ctx: RequestContext, options: IdentityOptions = {}): RunIdentity {
  const given = parseTime(e);
  const time = given ?? (options.clockTime && e.date_prefix === undefined ? ctx.now : undefined);
  const datePrefix = stringField(e, "date_prefix") ?? (time ?? ctx.now).toISOString().slice(0, 10);
  if (!isRealDate(datePrefix)) {
    throw new ValidationError("date_prefix", `date_prefix must be a real date as YYYY-MM-DD (got ${describe(datePrefix)})`);
  }

  const envelopeId = typeof e.id === "string" ? e.id : undefined;
  const runId = stringField(e, "run_id") ?? envelopeId ?? ctx.requestId ?? randomUUID();
  // "." and ".." would name a folder, not a run, in a manifest key or a local path.
  if (!isRunId(runId)) {
    throw new ValidationError("run_id", `run_id must be 1 to ${LIMITS.MAX_RUN_ID_LENGTH} characters of letters, digits and . _ : -, not "." or ".." (got ${describe(runId)})`);
  }

  const seed = e.seed === undefined ? (options.fixedSeed ?? hash32(`seed:${runId}`)) : integerField(e, "seed", 0, 0, Number.MAX_SAFE_INTEGER);

  const secondOfDay = time ? time.getUTCHours() * 3600 + time.getUTCMinutes() * 60 + time.getUTCSeconds() : hash32(`time:${runId}`) % 86_400;
  const hhmmss = `${two(Math.floor(secondOfDay / 3600))}${two(Math.floor(secondOfDay / 60) % 60)}${two(secondOfDay % 60)}`;
  return { runId, seed, datePrefix, hhmmss };
}

/** The instant a run identity names (its day and time of day, UTC), in epoch milliseconds. */
export function identityEpochMs(id: Pick<RunIdentity, "datePrefix" | "hhmmss">): number {
  const [y, m, d] = id.datePrefix.split("-").map(Number) as [number, number, number];
  const h = Number(id.hhmmss.slice(0, 2));
  const mi = Number(id.hhmmss.slice(2, 4));
  const s = Number(id.hhmmss.slice(4, 6));
  return Date.UTC(y, m - 1, d, h, mi, s);
}
