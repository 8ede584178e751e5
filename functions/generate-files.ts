import { availableParallelism } from "node:os";
import { assertFitsInTime, threadsFor } from "../src/files/capacity";
import { RunFailedError } from "../src/core/errors";
import { fanOutAction, isFanOutEvent } from "../src/files/fan-out-actions";
import { isVerifyEvent, verifyAction } from "../src/verify/fan-out-actions";
import { generate } from "../src/files/generate";
import { createFilePool, type FilePool } from "../src/files/pool";
import { storedDatasetLoader, storedScenarioLoader } from "../src/catalog/resolve";
import { readEnvironment } from "./environment";
import { log, rejectingBadInput, type LambdaContext } from "./lambda";
import { publishFileRun, type FileRunFigures } from "./run-metrics";

const env = readEnvironment(process.env);
const cores = availableParallelism();
const sink = { kind: "s3" as const, bucket: env.bucket, ...(env.s3Endpoint ? { endpoint: env.s3Endpoint } : {}) };
// A dataset that is not built in is a schema stored under {KEY_PREFIX}_datasets/.
const loadDataset = storedDatasetLoader(sink, env.keyPrefix);
// A scenario the fan-out runs whole is stored there too.
const loadScenario = storedScenarioLoader(sink, env.keyPrefix);
const defaults = {
  fileCount: env.defaultFileCount,
  targetSizeMb: env.defaultTargetSizeMb,
  format: env.defaultFormat,
  ...(env.defaultParquetCodec ? { parquetCodec: env.defaultParquetCodec } : {}),
};
let pool: FilePool | undefined;

/**
 * `generate-files`: writes NDJSON files to the bucket. Bad input or a run that cannot finish in
 * time returns 400 and writes nothing; a run with failed files logs its summary and then throws,
 * so Lambda's Errors metric, async retries and the dead-letter queue see it.
 */
export async function handler(event: unknown, lambdaContext: LambdaContext) {
  // Worker threads outlive the invocation: a warm container reuses them and their string pools.
  pool ??= createFilePool(threadsFor(env.memoryMb, cores), { parquet: env.defaultFormat === "parquet" });
  // What a whole run and a fan-out step share.
  const run = { defaults, configuredPrefix: env.keyPrefix, sink, pool, loadDataset, context: { requestId: lambdaContext.awsRequestId, now: new Date() } };
  if (isVerifyEvent(event)) {
    // A step of the verify state machine: plan, one slice's digests, or the merged report.
    const step = await rejectingBadInput(() =>
      verifyAction(event as Record<string, unknown>, {
        ...run,
        outputUri: env.verifyOutputUri,
        memoryMb: env.memoryMb,
        cores,
        remainingMs: () => lambdaContext.getRemainingTimeInMillis(),
        concurrency: env.fanOutConcurrency,
        loadScenario,
      }),
    );
    if (!step.ok) return step.response;
    log("info", `verify ${step.value.action} finished`, { ...step.value, slices: undefined, request: undefined });
    return { statusCode: 200, body: step.value };
  }
  if (isFanOutEvent(event)) {
    // A step of the fan-out state machine: plan, one shard, or the manifest.
    const step = await rejectingBadInput(() =>
      fanOutAction(event, {
        ...run,
        memoryMb: env.memoryMb,
        cores,
        remainingMs: () => lambdaContext.getRemainingTimeInMillis(),
        concurrency: env.fanOutConcurrency,
        loadScenario,
      }),
    );
    if (!step.ok) return step.response;
    log("info", `fan-out ${step.value.action} finished`, { ...step.value, shards: undefined, files: undefined });
    if (step.value.action === "shard") publishFileRun("generate-files", step.value as unknown as FileRunFigures);
    return { statusCode: 200, body: step.value };
  }
  const attempt = await rejectingBadInput(() =>
    generate(event, {
      ...run,
      beforeRun: (plan) => assertFitsInTime(plan, env.memoryMb, cores, lambdaContext.getRemainingTimeInMillis()),
    }),
  );
  if (!attempt.ok) return attempt.response;
  const result = attempt.value;
  const { body } = result;
  log(body.failed ? "error" : "info", "run finished", { ...body, files: undefined });
  publishFileRun("generate-files", body);
  if (body.failed > 0) {
    throw new RunFailedError(`${body.failed} of ${body.total_files} files failed (run ${body.run_id}): ${result.outcome.failures[0]?.error}`);
  }
  return { statusCode: 200, body };
}
