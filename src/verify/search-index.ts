import { ValidationError } from "../core/errors";
import { type ElasticsearchTarget, nodeLabel } from "../metrics/elasticsearch";
import type { OutputRow } from "./output";
import type { OutputReader } from "./verify";

/** Documents a search page holds: Elasticsearch's default `index.max_result_window` is 10,000. */
export const PAGE_DOCUMENTS = 5000;
/** How long the point in time is kept between pages. */
const KEEP_ALIVE = "2m";

/**
 * An Elasticsearch index as verify's output: every document's `_source`, read in pages through a
 * point in time (`_pit`, then `search_after` on `_shard_doc`), so a document indexed, updated or
 * deleted while verify reads is seen as it was when verify began, and the index is never held
 * whole. The point in time is closed at the end, or when reading stops early.
 */
export async function searchIndexReader(target: ElasticsearchTarget, index: string): Promise<OutputReader> {
  const { Client, errors } = require("@elastic/elasticsearch") as typeof import("@elastic/elasticsearch");
  const client = new Client({ node: target.node, ...(target.apiKey ? { auth: { apiKey: target.apiKey } } : {}) });
  const where = `${nodeLabel(target.node)}/${index}`;
  let pit: string;
  try {
    pit = (await client.openPointInTime({ index, keep_alive: KEEP_ALIVE })).id;
  } catch (err) {
    await client.close();
    if (err instanceof errors.ResponseError && err.statusCode === 404) throw new ValidationError("output", `${where}: no index "${index}" there`);
    if (err instanceof errors.ResponseError && (err.statusCode === 401 || err.statusCode === 403))
      throw new ValidationError("output", `${where}: the cluster refused the credentials (${err.statusCode}); the API key comes from ELASTICSEARCH_API_KEY`);
    throw new ValidationError("output", `${where}: cannot open a point in time (${err instanceof Error ? err.message : String(err)})`);
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await client.closePointInTime({ id: pit }).catch(() => undefined);
    await client.close();
  };
  return {
    where,
    location: () => where,
    close,
    listed: async () => ({ files: [{ key: index, format: "table" }], skipped: [] }),
    rows: async function* (): AsyncGenerator<OutputRow> {
      let line = 0;
      let after: unknown[] | undefined;
      try {
        for (;;) {
          const page = await client.search<Record<string, unknown>>({
            pit: { id: pit, keep_alive: KEEP_ALIVE },
            sort: [{ _shard_doc: "asc" }],
            size: PAGE_DOCUMENTS,
            track_total_hits: false,
            ...(after ? { search_after: after as never } : {}),
          });
          // Each page may carry a newer id for the same point in time.
          pit = page.pit_id ?? pit;
          const hits = page.hits.hits;
          for (const hit of hits) {
            line++;
            yield { values: hit._source ?? {}, textual: false, line };
          }
          if (hits.length < PAGE_DOCUMENTS) break;
          after = hits[hits.length - 1]?.sort;
          if (after === undefined) throw new Error(`${where}: a page of hits without sort values: cannot read on`);
        }
      } finally {
        await close();
      }
    },
  };
}
