import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

/** What the collector does with one event, by its idempotency key (`{run}:{stream}:{index}`, `:dup` for dirt's copy). */
export type CollectorFault = "lose" | "land-then-fail" | "hold" | undefined;

/**
 * An events pipeline under test: a loopback ingestion API that lands what `emit` sends as NDJSON
 * files, in arrival order (`part-00000.ndjson`, … `perFile` events each), every event with the
 * columns such a pipeline adds: `idempotency_key` and `sent_at` from the request's headers,
 * `received_at` when it landed. It can be told, event by event, to
 * - `lose` it (answer 200, land nothing),
 * - `land-then-fail` it (land it, answer 500 as if the write timed out: emit retries, the
 *   retry lands it again under the same key — a pipeline that does not drop repeats by key),
 * - `hold` it (answer 200, land it only after its stream's next event: out of order).
 * `landed` counts what it did, so a spec can compare verify's report with it exactly.
 */
export interface EventCollector {
  readonly url: string;
  readonly counts: { received: number; landed: number; lost: number; redelivered: number; held: number };
  /** Every idempotency key received (repeats once), and the faults done, by key. */
  readonly keys: Set<string>;
  readonly faults: { readonly key: string; readonly fault: NonNullable<CollectorFault> }[];
  /** Writes what landed to `dir` as NDJSON files; call after emit ends. */
  flush(dir: string): Promise<void>;
  close(): Promise<void>;
}

export async function startEventCollector(fault: (key: string) => CollectorFault = () => undefined, perFile = 250): Promise<EventCollector> {
  const lines: string[] = [];
  const counts = { received: 0, landed: 0, lost: 0, redelivered: 0, held: 0 };
  const failedOnce = new Set<string>();
  const keys = new Set<string>();
  const faults: EventCollector["faults"][number][] = [];
  /** Per stream, an event landed only after the stream's next one. */
  const held = new Map<string, () => string>();
  /** Now, to the microsecond (a monotonic clock from the process's start), as ISO-8601: events landing within a millisecond keep their order. */
  const now = (): string => {
    const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    return `${new Date(Math.floor(us / 1000)).toISOString().slice(0, -1)}${String(us % 1000).padStart(3, "0")}Z`;
  };
  const land = (body: string, req: IncomingMessage, key: string): string => {
    const record = JSON.parse(body) as Record<string, unknown>;
    return JSON.stringify({ ...record, idempotency_key: key, sent_at: String(req.headers["synthgen-sent-at"] ?? ""), received_at: now() });
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      counts.received++;
      const key = String(req.headers["idempotency-key"] ?? "");
      const body = Buffer.concat(chunks).toString("utf8");
      // `{run}:{stream}:{index}` (`:dup` after a dirty copy's): the stream is all but the index.
      const stream = key.replace(/:dup$/, "").replace(/:\d+$/, "");
      keys.add(key);
      const what = fault(key);
      try {
        JSON.parse(body);
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        res.end('{"message":"Invalid request body"}');
        return;
      }
      if (what === "lose") {
        counts.lost++;
        faults.push({ key, fault: what });
      } else if (what === "land-then-fail" && !failedOnce.has(key)) {
        failedOnce.add(key);
        lines.push(land(body, req, key));
        counts.landed++;
        counts.redelivered++;
        faults.push({ key, fault: what });
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"message":"write timed out"}');
        return;
      } else if (what === "hold") {
        held.set(stream, () => land(body, req, key));
        counts.held++;
        faults.push({ key, fault: what });
      } else {
        lines.push(land(body, req, key));
        counts.landed++;
        const late = held.get(stream);
        if (late !== undefined) {
          lines.push(late());
          counts.landed++;
          held.delete(stream);
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    counts,
    keys,
    faults,
    async flush(dir) {
      for (const late of held.values()) {
        lines.push(late());
        counts.landed++;
      }
      held.clear();
      await mkdir(dir, { recursive: true });
      for (let i = 0; i * perFile < lines.length; i++) {
        await writeFile(join(dir, `part-${String(i).padStart(5, "0")}.ndjson`), `${lines.slice(i * perFile, (i + 1) * perFile).join("\n")}\n`);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
