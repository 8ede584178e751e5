import { RunFailedError } from "../src/core/errors";
import { storedDatasetLoader, storedScenarioLoader } from "../src/catalog/resolve";
import { DatabaseLoadError, loadRun } from "../src/databases/load";
import { loadSummary, planDatabaseLoad } from "../src/databases/plan";
import { targetFromSecret } from "../src/databases/target";
import { readDatabaseEnvironment } from "./environment";
import { log, rejectingBadInput, type LambdaContext } from "./lambda";
import { cachedSecret } from "./secrets";

const env = readDatabaseEnvironment(process.env);
const sink = { kind: "s3" as const, bucket: env.bucket, ...(env.s3Endpoint ? { endpoint: env.s3Endpoint } : {}) };
// Datasets that are not built in, and scenarios, are definitions stored under {KEY_PREFIX}_datasets/.
const loadDataset = storedDatasetLoader(sink, env.keyPrefix);
const loadScenario = storedScenarioLoader(sink, env.keyPrefix);
// The credentials, read once per container; the secret is the only one the role may read.
const credentials = cachedSecret(env.secretArn, env.secretsManagerEndpoint);

/**
 * `load-database`: a dataset, or a stored scenario, into the stack's database (RDS or Aurora,
 * PostgreSQL or MySQL, reached in the VPC) in one transaction — the same plan and load as
 * `synthgen generate --out postgres://…`. Bad input, or a database whose schema cannot take the
 * rows, is a 400 with nothing written; a load the database refuses part-way is rolled back, logged
 * and thrown, so Lambda's Errors metric and the dead-letter queue see it.
 */
export async function handler(event: unknown, context: LambdaContext) {
  const attempt = await rejectingBadInput(async () => {
    const request = typeof event === "object" && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : {};
    const plan = await planDatabaseLoad(request, { loadScenario, loadDataset, context: { requestId: context.awsRequestId, now: new Date() } });
    const target = targetFromSecret(env.databaseUrl, await credentials(), env.secretArn);
    return { plan, outcome: await loadRun(target, plan.loads, { createTables: plan.createTables, definition: plan.definition, field: "database" }) };
  }).catch((err: unknown) => {
    if (!(err instanceof DatabaseLoadError)) throw err;
    log("error", "load failed", { error: err.message });
    throw new RunFailedError(err.message);
  });
  if (!attempt.ok) return attempt.response;
  const body = loadSummary(attempt.value.plan, attempt.value.outcome);
  log("info", "load finished", body);
  return { statusCode: 200, body };
}
