import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake cluster does with one bulk item. */
export type ItemAnswer = "ok" | { readonly status: number; readonly type: string; readonly reason: string };

/**
 * A loopback HTTP server that answers the official client the way Elasticsearch documents its
 * `_bulk` API: NDJSON action/document pairs in, one item per action out with `status`, `result`
 * (`created` on first write of an id, `updated` after) and `_version`, `errors: true` when any
 * item failed, and per-item `error` objects (429 `es_rejected_execution_exception` for a busy
 * node); and reading an index back through a point in time as the docs describe it: `_pit` with a
 * required `keep_alive`, `_search` with no index in the path, `_shard_doc` order and
 * `search_after`, at most 10,000 hits a page, an unknown or closed id refused, `DELETE /_pit`.
 * No real cluster can be installed here; this is the stand-in the tests use.
 */
export interface FakeElasticsearch {
  readonly node: string;
  /** Stored documents by `index/_id`, with how many times each was written. */
  readonly documents: Map<string, { source: Record<string, unknown>; version: number }>;
  /** Authorization headers seen, one per request. */
  readonly authorizations: (string | undefined)[];
  readonly bulkRequests: { count: number };
  /** Points in time opened and not yet closed (by id). */
  readonly openPits: Set<string>;
  /** Answer every request with 401 (bad API key). */
  rejectAll(on: boolean): void;
  close(): Promise<void>;
}

export async function startFakeElasticsearch(item: (id: string, attempt: number) => ItemAnswer = () => "ok"): Promise<FakeElasticsearch> {
  const documents: FakeElasticsearch["documents"] = new Map();
  const authorizations: (string | undefined)[] = [];
  const attempts = new Map<string, number>();
  const bulkRequests = { count: 0 };
  let rejecting = false;
  let seqNo = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      authorizations.push(req.headers.authorization);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
        res.end(JSON.stringify(body));
      };
      if (rejecting) {
        return send(401, {
          error: {
            root_cause: [{ type: "security_exception", reason: "unable to authenticate with provided credentials" }],
            type: "security_exception",
            reason: "unable to authenticate with provided credentials",
          },
          status: 401,
        });
      }
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method === "GET" && path === "/") {
        return send(200, { name: "fake", cluster_name: "synthgen-test", version: { number: "9.0.0", build_flavor: "default" }, tagline: "You Know, for Search" });
      }
      const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
      const body = Buffer.concat(chunks).toString("utf8");
      const pitOpen = /^\/([^/_][^/]*)\/_pit$/.exec(path);
      if (pitOpen && req.method === "POST") return send(...openPit(decodeURIComponent(pitOpen[1] as string), query));
      if (path === "/_pit" && req.method === "DELETE") return send(...closePit(body));
      if (/^\/([^/]+\/)?_search$/.test(path) && (req.method === "POST" || req.method === "GET")) return send(...search(path, body));
      if (req.method !== "POST" && req.method !== "PUT") return send(405, { error: "method not allowed", status: 405 });
      if (!/^\/([^/]+\/)?_bulk$/.test(path)) return send(404, { error: { type: "fake_unsupported", reason: `fake cluster has no ${path}` }, status: 404 });
      bulkRequests.count++;
      const lines = body.split("\n").filter((l) => l !== "");
      const items: unknown[] = [];
      let errors = false;
      for (let i = 0; i < lines.length; i += 2) {
        const action = JSON.parse(lines[i] as string) as { index?: { _index: string; _id: string } };
        const meta = action.index;
        if (!meta) throw new Error(`fake cluster supports only index actions: ${lines[i]}`);
        const key = `${meta._index}/${meta._id}`;
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        const answer = item(meta._id, attempt);
        if (answer !== "ok") {
          errors = true;
          items.push({ index: { _index: meta._index, _id: meta._id, status: answer.status, error: { type: answer.type, reason: answer.reason } } });
          continue;
        }
        const existing = documents.get(key);
        const version = (existing?.version ?? 0) + 1;
        documents.set(key, { source: JSON.parse(lines[i + 1] as string) as Record<string, unknown>, version });
        items.push({
          index: {
            _index: meta._index,
            _id: meta._id,
            _version: version,
            result: existing ? "updated" : "created",
            _shards: { total: 2, successful: 1, failed: 0 },
            _seq_no: seqNo++,
            _primary_term: 1,
            status: existing ? 200 : 201,
          },
        });
      }
      send(200, { took: 3, errors, items });
    });
  });
  const error = (status: number, type: string, reason: string): [number, unknown] => [status, { error: { root_cause: [{ type, reason }], type, reason }, status }];
  /** Points in time: each a snapshot of its index's documents in the order they were first indexed (`_shard_doc`). */
  const pits = new Map<string, { index: string; docs: [string, Record<string, unknown>][] }>();
  const openPits = new Set<string>();
  let pitSeq = 0;
  function openPit(index: string, query: URLSearchParams): [number, unknown] {
    if (!query.get("keep_alive")) return error(400, "action_request_validation_exception", "Validation Failed: 1: [keep_alive] is not specified;");
    const docs = [...documents].filter(([key]) => key.startsWith(`${index}/`)).map(([key, d]): [string, Record<string, unknown>] => [key.slice(index.length + 1), structuredClone(d.source)]);
    if (docs.length === 0) return error(404, "index_not_found_exception", `no such index [${index}]`);
    const id = Buffer.from(`pit-${++pitSeq}-${index}`).toString("base64");
    pits.set(id, { index, docs });
    openPits.add(id);
    return [200, { id, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } }];
  }
  function closePit(body: string): [number, unknown] {
    const id = (JSON.parse(body || "{}") as { id?: string }).id ?? "";
    const known = openPits.delete(id);
    return [known ? 200 : 404, { succeeded: true, num_freed: known ? 1 : 0 }];
  }
  /** A search through a point in time, as the docs describe it: no index in the path, `sort` and `search_after`, at most 10,000 hits a page. */
  function search(path: string, body: string): [number, unknown] {
    const q = JSON.parse(body || "{}") as { pit?: { id?: string }; size?: number; sort?: unknown; search_after?: unknown[] };
    if (!q.pit?.id) return error(400, "fake_unsupported", "the fake cluster searches only through a point in time");
    if (path !== "/_search")
      return error(400, "action_request_validation_exception", "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;");
    const pit = openPits.has(q.pit.id) ? pits.get(q.pit.id) : undefined;
    if (!pit) return error(404, "search_context_missing_exception", `No search context found for id [${q.pit.id}]`);
    const size = q.size ?? 10;
    if (size > 10_000) return error(400, "illegal_argument_exception", "Result window is too large, from + size must be less than or equal to: [10000]");
    if (JSON.stringify(q.sort) !== JSON.stringify([{ _shard_doc: "asc" }])) return error(400, "fake_unsupported", `the fake cluster sorts only by _shard_doc (got ${JSON.stringify(q.sort)})`);
    const from = q.search_after === undefined ? 0 : Number(q.search_after[0]) + 1;
    const hits = pit.docs.slice(from, from + size).map(([id, source], i) => ({ _index: pit.index, _id: id, _score: null, _source: source, sort: [from + i] }));
    return [200, { pit_id: q.pit.id, took: 1, timed_out: false, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, hits: { max_score: null, hits } }];
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    documents,
    authorizations,
    bulkRequests,
    openPits,
    rejectAll: (on) => {
      rejecting = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
