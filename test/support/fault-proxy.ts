import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of a real S3 server that forwards requests faithfully until told to
 * fail, then answers every request with S3's 500 InternalError — an endpoint that starts
 * failing mid-upload.
 */
export interface FaultProxy {
  readonly endpoint: string;
  /** Requests seen so far, as "METHOD path?query". */
  readonly requests: string[];
  /** Fail every request after this many more have been forwarded. */
  failAfter(forwarded: number): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  let remaining = Infinity;
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (remaining <= 0) {
      req.resume();
      req.on("end", () => {
        res.writeHead(500, { "content-type": "application/xml" });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>');
      });
      return;
    }
    remaining -= 1;
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    failAfter(forwarded) {
      remaining = forwarded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
