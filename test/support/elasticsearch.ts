import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake cluster does with one bulk item. */
export type ItemAnswer = "ok" | { readonly status: number; readonly type: string; readonly reason: string };

/**
 * A loopback HTTP server that answers the official client the way Elasticsearch documents its
 * `_bulk` API: NDJSON action/document pairs in, one item per action out with `status`, `result`
 * (`created` on first write of an id, `updated` after) and `_version`, `errors: true` when any
 * item failed, and per-item `error` objects (429 `es_rejected_execution_exception` for a busy
 * node). No real cluster can be installed here; this is the stand-in the tests use.
 */
export interface FakeElasticsearch {
  readonly node: string;
  /** Stored documents by `index/_id`, with how many times each was written. */
  readonly documents: Map<string, { source: Record<string, unknown>; version: number }>;
  /** Authorization headers seen, one per request. */
  readonly authorizations: (string | undefined)[];
  readonly bulkRequests: { count: number };
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
      if (req.method !== "POST" && req.method !== "PUT") return send(405, { error: "method not allowed", status: 405 });
      if (!/^\/([^/]+\/)?_bulk$/.test(path)) return send(404, { error: { type: "fake_unsupported", reason: `fake cluster has no ${path}` }, status: 404 });
      bulkRequests.count++;
      const lines = Buffer.concat(chunks)
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "");
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    documents,
    authorizations,
    bulkRequests,
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
