import { Readable } from "node:stream";
import { Client } from "@elastic/elasticsearch";
import type { MerchantPoint } from "../datasets/merchant-metrics";

export interface ElasticsearchTarget {
  /** Cluster URL, e.g. https://my-deployment.es.us-east-1.aws.elastic.cloud:443 */
  readonly node: string;
  /** An encoded API key (the `ApiKey` header value); omitted for an unsecured local cluster. */
  readonly apiKey?: string;
}

export interface BulkOptions {
  /** Bytes per bulk request (the helper's flushBytes). */
  readonly flushBytes: number;
  /** Bulk requests in flight. */
  readonly concurrency: number;
  /** Times a document rejected with 429 is sent again, and the wait before each time. */
  readonly retries: number;
  readonly retryWaitMs: number;
}

/** 2 MB requests, two in flight: measured as fast as 5 MB × 4 against the stand-in (2.3 s for 175,680 documents) with 90 MB less peak RSS, and gentler on a small cluster. */
export const DEFAULT_BULK: BulkOptions = Object.freeze({ flushBytes: 2_000_000, concurrency: 2, retries: 3, retryWaitMs: 5000 });

export interface DocumentFailure {
  readonly id: string;
  readonly status: number;
  readonly error: string;
}

export interface BulkOutcome {
  readonly indexed: number;
  readonly created: number;
  readonly updated: number;
  readonly retried: number;
  readonly failures: readonly DocumentFailure[];
  /** Set when a whole request failed (unreachable cluster, bad credentials): the rest were not sent. */
  readonly aborted?: string;
}

const LISTED_FAILURES = 10;

/** The cluster's host for summaries and logs: never the credentials or the path. */
export function nodeLabel(node: string): string {
  const url = new URL(node);
  return `${url.protocol}//${url.host}`;
}

/**
 * Indexes documents with their own ids through the official client's bulk helper: re-indexing an
 * id updates the document instead of adding another. Items rejected with 429 are retried by the
 * helper; any other rejected item is listed, and the caller counts what was not indexed. Nothing not indexed goes unreported.
 */
export async function bulkIndex(
  target: ElasticsearchTarget,
  index: string,
  documents: Iterable<MerchantPoint>,
  options: BulkOptions = DEFAULT_BULK,
  onFlush?: (indexed: number) => void,
): Promise<BulkOutcome> {
  const client = new Client({ node: target.node, ...(target.apiKey ? { auth: { apiKey: target.apiKey } } : {}) });
  let created = 0;
  let updated = 0;
  const failures: DocumentFailure[] = [];
  try {
    const stats = await client.helpers.bulk<MerchantPoint>({
      datasource: Readable.from(documents),
      onDocument: (doc) => [{ index: { _index: index, _id: doc.id } }, doc.json as unknown as MerchantPoint],
      onDrop: (drop) => {
        if (failures.length < LISTED_FAILURES) {
          const error = drop.error as { type?: string; reason?: string } | null;
          failures.push({
            id: String((drop.operation as { index?: { _id?: string } }).index?._id ?? ""),
            status: drop.status,
            error: error ? `${error.type ?? "error"}: ${error.reason ?? ""}` : "rejected (429) after every retry",
          });
        }
      },
      onSuccess: ({ result }) => {
        const r = (result as { index?: { result?: string } }).index?.result;
        if (r === "created") created++;
        else updated++;
      },
      onFlush: (s) => onFlush?.(s.successful),
      flushBytes: options.flushBytes,
      concurrency: options.concurrency,
      retries: options.retries,
      wait: options.retryWaitMs,
      flushInterval: 60_000,
    });
    return { indexed: stats.successful, created, updated, retried: stats.retry, failures };
  } catch (err) {
    // A whole request failed; the caller counts every document not confirmed as failed.
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { indexed: created + updated, created, updated, retried: 0, failures, aborted: message };
  } finally {
    await client.close();
  }
}
