import { DATASET_NAMES } from "../datasets/names";
import { ValidationError } from "../core/errors";
import { IDENTITY_FIELDS, choiceField, describe, eventObject, integerField, isRealDate, numberField, parseRunIdentity, stringField, type RequestContext } from "../core/fields";
import { BYTES_PER_MB, formatBytes, LIMITS } from "../core/limits";
import { bytesPerFile, perDay, type ResolvedDataset, type ScenarioSize } from "../records/dataset";
import { parseDirty, type DirtyRates } from "../records/dirty";
import { parseFormat, parseParquetCodec, type Format, type ParquetCodec } from "../formats";

export { isRealDate, type RequestContext } from "../core/fields";

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
  /** The days of the run: `[datePrefix]`, or every day from date_from to date_to. */
  readonly days: readonly string[];
  /** With a date range: `dt` puts each day under `dt=YYYY-MM-DD/`; `flat` keeps the seed's keys side by side. */
  readonly partition: Partition;
  readonly dailyCurve: boolean;
  readonly dirty: DirtyRates | undefined;
  /** The object format (`ndjson` unless asked). */
  readonly format: Format;
  /** Parquet's codec; set only for `parquet`. */
  readonly parquetCodec: ParquetCodec | undefined;
  /** A declarative dataset, when `dataset` named one rather than a built-in. */
  readonly schema: unknown;
  /** A scenario's dataset: the bytes each file is expected to take (its files hold whole entities, not a target size). */
  readonly expectedFileBytes?: number;
}

export const PARTITIONS = ["dt", "flat"] as const;
export type Partition = (typeof PARTITIONS)[number];
export const MAX_DAYS = 366;

/** Values that apply when the event leaves a field out (the stack config's defaults). */
export interface RequestDefaults {
  readonly fileCount: number;
  readonly targetSizeMb: number;
  /** The deployment's default format (stack config `fileFormat`); `ndjson` when absent. */
  readonly format?: Format;
  /** The deployment's Parquet codec (stack config `parquetCodec`); `snappy` when absent. */
  readonly parquetCodec?: ParquetCodec;
}

/** The fields a generate event may have: what decides its files and their records. */
export const GENERATE_EVENT_FIELDS = [
  "file_count",
  "target_size_mb",
  "dataset",
  "key_prefix",
  "date_from",
  "date_to",
  "partition",
  "daily_curve",
  "dirty",
  "format",
  "parquet_codec",
  ...IDENTITY_FIELDS,
];
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9!_.*'()=/-]*$/;

/** Normalises a key prefix to end with `/` (empty stays empty); rejects unsafe ones. */
export function normaliseKeyPrefix(field: string, prefix: string): string {
  if (prefix.length > LIMITS.MAX_KEY_PREFIX_LENGTH) {
    throw new ValidationError(field, `${field} must be at most ${LIMITS.MAX_KEY_PREFIX_LENGTH} characters (got ${prefix.length})`);
  }
  if (prefix.startsWith("/") || prefix.split("/").includes("..") || prefix.includes("//") || !KEY_PREFIX_PATTERN.test(prefix)) {
    throw new ValidationError(field, `${field} must be a relative S3 key prefix: letters, digits and ! _ . * ' ( ) = - /, no leading "/", no "//" and no ".." segment (got ${describe(prefix)})`);
  }
  const reserved = prefix.split("/").find((segment) => (RESERVED_SEGMENTS as readonly string[]).includes(segment));
  if (reserved !== undefined) {
    throw new ValidationError(field, `${field} must not contain a "${reserved}" segment: ${RESERVED_SEGMENTS.join(" and ")} hold run manifests and stored datasets (got ${describe(prefix)})`);
  }
  return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}

/** Folders beside the data that the functions may read or delete in; data never goes there. */
export const RESERVED_SEGMENTS = ["_manifests", "_datasets", "."] as const;

/**
 * Validates a generate event (Lambda payload or CLI flags in the same snake_case form) and fills
 * in defaults. Throws a `ValidationError` naming the first bad field; nothing has been written.
 *
 * Identity: `run_id` defaults to the EventBridge event id or Lambda's request id (both survive
 * retries), so a retried invocation writes the same keys and bytes and overwrites instead of
 * adding files. `seed` and the keys' `HHMMSS` default to values derived from the run id.
 */
export function parseGenerateRequest(event: unknown, defaults: RequestDefaults, ctx: RequestContext, custom?: ResolvedDataset): GenerateRequest {
  const e = eventObject(event, GENERATE_EVENT_FIELDS);
  const fileCount = integerField(e, "file_count", defaults.fileCount, LIMITS.MIN_FILE_COUNT, LIMITS.MAX_FILE_COUNT);
  const targetSizeMb = numberField(e, "target_size_mb", defaults.targetSizeMb, LIMITS.MIN_TARGET_SIZE_MB, LIMITS.MAX_TARGET_SIZE_MB, " of MiB");
  const dataset = custom ? custom.name : choiceField(e, "dataset", DATASET_NAMES, "web-events");
  if (custom && custom.maxRecordBytes > targetSizeMb * BYTES_PER_MB) {
    throw new ValidationError(
      "target_size_mb",
      `target_size_mb ${targetSizeMb} MiB is smaller than one record of dataset ${custom.name}, which can reach ${custom.maxRecordBytes} bytes: raise target_size_mb to at least ${Math.ceil((custom.maxRecordBytes / BYTES_PER_MB) * 100) / 100}`,
    );
  }
  const range = parseDateRange(e, fileCount);
  // A scenario's backfill: one world over the days, each entity filed under its own day, so a day holds about 1/days of it.
  const size = custom?.size && range ? perDay(custom.size, range.length) : custom?.size;
  if (custom && size) assertScenarioFiles(custom.name, size, fileCount, targetSizeMb);
  const schema = range && custom?.defaultSeed !== undefined ? { ...(custom.schema as object), range: { from: range[0], days: range.length } } : custom?.schema;
  const { runId, seed, datePrefix, hhmmss } = parseRunIdentity(range ? { ...e, date_prefix: range[0] } : e, ctx, custom?.defaultSeed !== undefined ? { fixedSeed: custom.defaultSeed } : {});
  const keyPrefix = normaliseKeyPrefix("key_prefix", stringField(e, "key_prefix") ?? custom?.defaultKeyPrefix ?? "");
  const partition = choiceField(e, "partition", PARTITIONS, "dt");
  const dailyCurve = e.daily_curve ?? false;
  if (typeof dailyCurve !== "boolean") throw new ValidationError("daily_curve", `daily_curve must be true or false (got ${describe(dailyCurve)})`);
  const dirty = parseDirty(e);
  const format = parseFormat(e.format ?? defaults.format, dirty);
  if (e.parquet_codec !== undefined && format !== "parquet") throw new ValidationError("parquet_codec", `parquet_codec applies to format parquet (the format is ${format})`);
  const parquetCodec = format === "parquet" ? parseParquetCodec(e.parquet_codec ?? defaults.parquetCodec) : undefined;
  return Object.freeze({
    fileCount,
    targetSizeMb,
    datePrefix,
    dataset,
    seed,
    runId,
    hhmmss,
    keyPrefix,
    days: range ?? [datePrefix],
    partition: range ? partition : "flat",
    dailyCurve,
    dirty,
    format,
    parquetCodec,
    schema,
    ...(size ? { expectedFileBytes: bytesPerFile(size, fileCount) } : {}),
  });
}

const MAX_FILE_BYTES = LIMITS.MAX_TARGET_SIZE_MB * BYTES_PER_MB;
const count = (n: number) => Math.round(n).toLocaleString("en-US");
const mib = (bytes: number) => Math.ceil((bytes / BYTES_PER_MB) * 100) / 100;

/**
 * A scenario's dataset holds a fixed number of records, and a file holds whole entities: the
 * request's files must hold it at the size asked for (at most the largest file when the count is
 * the dataset's own `files`), or the request is refused with the file count or size that would.
 */
function assertScenarioFiles(name: string, size: ScenarioSize, fileCount: number, targetSizeMb: number): void {
  const perFile = bytesPerFile(size, fileCount);
  const own = size.files === fileCount;
  if (perFile <= (own ? MAX_FILE_BYTES : targetSizeMb * BYTES_PER_MB)) return;
  const needed = Math.ceil(size.bytes / (targetSizeMb * BYTES_PER_MB));
  const most = Math.min(size.roots, LIMITS.MAX_FILE_COUNT);
  const held = `dataset ${name} holds about ${count(size.records)} records (~${formatBytes(size.bytes)}): in ${count(fileCount)} files each would take ~${formatBytes(perFile)}`;
  if (needed <= most) {
    throw new ValidationError("file_count", `${held}, more than target_size_mb ${targetSizeMb}: raise file_count to at least ${count(needed)}, or target_size_mb to at least ${mib(perFile)}`);
  }
  throw new ValidationError(
    "target_size_mb",
    `${held}, more than target_size_mb ${targetSizeMb}; ${size.roots <= LIMITS.MAX_FILE_COUNT ? `a file holds whole ${size.root} and there are ${count(size.roots)}` : `a run has at most ${count(LIMITS.MAX_FILE_COUNT)} files`}: raise target_size_mb to at least ${mib(size.bytes / most)} with file_count ${count(most)}`,
  );
}

/** `date_from`/`date_to` (inclusive) as the list of days, or undefined without a range. */
export function parseDateRange(e: Record<string, unknown>, fileCount: number): string[] | undefined {
  const from = stringField(e, "date_from");
  const to = stringField(e, "date_to");
  if (from === undefined && to === undefined) {
    if (e.partition !== undefined) throw new ValidationError("partition", "partition applies to a date range (date_from and date_to)");
    return undefined;
  }
  if (from === undefined || to === undefined) {
    throw new ValidationError(from === undefined ? "date_from" : "date_to", "a backfill needs both date_from and date_to (YYYY-MM-DD, inclusive)");
  }
  if (e.date_prefix !== undefined) throw new ValidationError("date_prefix", "give either date_prefix or date_from/date_to, not both");
  for (const [field, text] of [
    ["date_from", from],
    ["date_to", to],
  ] as const) {
    if (!isRealDate(text)) throw new ValidationError(field, `${field} must be a real date as YYYY-MM-DD (got ${describe(text)})`);
  }
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (end < start) throw new ValidationError("date_to", `date_to must not be before date_from (${to} < ${from})`);
  const days = Math.round((end - start) / 86_400_000) + 1;
  if (days > MAX_DAYS) throw new ValidationError("date_to", `a backfill covers at most ${MAX_DAYS} days (got ${days})`);
  if (days * fileCount > LIMITS.MAX_FILE_COUNT) {
    throw new ValidationError("file_count", `file_count is per day: ${days} days × ${fileCount} files = ${days * fileCount}, more than ${LIMITS.MAX_FILE_COUNT} per run`);
  }
  return Array.from({ length: days }, (_, d) => new Date(start + d * 86_400_000).toISOString().slice(0, 10));
}
