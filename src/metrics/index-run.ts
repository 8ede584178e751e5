import { MERCHANT_COUNT, hourStart, merchantPoints } from "../datasets/merchant-metrics";
import type { RequestContext } from "../core/fields";
import { bulkIndex, nodeLabel, DEFAULT_BULK, type BulkOptions, type BulkOutcome, type ElasticsearchTarget } from "./elasticsearch";
import { parseIndexRequest, type IndexDefaults, type IndexRequest } from "./request";

const HOUR_MS = 3_600_000;

export interface IndexOptions {
  readonly defaults: IndexDefaults;
  readonly context: RequestContext;
  /** Resolved only after the request is valid, so a bad event never fetches the secret. */
  readonly target: () => Promise<ElasticsearchTarget>;
  readonly bulk?: BulkOptions;
  readonly onFlush?: (indexed: number) => void;
}

export interface IndexOutcome {
  readonly request: IndexRequest;
  readonly node: string;
  readonly bulk: BulkOutcome;
  readonly durationMs: number;
}

/** The one path from an index event to documents in Elasticsearch: validate, generate, bulk-index. */
export async function indexMetrics(event: unknown, options: IndexOptions): Promise<{ outcome: IndexOutcome; body: IndexResponseBody }> {
  const request = parseIndexRequest(event, options.defaults, options.context);
  const target = await options.target();
  const started = performance.now();
  const bulk = await bulkIndex(target, request.index, merchantPoints(request.seed, request.endMs, request.hours), options.bulk ?? DEFAULT_BULK, options.onFlush);
  const outcome = { request, node: nodeLabel(target.node), bulk, durationMs: Math.round(performance.now() - started) };
  return { outcome, body: indexResponseBody(outcome) };
}

export function indexResponseBody(outcome: IndexOutcome) {
  const { request, bulk } = outcome;
  const last = hourStart(request.endMs);
  const planned = request.hours * MERCHANT_COUNT;
  const notIndexed = planned - bulk.indexed;
  return {
    status: notIndexed === 0 ? "completed" : "failed",
    node: outcome.node,
    index: request.index,
    run_id: request.runId,
    seed: request.seed,
    hours: request.hours,
    from: new Date(last - (request.hours - 1) * HOUR_MS).toISOString(),
    to: new Date(last).toISOString(),
    total_documents: planned,
    indexed: bulk.indexed,
    created: bulk.created,
    updated: bulk.updated,
    failed: notIndexed,
    retried: bulk.retried,
    duration_ms: outcome.durationMs,
    documents_per_s: outcome.durationMs > 0 ? Math.round((bulk.indexed * 1000) / outcome.durationMs) : 0,
    ...(bulk.aborted ? { aborted: bulk.aborted } : {}),
    ...(bulk.failures.length ? { errors: bulk.failures } : {}),
  };
}

export type IndexResponseBody = ReturnType<typeof indexResponseBody>;
