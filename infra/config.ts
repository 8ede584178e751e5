import type * as pulumi from "@pulumi/pulumi";
import { checkStreamSkew, checkTargetName, EMIT_DEFAULTS, EMIT_LIMITS, type EventTarget } from "../src/events/request";

/** The config key naming each kind of emit-events target. */
export const TARGET_CONFIG_KEYS = {
  http: "ingestApiUrl",
  kinesis: "kinesisStreamName",
  firehose: "firehoseStreamName",
  sqs: "sqsQueueUrl",
  eventbridge: "eventBusName",
} as const satisfies Record<EventTarget["kind"], string>;
import { ARRIVALS, parseShape, type Arrivals } from "../src/events/shape";
import { isHttpUrl } from "../src/core/fields";
import { FORMATS, PARQUET_CODECS, type Format, type ParquetCodec } from "../src/formats";
import { LIMITS } from "../src/core/limits";
import { checkIndexName, INDEX_DEFAULTS } from "../src/metrics/request";
import { normaliseKeyPrefix } from "../src/files/request";
import { ValidationError } from "../src/core/errors";

/** CloudWatch Logs accepts only these retention periods (days); 0 means never expire. */
export const LOG_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const ARCHITECTURES = ["arm64", "x86_64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** The stack's settings, read once; components receive these values, never `pulumi.Config`. */
export interface StackConfig {
  readonly filesPerInvocation: number;
  readonly targetFileSizeMb: number;
  /** The format when the event does not say (event field `format`). */
  readonly fileFormat: Format;
  /** Parquet's codec when the event does not say (event field `parquet_codec`). */
  readonly parquetCodec: ParquetCodec;
  readonly memoryMb: number;
  /** generate-files' ephemeral storage (/tmp), where a file larger than a part is rendered once before its upload. */
  readonly ephemeralStorageMb: number;
  readonly timeoutSeconds: number;
  readonly architecture: Architecture;
  readonly scheduleExpression: string;
  readonly scheduleEnabled: boolean;
  readonly logRetentionDays: number;
  /** An existing bucket to write into; when absent the stack creates one. */
  readonly inputBucketName: string | undefined;
  /** SSE-KMS: a key the stack creates for its bucket, or an existing key's ARN (an existing bucket's, or for the created one); absent: SSE-S3. */
  readonly bucketKmsKey: { readonly create: true } | { readonly arn: string } | undefined;
  /** A key for the functions' log groups and dead-letter queues: created by the stack, or an existing key's ARN; absent: their default encryption. */
  readonly opsKmsKey: { readonly create: true } | { readonly arn: string } | undefined;
  /** Normalised to end with `/`, or empty. */
  readonly keyPrefix: string;
  readonly expireAfterDays: number | undefined;
  /** Let `pulumi destroy` delete the created bucket with the data in it (never an existing bucket). */
  readonly forceDestroy: boolean;
  readonly alertEmail: string | undefined;
  readonly tracing: boolean;
  /** The CloudWatch Lambda Insights extension's layer version ARN for the stack's Region and architecture; absent: no Insights. */
  readonly lambdaInsightsLayerArn: string | undefined;
  /** Shards the fan-out state machine runs at once (its Distributed Map's MaxConcurrency). */
  readonly fanOutConcurrency: number;
  /** Concurrency reserved for generate-files; unreserved when absent. */
  readonly reservedConcurrency: number | undefined;
  /** The pipeline output the verify state machine checks (`s3://bucket/prefix/`): generate-files may read it; absent: no verify machine. */
  /** The pipeline output the verify state machine reads, and the SSE-KMS key its objects are encrypted with, if any. */
  readonly verifyOutput: { readonly uri: string; readonly bucket: string; readonly prefix: string; readonly kmsKeyArn?: string } | undefined;
  /** Subnets and security groups for the functions that reach a private target (emit-events, index-documents); absent: no VPC. */
  readonly vpc: VpcConfig | undefined;
  /** The `emit-events` function; absent when no target is set. */
  readonly emit: EmitStackConfig | undefined;
  /** The `index-documents` function; absent when no Elasticsearch node is set. */
  readonly index: IndexStackConfig | undefined;
  /** The `load-database` function; absent when no database is set. */
  readonly database: DatabaseStackConfig | undefined;
}

export interface DatabaseStackConfig extends FunctionSettings {
  /** `postgres://HOST:PORT/DB` or `mysql://HOST:PORT/DB`, no credentials: an RDS or Aurora endpoint reached in the VPC. */
  readonly url: string;
  /** The Secrets Manager secret with the database's `username` and `password` (RDS's format), the only one the function may read. */
  readonly secretArn: string;
  /** The customer managed KMS key the secret is encrypted with, if not Secrets Manager's own. */
  readonly secretKmsKeyArn: string | undefined;
}

export interface VpcConfig {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** Lambda's limits on a function's VPC configuration. */
const VPC_LIMITS = { subnets: 16, securityGroups: 5 };

function idList(cfg: ConfigSource, key: string, pattern: RegExp, example: string, max: number): string[] | undefined {
  const text = cfg.get(key) || undefined;
  if (text === undefined) return undefined;
  const ids = text.split(",").map((s) => s.trim());
  const bad = ids.find((id) => !pattern.test(id));
  if (bad !== undefined) throw new ValidationError(key, `config ${key} must be a comma-separated list of ids such as ${example} (got "${bad}")`);
  if (new Set(ids).size !== ids.length) throw new ValidationError(key, `config ${key} names an id twice`);
  if (ids.length > max) throw new ValidationError(key, `config ${key} lists ${ids.length}; a Lambda function takes at most ${max}`);
  return ids;
}

function readVpcConfig(cfg: ConfigSource): VpcConfig | undefined {
  const subnetIds = idList(cfg, "vpcSubnetIds", /^subnet-[0-9a-f]{8,17}$/, "subnet-0a1b2c3d4e5f67890", VPC_LIMITS.subnets);
  const securityGroupIds = idList(cfg, "vpcSecurityGroupIds", /^sg-[0-9a-f]{8,17}$/, "sg-0a1b2c3d4e5f67890", VPC_LIMITS.securityGroups);
  if (!subnetIds && !securityGroupIds) return undefined;
  if (!subnetIds || !securityGroupIds) {
    const missing = subnetIds ? "vpcSecurityGroupIds" : "vpcSubnetIds";
    throw new ValidationError(missing, `config ${missing} is required with ${subnetIds ? "vpcSubnetIds" : "vpcSecurityGroupIds"}: a function in a VPC needs both its subnets and its security groups`);
  }
  return { subnetIds, securityGroupIds };
}

/** Settings of a function besides generate-files. */
export interface FunctionSettings {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly scheduleExpression: string;
  readonly scheduleEnabled: boolean;
  /** Concurrency reserved for the function (`emitReservedConcurrency`, `indexReservedConcurrency`); unreserved when absent. */
  readonly reservedConcurrency: number | undefined;
}

export interface EmitStackConfig extends FunctionSettings {
  /** Where events go: one of ingestApiUrl, kinesisStreamName, firehoseStreamName, sqsQueueUrl, eventBusName. */
  readonly target: EventTarget;
  readonly streamCount: number;
  readonly eventsPerRun: number;
  /** 0: no cap. */
  readonly eventsPerSecond: number;
  readonly maxFailedRatio: number;
  /** Emitters the emit state machine runs at once (its Map's MaxConcurrency; the plan's ceiling). */
  readonly fanOutConcurrency: number;
  /** A default load shape's text; undefined sends eventsPerRun per stream. */
  readonly shape: string | undefined;
  readonly arrivals: Arrivals;
  /** Default stream skew (`zipf:S`), undefined for uniform. */
  readonly streamSkew: { readonly zipf: number } | undefined;
  /** Warm instances of emit-events on its alias `live` (emitProvisionedConcurrency), which the schedule and the emit state machine invoke. */
  readonly provisionedConcurrency: number | undefined;
}

export interface IndexStackConfig extends FunctionSettings {
  readonly node: string;
  readonly index: string;
  readonly seed: number;
  /** Set with `pulumi config set --secret elasticsearchApiKey`; stored in Secrets Manager. */
  readonly apiKey: pulumi.Output<string> | undefined;
}

/** The subset of `pulumi.Config` read here, so tests can pass a plain object. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getNumber(key: string): number | undefined;
  getBoolean(key: string): boolean | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
}

/** Defaults, identical to those declared in Pulumi.yaml (the original generator's values). */
export const CONFIG_DEFAULTS = Object.freeze({
  filesPerInvocation: 10,
  targetFileSizeMb: 3.5,
  fileFormat: "ndjson" as Format,
  parquetCodec: "snappy" as ParquetCodec,
  memoryMb: 512,
  ephemeralStorageMb: 512,
  timeoutSeconds: 300,
  architecture: "arm64" as Architecture,
  scheduleExpression: "rate(1 hour)",
  scheduleEnabled: false,
  logRetentionDays: 7,
  keyPrefix: "",
  tracing: false,
  forceDestroy: true,
  fanOutConcurrency: 50,
  emitFanOutConcurrency: 50,
  // The original tutoring simulator: every minute, disabled until switched on.
  emitScheduleExpression: "rate(1 minute)",
  emitScheduleEnabled: false,
  // The original merchant generator: every hour, enabled.
  indexScheduleExpression: "rate(1 hour)",
  indexScheduleEnabled: true,
  elasticsearchIndex: INDEX_DEFAULTS.index,
  // A scheduled load (of the built-in dataset, unless the schedule is given another event) is off until switched on.
  databaseScheduleExpression: "rate(1 day)",
  databaseScheduleEnabled: false,
  metricsSeed: INDEX_DEFAULTS.seed,
});

function fileFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) throw new ValidationError("fileFormat", `config fileFormat must be one of ${FORMATS.join(", ")} (got "${value}")`);
  return value as Format;
}

function parquetCodec(value: string): ParquetCodec {
  if (!(PARQUET_CODECS as readonly string[]).includes(value)) throw new ValidationError("parquetCodec", `config parquetCodec must be one of ${PARQUET_CODECS.join(", ")} (got "${value}")`);
  return value as ParquetCodec;
}

function inRange(key: string, value: number, min: number, max: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ValidationError(key, `config ${key} must be ${integer ? "a whole number" : "a number"} from ${min} to ${max} (got ${value})`);
  }
  return value;
}

function scheduleField(cfg: ConfigSource, key: string, fallback: string): string {
  const expression = cfg.get(key) ?? fallback;
  if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/.test(expression)) {
    throw new ValidationError(key, `config ${key} must be rate(N unit) or cron(...) (got "${expression}")`);
  }
  return expression;
}

function urlConfig(cfg: ConfigSource, key: string): string | undefined {
  const url = cfg.get(key) || undefined;
  if (url !== undefined && !isHttpUrl(url)) {
    throw new ValidationError(key, `config ${key} must be an http:// or https:// URL (got "${url}")`);
  }
  return url;
}

/** Memory, timeout and schedule of a function, from keys named with its prefix (`emit`, `index`). */
function functionSettings(cfg: ConfigSource, prefix: "emit" | "index" | "database", schedule: string, enabled: boolean): FunctionSettings {
  return {
    memoryMb: inRange(`${prefix}MemoryMb`, cfg.getNumber(`${prefix}MemoryMb`) ?? 512, 128, 10_240, true),
    timeoutSeconds: inRange(`${prefix}TimeoutSeconds`, cfg.getNumber(`${prefix}TimeoutSeconds`) ?? 300, 1, 900, true),
    scheduleExpression: scheduleField(cfg, `${prefix}ScheduleExpression`, schedule),
    scheduleEnabled: cfg.getBoolean(`${prefix}ScheduleEnabled`) ?? enabled,
    reservedConcurrency: reserved(cfg, `${prefix}ReservedConcurrency`),
  };
}

/** Lambda's default concurrency quota per Region: what a reservation can be at most without a raised quota. */
const ACCOUNT_CONCURRENCY = 1000;

/** A reserved concurrency: unset for none; 0 would throttle every invocation, so it is refused. */
function reserved(cfg: ConfigSource, key: string): number | undefined {
  const n = cfg.getNumber(key);
  if (n === undefined) return undefined;
  if (n === 0) throw new ValidationError(key, `config ${key} 0 would throttle every invocation; leave it unset for no reservation, or give 1 to ${ACCOUNT_CONCURRENCY - 100}`);
  // Lambda keeps 100 of the account's concurrency unreserved.
  return inRange(key, n, 1, ACCOUNT_CONCURRENCY - 100, true);
}

/** A fan-out's concurrency must fit in its function's reservation: beyond it the shards or emitters would be throttled. */
function fitsReservation(concurrencyKey: string, concurrency: number, reservedKey: string, reservation: number | undefined): void {
  if (reservation !== undefined && concurrency > reservation) {
    throw new ValidationError(
      concurrencyKey,
      `config ${concurrencyKey} ${concurrency} runs more invocations at once than ${reservedKey} ${reservation} lets the function run: lower ${concurrencyKey} to at most ${reservation}, or raise ${reservedKey}`,
    );
  }
}

function readEmitConfig(cfg: ConfigSource): EmitStackConfig | undefined {
  const d = CONFIG_DEFAULTS;
  const set = (Object.entries(TARGET_CONFIG_KEYS) as [EventTarget["kind"], string][]).filter(([, key]) => cfg.get(key));
  if (set.length === 0) return undefined;
  if (set.length > 1) throw new ValidationError(set[0]![1], `config ${set.map(([, k]) => k).join(" and ")} are exclusive: set one target for emit-events`);
  const [kind, key] = set[0]!;
  const value = cfg.get(key) as string;
  let target: EventTarget;
  if (kind === "http") target = { kind, url: urlConfig(cfg, key) as string };
  else {
    checkTargetName(kind, `config ${key}`, value);
    target = kind === "kinesis" ? { kind, streamName: value } : kind === "firehose" ? { kind, deliveryStreamName: value } : kind === "sqs" ? { kind, queueUrl: value } : { kind, eventBusName: value };
  }
  const streamCount = inRange("streamCount", cfg.getNumber("streamCount") ?? EMIT_DEFAULTS.streamCount, 1, EMIT_LIMITS.MAX_STREAMS, true);
  const eventsPerRun = inRange("eventsPerRun", cfg.getNumber("eventsPerRun") ?? EMIT_DEFAULTS.eventsPerStream, 1, EMIT_LIMITS.MAX_EVENTS_PER_STREAM, true);
  if (streamCount * eventsPerRun > EMIT_LIMITS.MAX_EVENTS) {
    throw new ValidationError("eventsPerRun", `config streamCount × eventsPerRun must be at most ${EMIT_LIMITS.MAX_EVENTS} (got ${streamCount * eventsPerRun})`);
  }
  const settings = functionSettings(cfg, "emit", d.emitScheduleExpression, d.emitScheduleEnabled);
  const shapeText = cfg.get("emitShape") || undefined;
  if (shapeText !== undefined) {
    const shape = parseShape("emitShape", shapeText, Date.now());
    // The handler keeps RESPONSE_MARGIN_MS to answer in; a shape must end before that.
    if (shape.durationS > settings.timeoutSeconds - 2) {
      throw new ValidationError(
        "emitShape",
        `config emitShape lasts ${shape.durationS} s, longer than emit-events' timeout of ${settings.timeoutSeconds} s less its 2 s to answer: shorten it or raise emitTimeoutSeconds`,
      );
    }
  }
  const arrivals = cfg.get("emitArrivals") ?? "paced";
  if (!(ARRIVALS as readonly string[]).includes(arrivals)) throw new ValidationError("emitArrivals", `config emitArrivals must be one of ${ARRIVALS.join(", ")} (got "${arrivals}")`);
  // Lambda's default concurrency is 1,000 per Region and account: a plan beyond it would be throttled.
  const fanOutConcurrency = inRange("emitFanOutConcurrency", cfg.getNumber("emitFanOutConcurrency") ?? d.emitFanOutConcurrency, 1, 1000, true);
  fitsReservation("emitFanOutConcurrency", fanOutConcurrency, "emitReservedConcurrency", settings.reservedConcurrency);
  const provisioned = cfg.getNumber("emitProvisionedConcurrency");
  if (provisioned !== undefined) {
    inRange("emitProvisionedConcurrency", provisioned, 1, ACCOUNT_CONCURRENCY - 100, true);
    if (settings.reservedConcurrency !== undefined && provisioned > settings.reservedConcurrency) {
      throw new ValidationError(
        "emitProvisionedConcurrency",
        `config emitProvisionedConcurrency ${provisioned} is more than emitReservedConcurrency ${settings.reservedConcurrency}: warm instances count against the reservation`,
      );
    }
  }
  return {
    ...settings,
    fanOutConcurrency,
    provisionedConcurrency: provisioned,
    shape: shapeText,
    streamSkew: checkStreamSkew("emitStreamSkew", cfg.get("emitStreamSkew") || undefined),
    arrivals: arrivals as Arrivals,
    target,
    streamCount,
    eventsPerRun,
    eventsPerSecond: inRange("eventsPerSecond", cfg.getNumber("eventsPerSecond") ?? 0, 0, EMIT_LIMITS.MAX_EVENTS_PER_SECOND, false),
    maxFailedRatio: inRange("maxFailedRatio", cfg.getNumber("maxFailedRatio") ?? EMIT_DEFAULTS.maxFailedRatio, 0, 1, false),
  };
}

function readIndexConfig(cfg: ConfigSource): IndexStackConfig | undefined {
  const d = CONFIG_DEFAULTS;
  const node = urlConfig(cfg, "elasticsearchNode");
  if (node === undefined) return undefined;
  return {
    ...functionSettings(cfg, "index", d.indexScheduleExpression, d.indexScheduleEnabled),
    node,
    index: checkIndexName("elasticsearchIndex", cfg.get("elasticsearchIndex") || d.elasticsearchIndex),
    seed: inRange("metricsSeed", cfg.getNumber("metricsSeed") ?? d.metricsSeed, 0, Number.MAX_SAFE_INTEGER, true),
    apiKey: cfg.getSecret("elasticsearchApiKey"),
  };
}

/** A secret's full ARN, with the six characters Secrets Manager adds to its name: IAM grants on exact ARNs. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6}$/;

function readDatabaseConfig(cfg: ConfigSource, vpc: VpcConfig | undefined): DatabaseStackConfig | undefined {
  const d = CONFIG_DEFAULTS;
  const url = cfg.get("databaseUrl") || undefined;
  const secretArn = cfg.get("databaseSecretArn") || undefined;
  if (url === undefined && secretArn === undefined) return undefined;
  if (url === undefined || secretArn === undefined) {
    const missing = url === undefined ? "databaseUrl" : "databaseSecretArn";
    throw new ValidationError(
      missing,
      `config ${missing} is required with ${url === undefined ? "databaseSecretArn" : "databaseUrl"}: load-database needs the database's endpoint and the secret with its credentials`,
    );
  }
  const m = /^(postgres|postgresql|mysql|mariadb):\/\/([^/?#]*)\/([^/?#]+)$/i.exec(url);
  if (!m)
    throw new ValidationError("databaseUrl", `config databaseUrl must be postgres://HOST:PORT/DB or mysql://HOST:PORT/DB, an RDS or Aurora endpoint (got "${url.replace(/:[^:@/]*@/, ":***@")}")`);
  if ((m[2] as string).includes("@")) throw new ValidationError("databaseUrl", "config databaseUrl must not hold credentials: the user name and password come from databaseSecretArn");
  if (!SECRET_ARN.test(secretArn)) {
    throw new ValidationError(
      "databaseSecretArn",
      `config databaseSecretArn must be a Secrets Manager secret's full ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf (got "${secretArn}")`,
    );
  }
  if (!vpc) throw new ValidationError("vpcSubnetIds", "config vpcSubnetIds and vpcSecurityGroupIds are required with databaseUrl: load-database reaches the database from the VPC");
  const secretKmsKeyArn = cfg.get("databaseSecretKmsKeyArn") || undefined;
  if (secretKmsKeyArn !== undefined && !KMS_KEY_ARN.test(secretKmsKeyArn))
    throw new ValidationError("databaseSecretKmsKeyArn", `config databaseSecretKmsKeyArn must be a KMS key ARN (not an alias; got "${secretKmsKeyArn}")`);
  return { ...functionSettings(cfg, "database", d.databaseScheduleExpression, d.databaseScheduleEnabled), url, secretArn, secretKmsKeyArn };
}

/** AWS publishes the Lambda Insights extension from this account, one layer per architecture. */
const INSIGHTS_LAYER = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):580247275435:layer:(LambdaInsightsExtension(-Arm64)?):(\d+)$/;

function readInsightsLayer(value: string | undefined, architecture: Architecture): string | undefined {
  if (value === undefined) return undefined;
  const m = INSIGHTS_LAYER.exec(value);
  if (!m) {
    throw new ValidationError(
      "lambdaInsightsLayerArn",
      `config lambdaInsightsLayerArn must be a Lambda Insights extension layer version ARN, arn:aws:lambda:REGION:580247275435:layer:LambdaInsightsExtension[-Arm64]:VERSION, as the CloudWatch docs list for your Region (got "${value}")`,
    );
  }
  const arm = m[3] !== undefined;
  if (arm !== (architecture === "arm64")) {
    throw new ValidationError(
      "lambdaInsightsLayerArn",
      `config lambdaInsightsLayerArn is the ${arm ? "arm64" : "x86_64"} layer (${m[2]}), but the functions run on ${architecture}: use LambdaInsightsExtension${architecture === "arm64" ? "-Arm64" : ""}`,
    );
  }
  return value;
}

/** A KMS key's ARN (`key/` and its id, or a multi-Region `key/mrk-…`): IAM grants use on key ARNs, not aliases. */
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

function readBucketKmsKey(value: string | undefined, inputBucketName: string | undefined): StackConfig["bucketKmsKey"] {
  if (value === undefined) return undefined;
  if (value === "create") {
    if (inputBucketName !== undefined) {
      throw new ValidationError(
        "bucketKmsKey",
        `config bucketKmsKey "create" applies to the bucket the stack creates; inputBucketName ${inputBucketName} keeps its own encryption: give its key's ARN`,
      );
    }
    return { create: true };
  }
  if (!KMS_KEY_ARN.test(value)) {
    throw new ValidationError(
      "bucketKmsKey",
      `config bucketKmsKey must be "create" or a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias; got "${value}")`,
    );
  }
  return { arn: value };
}

function readOpsKmsKey(value: string | undefined): StackConfig["opsKmsKey"] {
  if (value === undefined) return undefined;
  if (value === "create") return { create: true };
  if (!KMS_KEY_ARN.test(value)) throw new ValidationError("opsKmsKey", `config opsKmsKey must be "create" or a KMS key ARN (not an alias; got "${value}")`);
  return { arn: value };
}

/**
 * Reads and validates the stack config. Throws a `ValidationError` naming the key and what is
 * allowed, before any resource is declared.
 */
export function readStackConfig(cfg: ConfigSource): StackConfig {
  const d = CONFIG_DEFAULTS;
  const architecture = cfg.get("architecture") ?? d.architecture;
  if (!(ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new ValidationError("architecture", `config architecture must be one of ${ARCHITECTURES.join(", ")} (got "${architecture}")`);
  }
  const logRetentionDays = cfg.getNumber("logRetentionDays") ?? d.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ValidationError("logRetentionDays", `config logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${logRetentionDays})`);
  }
  const scheduleExpression = scheduleField(cfg, "scheduleExpression", d.scheduleExpression);
  // 0 (the declared default) means "never", as in Pulumi.yaml.
  const expireAfterDays = cfg.getNumber("expireAfterDays") || undefined;
  const alertEmail = cfg.get("alertEmail") || undefined;
  if (alertEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alertEmail)) {
    throw new ValidationError("alertEmail", `config alertEmail must be an email address (got "${alertEmail}")`);
  }
  const inputBucketName = cfg.get("inputBucketName") || undefined;
  if (inputBucketName !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(inputBucketName)) {
    throw new ValidationError("inputBucketName", `config inputBucketName must be an S3 bucket name (got "${inputBucketName}")`);
  }
  const bucketKmsKey = readBucketKmsKey(cfg.get("bucketKmsKey") || undefined, inputBucketName);
  const opsKmsKey = readOpsKmsKey(cfg.get("opsKmsKey") || undefined);
  const memoryMb = inRange("memoryMb", cfg.getNumber("memoryMb") ?? d.memoryMb, 128, 10_240, true);
  const fanOutConcurrency = inRange("fanOutConcurrency", cfg.getNumber("fanOutConcurrency") ?? d.fanOutConcurrency, 1, 10_000, true);
  const reservedConcurrency = reserved(cfg, "reservedConcurrency");
  fitsReservation("fanOutConcurrency", fanOutConcurrency, "reservedConcurrency", reservedConcurrency);
  const timeoutSeconds = inRange("timeoutSeconds", cfg.getNumber("timeoutSeconds") ?? d.timeoutSeconds, 1, 900, true);
  const vpc = readVpcConfig(cfg);

  return Object.freeze({
    filesPerInvocation: inRange("filesPerInvocation", cfg.getNumber("filesPerInvocation") ?? d.filesPerInvocation, LIMITS.MIN_FILE_COUNT, LIMITS.MAX_FILE_COUNT, true),
    targetFileSizeMb: inRange("targetFileSizeMb", cfg.getNumber("targetFileSizeMb") ?? d.targetFileSizeMb, LIMITS.MIN_TARGET_SIZE_MB, LIMITS.MAX_TARGET_SIZE_MB, false),
    fileFormat: fileFormat(cfg.get("fileFormat") ?? d.fileFormat),
    parquetCodec: parquetCodec(cfg.get("parquetCodec") ?? d.parquetCodec),
    memoryMb,
    ephemeralStorageMb: inRange("ephemeralStorageMb", cfg.getNumber("ephemeralStorageMb") ?? d.ephemeralStorageMb, 512, 10_240, true),
    timeoutSeconds,
    architecture: architecture as Architecture,
    scheduleExpression,
    scheduleEnabled: cfg.getBoolean("scheduleEnabled") ?? d.scheduleEnabled,
    logRetentionDays,
    inputBucketName,
    bucketKmsKey,
    opsKmsKey,
    keyPrefix: normaliseKeyPrefix("keyPrefix", cfg.get("keyPrefix") ?? d.keyPrefix),
    expireAfterDays: expireAfterDays === undefined ? undefined : inRange("expireAfterDays", expireAfterDays, 1, 3650, true),
    alertEmail,
    tracing: cfg.getBoolean("tracing") ?? d.tracing,
    lambdaInsightsLayerArn: readInsightsLayer(cfg.get("lambdaInsightsLayerArn") || undefined, architecture as Architecture),
    forceDestroy: cfg.getBoolean("forceDestroy") ?? d.forceDestroy,
    fanOutConcurrency,
    reservedConcurrency,
    verifyOutput: readVerifyOutput(cfg.get("verifyOutputUri") || undefined, cfg.get("verifyOutputKmsKeyArn") || undefined),
    vpc,
    emit: readEmitConfig(cfg),
    index: readIndexConfig(cfg),
    database: readDatabaseConfig(cfg, vpc),
  });
}

/**
 * `verifyOutputUri`: a folder of a bucket, `s3://bucket/prefix/` (a bucket's root: `s3://bucket/`);
 * `verifyOutputKmsKeyArn`: the key of that bucket's SSE-KMS encryption (S3 then decrypts each
 * object read with the reader's permission on the key, and answers 403 without it).
 */
function readVerifyOutput(uri: string | undefined, kmsKeyArn: string | undefined): StackConfig["verifyOutput"] {
  if (uri === undefined) {
    if (kmsKeyArn !== undefined) throw new ValidationError("verifyOutputKmsKeyArn", "config verifyOutputKmsKeyArn is the key of the verify output's bucket: set verifyOutputUri too");
    return undefined;
  }
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/((?:[^*?]+\/)?)$/.exec(uri);
  if (!m) throw new ValidationError("verifyOutputUri", `config verifyOutputUri must be s3://BUCKET/PREFIX/ (a folder, ending in "/", no wildcards; got "${uri}")`);
  if (kmsKeyArn !== undefined && !KMS_KEY_ARN.test(kmsKeyArn)) {
    throw new ValidationError(
      "verifyOutputKmsKeyArn",
      `config verifyOutputKmsKeyArn must be a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias; got "${kmsKeyArn}")`,
    );
  }
  return { uri, bucket: m[1] as string, prefix: m[2] ?? "", ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}) };
}
