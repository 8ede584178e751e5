import { LIMITS } from "../src/limits";
import { normaliseKeyPrefix } from "../src/request";
import { ValidationError } from "../src/errors";

/** CloudWatch Logs accepts only these retention periods (days); 0 means never expire. */
export const LOG_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const ARCHITECTURES = ["arm64", "x86_64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** The stack's settings, read once; components receive these values, never `pulumi.Config`. */
export interface StackConfig {
  readonly filesPerInvocation: number;
  readonly targetFileSizeMb: number;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly architecture: Architecture;
  readonly scheduleExpression: string;
  readonly scheduleEnabled: boolean;
  readonly logRetentionDays: number;
  /** An existing bucket to write into; when absent the stack creates one. */
  readonly inputBucketName: string | undefined;
  /** Normalised to end with `/`, or empty. */
  readonly keyPrefix: string;
  readonly expireAfterDays: number | undefined;
  readonly alertEmail: string | undefined;
  readonly tracing: boolean;
}

/** The subset of `pulumi.Config` read here, so tests can pass a plain object. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getNumber(key: string): number | undefined;
  getBoolean(key: string): boolean | undefined;
}

/** Defaults, identical to those declared in Pulumi.yaml (the original generator's values). */
export const CONFIG_DEFAULTS = Object.freeze({
  filesPerInvocation: 10,
  targetFileSizeMb: 3.5,
  memoryMb: 512,
  timeoutSeconds: 300,
  architecture: "arm64" as Architecture,
  scheduleExpression: "rate(1 hour)",
  scheduleEnabled: false,
  logRetentionDays: 7,
  keyPrefix: "",
  tracing: false,
});

function inRange(key: string, value: number, min: number, max: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ValidationError(key, `config ${key} must be ${integer ? "a whole number" : "a number"} from ${min} to ${max} (got ${value})`);
  }
  return value;
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
  const scheduleExpression = cfg.get("scheduleExpression") ?? d.scheduleExpression;
  if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/.test(scheduleExpression)) {
    throw new ValidationError("scheduleExpression", `config scheduleExpression must be rate(N unit) or cron(...) (got "${scheduleExpression}")`);
  }
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
  const memoryMb = inRange("memoryMb", cfg.getNumber("memoryMb") ?? d.memoryMb, 128, 10_240, true);
  const timeoutSeconds = inRange("timeoutSeconds", cfg.getNumber("timeoutSeconds") ?? d.timeoutSeconds, 1, 900, true);

  return Object.freeze({
    filesPerInvocation: inRange("filesPerInvocation", cfg.getNumber("filesPerInvocation") ?? d.filesPerInvocation, LIMITS.MIN_FILE_COUNT, LIMITS.MAX_FILE_COUNT, true),
    targetFileSizeMb: inRange("targetFileSizeMb", cfg.getNumber("targetFileSizeMb") ?? d.targetFileSizeMb, LIMITS.MIN_TARGET_SIZE_MB, LIMITS.MAX_TARGET_SIZE_MB, false),
    memoryMb,
    timeoutSeconds,
    architecture: architecture as Architecture,
    scheduleExpression,
    scheduleEnabled: cfg.getBoolean("scheduleEnabled") ?? d.scheduleEnabled,
    logRetentionDays,
    inputBucketName,
    keyPrefix: normaliseKeyPrefix("keyPrefix", cfg.get("keyPrefix") ?? d.keyPrefix),
    expireAfterDays: expireAfterDays === undefined ? undefined : inRange("expireAfterDays", expireAfterDays, 1, 3650, true),
    alertEmail,
    tracing: cfg.getBoolean("tracing") ?? d.tracing,
  });
}
