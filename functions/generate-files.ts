import { availableParallelism } from "node:os";
import { assertFitsInTime, threadsFor } from "../src/capacity";
import { CapacityError, RunFailedError, ValidationError } from "../src/errors";
import { generate } from "../src/generate";
import { createFilePool, type FilePool } from "../src/pool";
import { readEnvironment } from "./environment";

/** The Lambda context fields this handler uses. */
export interface LambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

const env = readEnvironment(process.env);
const cores = availableParallelism();
let pool: FilePool | undefined;

function log(level: "info" | "error", message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}

/**
 * `generate-files`: writes NDJSON files to the bucket. Bad input or a run that cannot finish in
 * time returns 400 and writes nothing; a run with failed files logs its summary and then throws,
 * so Lambda's Errors metric, async retries and the dead-letter queue see it.
 */
export async function handler(event: unknown, context: LambdaContext) {
  // Worker threads outlive the invocation: a warm container reuses them and their string pools.
  pool ??= createFilePool(threadsFor(env.memoryMb, cores));
  let result;
  try {
    result = await generate(event, {
      defaults: { fileCount: env.defaultFileCount, targetSizeMb: env.defaultTargetSizeMb },
      configuredPrefix: env.keyPrefix,
      sink: { kind: "s3", bucket: env.bucket, ...(env.s3Endpoint ? { endpoint: env.s3Endpoint } : {}) },
      pool,
      context: { requestId: context.awsRequestId, now: new Date() },
      beforeRun: (plan) => assertFitsInTime(plan, env.memoryMb, cores, context.getRemainingTimeInMillis()),
    });
  } catch (err) {
    if (err instanceof ValidationError || err instanceof CapacityError) {
      log("error", "request rejected", { field: err.field, error: err.message });
      return { statusCode: 400, body: { status: "error", field: err.field, error: err.message } };
    }
    throw err;
  }
  const { body } = result;
  log(body.failed ? "error" : "info", "run finished", { ...body, files: undefined });
  if (body.failed > 0) {
    throw new RunFailedError(`${body.failed} of ${body.total_files} files failed (run ${body.run_id}): ${result.outcome.failures[0]?.error}`);
  }
  return { statusCode: 200, body };
}
