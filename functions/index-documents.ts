import { RunFailedError } from "../src/core/errors";
import { indexMetrics } from "../src/metrics/index-run";
import { readIndexEnvironment } from "./environment";
import { log, rejectingBadInput, type LambdaContext } from "./lambda";
import { cachedSecret } from "./secrets";

const env = readIndexEnvironment(process.env);
const apiKey = env.apiKeySecretArn ? cachedSecret(env.apiKeySecretArn, env.secretsManagerEndpoint) : undefined;

/**
 * `index-documents`: bulk-indexes an hour of merchant metrics (or `hours` of history) into
 * Elasticsearch under deterministic ids. The API key comes from Secrets Manager, read once per
 * container. Any document not indexed logs the summary and then throws.
 */
export async function handler(event: unknown, context: LambdaContext) {
  const attempt = await rejectingBadInput(() =>
    indexMetrics(event, {
      defaults: { index: env.index, seed: env.seed },
      context: { requestId: context.awsRequestId, now: new Date() },
      target: async () => ({ node: env.node, ...(apiKey ? { apiKey: await apiKey() } : {}) }),
    }),
  );
  if (!attempt.ok) return attempt.response;
  const { body } = attempt.value;
  log(body.status === "failed" ? "error" : "info", "run finished", body);
  if (body.status === "failed") {
    throw new RunFailedError(`${body.failed} of ${body.total_documents} documents not indexed (run ${body.run_id}): ${body.aborted ?? body.errors?.[0]?.error ?? ""}`);
  }
  return { statusCode: 200, body };
}
