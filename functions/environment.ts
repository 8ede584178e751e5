import { FORMATS, PARQUET_CODECS, type Format, type ParquetCodec } from "../src/formats";
import { ValidationError } from "../src/core/errors";
import type { EmitDefaults, EventTarget } from "../src/events/request";
import { checkStreamSkew, checkTargetName, EMIT_DEFAULTS, EMIT_LIMITS, TARGET_VARIABLES } from "../src/events/request";
import { isHttpUrl } from "../src/core/fields";
import { LIMITS } from "../src/core/limits";
import { checkIndexName, INDEX_DEFAULTS } from "../src/metrics/request";
import { normaliseKeyPrefix } from "../src/files/request";

/**
 * Each function's settings, read once from its environment when the container starts. A missing
 * or malformed variable throws naming it, so a bad deployment fails on its first invocation with
 * a message that says what to fix.
 */

type Env = NodeJS.ProcessEnv;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new ValidationError(name, `environment variable ${name} is required`);
  return value;
}

function numberVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ValidationError(name, `environment variable ${name} must be a number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

function formatVar(env: Env): Format {
  const text = env.DEFAULT_FORMAT || "ndjson";
  if (!(FORMATS as readonly string[]).includes(text)) throw new ValidationError("DEFAULT_FORMAT", `environment variable DEFAULT_FORMAT must be one of ${FORMATS.join(", ")} (got "${text}")`);
  return text as Format;
}

function parquetCodecVar(text: string): ParquetCodec {
  if (!(PARQUET_CODECS as readonly string[]).includes(text))
    throw new ValidationError("DEFAULT_PARQUET_CODEC", `environment variable DEFAULT_PARQUET_CODEC must be one of ${PARQUET_CODECS.join(", ")} (got "${text}")`);
  return text as ParquetCodec;
}

function s3UriVar(env: Env, name: string): string {
  const text = env[name] ?? "";
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.*\/)?$/.test(text)) throw new ValidationError(name, `environment variable ${name} must be an s3://bucket/prefix/ URI (got "${text}")`);
  return text;
}

const memoryMb = (env: Env) => numberVar(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 512, 128, 10_240);

/** `generate-files`. */
export interface FunctionEnvironment {
  readonly bucket: string;
  readonly keyPrefix: string;
  readonly defaultFileCount: number;
  readonly defaultTargetSizeMb: number;
  readonly defaultFormat: Format;
  /** DEFAULT_PARQUET_CODEC: the codec of Parquet files whose event names none (snappy when unset). */
  readonly defaultParquetCodec: ParquetCodec | undefined;
  readonly memoryMb: number;
  /** The fan-out state machine's MaxConcurrency, so its plan step makes enough shards. */
  readonly fanOutConcurrency: number;
  /** VERIFY_OUTPUT_URI: the pipeline output (`s3://bucket/prefix/`) the verify state machine may read; unset, verify steps are refused. */
  readonly verifyOutputUri: string | undefined;
  /** Only for running the handler against a local S3-compatible server (tests, bench). */
  readonly s3Endpoint: string | undefined;
}

export function readEnvironment(env: Env): FunctionEnvironment {
  return Object.freeze({
    bucket: required(env, "BUCKET_NAME"),
    keyPrefix: normaliseKeyPrefix("KEY_PREFIX", env.KEY_PREFIX ?? ""),
    defaultFileCount: numberVar(env, "DEFAULT_FILE_COUNT", 10, LIMITS.MIN_FILE_COUNT, LIMITS.MAX_FILE_COUNT),
    defaultTargetSizeMb: numberVar(env, "DEFAULT_TARGET_SIZE_MB", 3.5, LIMITS.MIN_TARGET_SIZE_MB, LIMITS.MAX_TARGET_SIZE_MB),
    defaultFormat: formatVar(env),
    defaultParquetCodec: env.DEFAULT_PARQUET_CODEC ? parquetCodecVar(env.DEFAULT_PARQUET_CODEC) : undefined,
    memoryMb: memoryMb(env),
    fanOutConcurrency: numberVar(env, "FAN_OUT_CONCURRENCY", 1, 1, 10_000),
    verifyOutputUri: env.VERIFY_OUTPUT_URI ? s3UriVar(env, "VERIFY_OUTPUT_URI") : undefined,
    s3Endpoint: env.S3_ENDPOINT || undefined,
  });
}

/** `emit-events`: the deployment's target and the original simulator's knobs. */
export interface EmitEnvironment {
  readonly defaults: EmitDefaults;
  /** Where the emit fan-out keeps its emitters' summaries and report; the fan-out needs it. */
  readonly bucket: string | undefined;
  readonly keyPrefix: string;
  readonly memoryMb: number;
  /** Emitters the emit state machine runs at once (its Map's MaxConcurrency). */
  readonly fanOutConcurrency: number;
  /** Only for running the handler against a local S3-compatible server (tests). */
  readonly s3Endpoint: string | undefined;
  /** Only for running the handler against kinesalite or a loopback stand-in (tests): TARGET_ENDPOINT, or KINESIS_ENDPOINT. */
  readonly targetEndpoint: string | undefined;
}

function targetVar(env: Env): EventTarget | undefined {
  const set = (Object.entries(TARGET_VARIABLES) as [EventTarget["kind"], string][]).filter(([, name]) => env[name]);
  if (set.length > 1) throw new ValidationError(set[0]![1], `set one target variable, not ${set.map(([, n]) => n).join(" and ")}`);
  const [kind, name] = set[0] ?? [];
  if (kind === undefined || name === undefined) return undefined;
  const value = env[name] as string;
  if (kind === "http") {
    if (!isHttpUrl(value)) throw new ValidationError(name, `environment variable ${name} must be an http:// or https:// URL (got "${value}")`);
    return { kind, url: value };
  }
  checkTargetName(kind, `environment variable ${name}`, value);
  if (kind === "kinesis") return { kind, streamName: value };
  if (kind === "firehose") return { kind, deliveryStreamName: value };
  if (kind === "sqs") return { kind, queueUrl: value };
  return { kind, eventBusName: value };
}

export function readEmitEnvironment(env: Env): EmitEnvironment {
  const target = targetVar(env);
  const rate = numberVar(env, "EVENTS_PER_SECOND", 0, 0, EMIT_LIMITS.MAX_EVENTS_PER_SECOND);
  return Object.freeze({
    defaults: Object.freeze({
      target,
      streamCount: numberVar(env, "STREAM_COUNT", EMIT_DEFAULTS.streamCount, 1, EMIT_LIMITS.MAX_STREAMS),
      eventsPerStream: numberVar(env, "EVENTS_PER_RUN", EMIT_DEFAULTS.eventsPerStream, 1, EMIT_LIMITS.MAX_EVENTS_PER_STREAM),
      eventsPerSecond: rate === 0 ? undefined : rate,
      maxFailedRatio: numberVar(env, "MAX_FAILED_RATIO", EMIT_DEFAULTS.maxFailedRatio, 0, 1),
      ...(env.EMIT_SHAPE ? { shape: env.EMIT_SHAPE, arrivals: env.EMIT_ARRIVALS === "poisson" ? ("poisson" as const) : ("paced" as const) } : {}),
      ...(env.EMIT_STREAM_SKEW ? { streamSkew: checkStreamSkew("EMIT_STREAM_SKEW", env.EMIT_STREAM_SKEW) } : {}),
    }),
    targetEndpoint: env.TARGET_ENDPOINT || env.KINESIS_ENDPOINT || undefined,
    bucket: env.BUCKET_NAME || undefined,
    keyPrefix: normaliseKeyPrefix("KEY_PREFIX", env.KEY_PREFIX ?? ""),
    memoryMb: memoryMb(env),
    fanOutConcurrency: numberVar(env, "EMIT_FAN_OUT_CONCURRENCY", 1, 1, 10_000),
    s3Endpoint: env.S3_ENDPOINT || undefined,
  });
}

/** `index-documents`: the cluster, the index, the catalogue seed, and where the API key is kept. */
export interface IndexEnvironment {
  readonly node: string;
  readonly index: string;
  readonly seed: number;
  /** A Secrets Manager secret holding the encoded API key; none for an unsecured cluster. */
  readonly apiKeySecretArn: string | undefined;
  /** Only for running the handler against a local Secrets Manager stand-in (tests). */
  readonly secretsManagerEndpoint: string | undefined;
}

export function readIndexEnvironment(env: Env): IndexEnvironment {
  const node = required(env, "ELASTICSEARCH_NODE");
  if (!isHttpUrl(node)) {
    throw new ValidationError("ELASTICSEARCH_NODE", `environment variable ELASTICSEARCH_NODE must be an http:// or https:// URL (got "${node}")`);
  }
  return Object.freeze({
    node,
    index: checkIndexName("ELASTICSEARCH_INDEX", env.ELASTICSEARCH_INDEX || INDEX_DEFAULTS.index),
    seed: numberVar(env, "METRICS_SEED", INDEX_DEFAULTS.seed, 0, Number.MAX_SAFE_INTEGER),
    apiKeySecretArn: env.ELASTICSEARCH_API_KEY_SECRET_ARN || undefined,
    secretsManagerEndpoint: env.SECRETS_MANAGER_ENDPOINT || undefined,
  });
}

/** `load-database`: the database (its URL without credentials), the secret with its credentials, and where stored definitions are. */
export interface DatabaseEnvironment {
  readonly databaseUrl: string;
  readonly secretArn: string;
  readonly bucket: string;
  readonly keyPrefix: string;
  /** Only for running the handler against local stand-ins (tests). */
  readonly s3Endpoint: string | undefined;
  readonly secretsManagerEndpoint: string | undefined;
}

export function readDatabaseEnvironment(env: Env): DatabaseEnvironment {
  return Object.freeze({
    databaseUrl: required(env, "DATABASE_URL"),
    secretArn: required(env, "DATABASE_SECRET_ARN"),
    bucket: required(env, "BUCKET_NAME"),
    keyPrefix: normaliseKeyPrefix("KEY_PREFIX", env.KEY_PREFIX ?? ""),
    s3Endpoint: env.S3_ENDPOINT || undefined,
    secretsManagerEndpoint: env.SECRETS_MANAGER_ENDPOINT || undefined,
  });
}
