import { ValidationError } from "../src/errors";
import { LIMITS } from "../src/limits";
import { normaliseKeyPrefix } from "../src/request";

/** The function's settings, read once from its environment when the container starts. */
export interface FunctionEnvironment {
  readonly bucket: string;
  readonly keyPrefix: string;
  readonly defaultFileCount: number;
  readonly defaultTargetSizeMb: number;
  readonly memoryMb: number;
  /** Only for running the handler against a local S3-compatible server (tests, bench). */
  readonly s3Endpoint: string | undefined;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new ValidationError(name, `environment variable ${name} is required`);
  return value;
}

function numberVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ValidationError(name, `environment variable ${name} must be a number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

/** Reads and checks the environment; throws naming the variable when one is missing or wrong. */
export function readEnvironment(env: NodeJS.ProcessEnv): FunctionEnvironment {
  return Object.freeze({
    bucket: required(env, "BUCKET_NAME"),
    keyPrefix: normaliseKeyPrefix("KEY_PREFIX", env.KEY_PREFIX ?? ""),
    defaultFileCount: numberVar(env, "DEFAULT_FILE_COUNT", 10, LIMITS.MIN_FILE_COUNT, LIMITS.MAX_FILE_COUNT),
    defaultTargetSizeMb: numberVar(env, "DEFAULT_TARGET_SIZE_MB", 3.5, LIMITS.MIN_TARGET_SIZE_MB, LIMITS.MAX_TARGET_SIZE_MB),
    memoryMb: numberVar(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 512, 128, 10_240),
    s3Endpoint: env.S3_ENDPOINT || undefined,
  });
}
