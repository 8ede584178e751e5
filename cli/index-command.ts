import { ValidationError } from "../src/core/errors";
import { isHttpUrl } from "../src/core/fields";
import { MERCHANT_COUNT } from "../src/datasets/merchant-metrics";
import { indexMetrics } from "../src/metrics/index-run";
import { INDEX_DEFAULTS } from "../src/metrics/request";
import { badInput, crashed, eventFrom, finish, numeric } from "./common";
import { countBar } from "./progress";

/** `synthgen index` flags, as commander hands them over (strings until validated). */
export interface IndexFlags {
  node?: string;
  index?: string;
  hours?: string;
  seed?: string;
  runId?: string;
}

const FLAG_FOR_FIELD: Record<string, string> = { index: "--index", hours: "--hours", seed: "--seed", run_id: "--run-id" };

/**
 * Runs `synthgen index`: merchant metrics into Elasticsearch through the same code as the
 * `index-documents` function. The API key, if the cluster needs one, comes from the
 * ELASTICSEARCH_API_KEY environment variable (never a flag, which would land in shell history).
 */
export async function runIndexCommand(flags: IndexFlags): Promise<number> {
  const node = flags.node;
  if (node === undefined || !isHttpUrl(node)) {
    return badInput(new ValidationError("--node", `--node must be the cluster's http:// or https:// URL (got ${node === undefined ? "nothing" : `"${node}"`})`), {});
  }
  const event = eventFrom({ index: flags.index, hours: numeric(flags.hours), seed: numeric(flags.seed), run_id: flags.runId });
  let bar: ReturnType<typeof countBar> | undefined;
  try {
    const apiKey = process.env.ELASTICSEARCH_API_KEY || undefined;
    const { body } = await indexMetrics(event, {
      defaults: { index: INDEX_DEFAULTS.index, seed: INDEX_DEFAULTS.seed },
      context: { now: new Date() },
      target: async () => {
        bar = countBar((typeof event.hours === "number" ? event.hours : 1) * MERCHANT_COUNT, "documents");
        return { node, ...(apiKey ? { apiKey } : {}) };
      },
      onFlush: (indexed) => bar?.set(indexed),
    });
    bar?.stop();
    return finish(body, `${body.failed} of ${body.total_documents} documents not indexed; see "errors" above`);
  } catch (err) {
    bar?.stop();
    if (err instanceof ValidationError) return badInput(err, FLAG_FOR_FIELD);
    return crashed(err);
  }
}
