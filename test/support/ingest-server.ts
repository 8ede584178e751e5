import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

/** What the server does with one request. */
export type IngestAnswer =
  | { readonly kind: "accept" }
  | { readonly kind: "status"; readonly status: number; readonly retryAfter?: string; readonly body?: string }
  /** Reads the request and never answers: the client's timeout must fire. */
  | { readonly kind: "hang" }
  /** Reads the request and drops the connection without a word. */
  | { readonly kind: "reset" };

export interface IngestRequestInfo {
  readonly key: string;
  /** How many times this idempotency key has been seen, this one included. */
  readonly attempt: number;
  readonly body: string;
}

/**
 * A loopback stand-in for an ingestion API (the original simulator's target): accepts a JSON
 * event per POST and answers like API Gateway would — 200 with a sequence number, or whatever the
 * test scripts (429 with Retry-After, 500, 400, no answer at all). It keeps every accepted event
 * by `Idempotency-Key`, so a test can check nothing was lost and nothing accepted arrived twice.
 */
export interface IngestServer {
  readonly url: string;
  /** Accepted events in arrival order. */
  readonly accepted: { key: string; body: unknown; at: number }[];
  /** Keys accepted more than once (must stay empty). */
  readonly duplicates: string[];
  /** Every request, answered or not. */
  readonly requests: IngestRequestInfo[];
  /** Content types seen. */
  readonly contentTypes: Set<string>;
  close(): Promise<void>;
}

/** With `tls`, the server speaks HTTPS with that certificate, at `https://localhost:…`. */
export async function startIngestServer(answer: (req: IngestRequestInfo) => IngestAnswer = () => ({ kind: "accept" }), options: { tls?: { cert: string; key: string } } = {}): Promise<IngestServer> {
  const accepted: IngestServer["accepted"] = [];
  const duplicates: string[] = [];
  const requests: IngestRequestInfo[] = [];
  const contentTypes = new Set<string>();
  const seen = new Map<string, number>();
  const acceptedKeys = new Set<string>();
  let sequence = 0;
  const hanging: ServerResponse[] = [];

  const listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const key = String(req.headers["idempotency-key"] ?? "");
      const attempt = (seen.get(key) ?? 0) + 1;
      seen.set(key, attempt);
      const body = Buffer.concat(chunks).toString("utf8");
      contentTypes.add(String(req.headers["content-type"]));
      const info = { key, attempt, body };
      requests.push(info);
      const a = answer(info);
      if (a.kind === "hang") {
        hanging.push(res);
        return;
      }
      if (a.kind === "reset") {
        req.socket.destroy();
        return;
      }
      if (a.kind === "status") {
        res.writeHead(a.status, { "content-type": "application/json", ...(a.retryAfter ? { "retry-after": a.retryAfter } : {}) });
        res.end(a.body ?? JSON.stringify({ message: `scripted ${a.status}` }));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        // As an API Gateway model validation would: a body that is not JSON is the client's fault.
        res.writeHead(400, { "content-type": "application/json" });
        res.end('{"message":"Invalid request body"}');
        return;
      }
      if (acceptedKeys.has(key)) duplicates.push(key);
      acceptedKeys.add(key);
      accepted.push({ key, body: parsed, at: Date.now() });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ sequenceNumber: String(++sequence).padStart(20, "0") }));
    });
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: options.tls ? `https://localhost:${port}/ingest` : `http://127.0.0.1:${port}/ingest`,
    accepted,
    duplicates,
    requests,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
