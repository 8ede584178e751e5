import { availableParallelism } from "node:os";
import { assertFitsInTime, threadsFor } from "../src/capacity";
import { RunFailedError } from "../src/errors";
import { generate } from "../src/generate";
import { createFilePool, type FilePool } from "../src/pool";
import { readEnvironment } from "./environment";
import { log, rejectingBadInput, type LambdaContext } from "./lambda";

const env = readEnvironment(process.env);
const cores = availableParallelism();
let pool: FilePool | undefined;

/**
 * `generate-files`: writes NDJSON files to the bucket. Bad input or a run that cannot finish in
 * time returns 400 and writes nothing; a run with failed files logs its summary and then throws,
 * so Lambda's Errors metric, async retries and the dead-letter queue see it.
 */
export async function handler(event: unknown, context: LambdaContext) {
  // Worker threads outlive the invocation: a warm container reuses them and their string pools.
  const threads = (pool ??= createFilePool(threadsFor(env.memoryMb, cores)));
  const attempt = await rejectingBadInput(() =>
    generate(event, {
      defaults: { fileCount: env.defaultFileCount, targetSizeMb: env.defaultTargetSizeMb },
      configuredPrefix: env.keyPrefix,
      sink: { kind: "s3", bucket: env.bucket, ...(env.s3Endpoint ? { endpoint: env.s3Endpoint } : {}) },
      pool: threads,
      context: { requestId: context.awsRequestId, now: new Date() },
      beforeRun: (plan) => assertFitsInTime(plan, env.memoryMb, cores, context.getRemainingTimeInMillis()),
    }),
  );
  if (!attempt.ok) return attempt.response;
  const result = attempt.value;
  const { body } = result;
  log(body.failed ? "error" : "info", "run finished", { ...body, files: undefined });
  if (body.failed > 0) {
    throw new RunFailedError(`${body.failed} of ${body.total_files} files failed (run ${body.run_id}): ${result.outcome.failures[0]?.error}`);
  }
  return { statusCode: 200, body };
}
