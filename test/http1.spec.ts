import assert from "node:assert/strict";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { Http1Connection, Http1Error, MAX_HEAD_BYTES, type Http1Options } from "../src/events/targets/http1";
import { LOCALHOST_CERT, LOCALHOST_KEY } from "./support/tls";

/** A server that speaks raw bytes: each complete request (head and content-length body) goes to `answer`. */
interface RawServer {
  readonly url: URL;
  /** Requests received, as text. */
  readonly requests: string[];
  /** Connections accepted. */
  connections: number;
  close(): Promise<void>;
}

type Answer = (socket: Socket, request: string, n: number) => void | Promise<void>;

async function rawServer(answer: Answer, tls = false): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = {
    url: new URL("http://127.0.0.1/"),
    requests: [],
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const onSocket = (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      for (;;) {
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (text.length < end + 4 + length) return;
        const request = text.slice(0, end + 4 + length);
        text = text.slice(end + 4 + length);
        state.requests.push(request);
        void answer(socket, request, state.requests.length);
      }
    });
  };
  const server: Server = tls ? createTlsServer({ cert: LOCALHOST_CERT, key: LOCALHOST_KEY }, onSocket) : createTcpServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url.port = String((server.address() as AddressInfo).port);
  if (tls) state.url.protocol = "https:";
  return state;
}

const OPTIONS: Http1Options = { timeoutMs: 2000, keepBodyBytes: 1024 };
const HEAD = "POST /ingest HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n";
const ok = (extra = "") => `HTTP/1.1 200 OK\r\ncontent-length: 2${extra}\r\n\r\n{}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `text` a few bytes at a time, with a pause between, so the client sees it in many pieces. */
async function trickle(socket: Socket, text: string, step = 3): Promise<void> {
  for (let i = 0; i < text.length; i += step) {
    socket.write(text.slice(i, i + step), "latin1");
    await sleep(1);
  }
}

async function rejection(promise: Promise<unknown>): Promise<Http1Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Http1Error, String(err));
    return err;
  }
  assert.fail("the request did not fail");
}

describe("the emit HTTP/1.1 connection against servers that speak raw bytes", () => {
  let server: RawServer | undefined;
  let connection: Http1Connection | undefined;
  afterEach(async () => {
    connection?.close();
    await server?.close();
    server = connection = undefined;
  });

  it("keeps one connection for many requests, each sent whole with its body", async () => {
    server = await rawServer((socket) => void socket.write(ok()));
    connection = new Http1Connection(server.url, OPTIONS);
    for (let i = 0; i < 50; i++) assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 1);
    assert.equal(server.requests.length, 50);
    assert.equal(server.requests[0], `${HEAD}{}`);
  });

  it("reads a chunked answer with extensions and trailers arriving in pieces, keeping the body of a failure", async () => {
    const chunked = "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n2;ext=1\r\nhe\r\n3\r\nllo\r\n0\r\nx-trailer: 1\r\n\r\n";
    server = await rawServer((socket, _r, n) => (n === 1 ? trickle(socket, chunked) : void socket.write(ok())));
    connection = new Http1Connection(server.url, OPTIONS);
    const answer = await connection.request(HEAD, "{}");
    assert.equal(answer.status, 503);
    assert.equal(answer.retryAfter, "7");
    assert.equal(answer.body?.toString(), "hello");
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 1);
  });

  it("skips an interim 100 Continue and reads the answer after it", async () => {
    server = await rawServer((socket) => void socket.write(`HTTP/1.1 100 Continue\r\n\r\n${ok()}`));
    connection = new Http1Connection(server.url, OPTIONS);
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
  });

  it("reads an answer of no length and no chunks until the server closes, then opens a new connection", async () => {
    server = await rawServer((socket, _r, n) => (n === 1 ? void socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\nupstream gone") : void socket.write(ok())));
    connection = new Http1Connection(server.url, OPTIONS);
    const answer = await connection.request(HEAD, "{}");
    assert.equal(answer.status, 502);
    assert.equal(answer.body?.toString(), "upstream gone");
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 2);
  });

  it("answers 204 with no body, and leaves a connection the server said to close", async () => {
    server = await rawServer((socket, _r, n) => void socket.write(n === 1 ? "HTTP/1.1 204 No Content\r\n\r\n" : n === 2 ? ok("\r\nConnection: close") : ok()));
    connection = new Http1Connection(server.url, OPTIONS);
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 204 });
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 1);
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 2);
  });

  it("reopens a connection the server closed while it was idle, and one past the server's keep-alive timeout", async () => {
    server = await rawServer((socket, _r, n) => {
      if (n === 1) socket.end(ok());
      else socket.write(ok(n === 2 ? "\r\nKeep-Alive: timeout=1" : ""));
    });
    connection = new Http1Connection(server.url, OPTIONS);
    await connection.request(HEAD, "{}");
    await sleep(50);
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 2);
    // timeout=1 leaves no time inside the one-second margin: the next request does not risk it.
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 3);
  });

  it("keeps at most keepBodyBytes of a large error body", async () => {
    const body = "e".repeat(5 * 1024 * 1024);
    server = await rawServer((socket) => void socket.write(`HTTP/1.1 500 Oops\r\ncontent-length: ${body.length}\r\n\r\n${body}`));
    connection = new Http1Connection(server.url, OPTIONS);
    const answer = await connection.request(HEAD, "{}");
    assert.equal(answer.status, 500);
    assert.equal(answer.body?.length, 1024);
  });

  it("refuses a head that never ends, at 64 KiB, and closes the connection", async () => {
    server = await rawServer((socket) => void socket.write(`HTTP/1.1 200 OK\r\nx-endless: ${"a".repeat(MAX_HEAD_BYTES + 10)}`));
    connection = new Http1Connection(server.url, OPTIONS);
    const err = await rejection(connection.request(HEAD, "{}"));
    assert.equal(err.code, "PROTOCOL");
    assert.match(err.message, /response head or trailers over 65536 bytes/);
  });

  for (const [what, reply, message] of [
    ["a status line that is not HTTP/1.x", "ICY 200 OK\r\n\r\n", /not an HTTP\/1\.1 status line: "ICY 200 OK"/],
    ["two different content lengths", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}", /a bad content-length: "3"/],
    ["a negative content length", "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", /a bad content-length: "-1"/],
    ["a chunk size that is not hexadecimal", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", /a malformed chunk size/],
    ["a chunk not ended by CRLF", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", /a chunk not ended by CRLF/],
    ["a header line without a colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", /a malformed header line: "nonsense"/],
    ["a 101 nobody asked for", "HTTP/1.1 101 Switching Protocols\r\n\r\n", /101 Switching Protocols, never asked for/],
  ] as const) {
    it(`fails a request answered with ${what}, naming it`, async () => {
      server = await rawServer((socket) => void socket.write(reply));
      connection = new Http1Connection(server.url, OPTIONS);
      const err = await rejection(connection.request(HEAD, "{}"));
      assert.equal(err.code, "PROTOCOL");
      assert.match(err.message, message);
    });
  }

  it("drops a connection that sent bytes after its answer, and goes on on a new one", async () => {
    server = await rawServer((socket, _r, n) => void socket.write(n === 1 ? `${ok()}${ok()}` : ok()));
    connection = new Http1Connection(server.url, OPTIONS);
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.connections, 2);
  });

  it("times out a server that never answers, and one that trickles its answer past the timeout", async () => {
    server = await rawServer((socket, _r, n) => (n === 1 ? undefined : trickle(socket, `HTTP/1.1 200 OK\r\nx-slow: ${"s".repeat(400)}\r\n\r\n`, 1)));
    connection = new Http1Connection(server.url, { ...OPTIONS, timeoutMs: 150 });
    let started = performance.now();
    const silent = await rejection(connection.request(HEAD, "{}"));
    assert.deepEqual([silent.code, silent.message], ["TIMEOUT", "no response within 150 ms"]);
    assert.ok(performance.now() - started < 1000);
    started = performance.now();
    const slow = await rejection(connection.request(HEAD, "{}"));
    assert.equal(slow.code, "TIMEOUT");
    assert.ok(performance.now() - started < 1000, `gave up after ${performance.now() - started} ms`);
  });

  it("fails a request whose connection drops, with the reason, and is ready for the next", async () => {
    server = await rawServer((socket, _r, n) => (n === 1 ? void socket.destroy() : void socket.write(ok())));
    connection = new Http1Connection(server.url, OPTIONS);
    const err = await rejection(connection.request(HEAD, "{}"));
    assert.ok(["CLOSED", "ECONNRESET"].includes(err.code), err.code);
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
  });

  it("speaks TLS to an https: URL and refuses a certificate it does not trust", async () => {
    server = await rawServer((socket) => void socket.write(ok()), true);
    const untrusted = new Http1Connection(server.url, OPTIONS);
    const err = await rejection(untrusted.request(HEAD, "{}"));
    assert.equal(err.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
    assert.equal(server.requests.length, 0);
    connection = new Http1Connection(server.url, { ...OPTIONS, ca: LOCALHOST_CERT });
    assert.deepEqual(await connection.request(HEAD, "{}"), { status: 200 });
    assert.equal(server.requests[0], `${HEAD}{}`);
    const named = new Http1Connection(new URL(server.url.href.replace("127.0.0.1", "localhost")), { ...OPTIONS, ca: LOCALHOST_CERT });
    assert.deepEqual(await named.request(HEAD, "{}"), { status: 200 });
    named.close();
  });
});
