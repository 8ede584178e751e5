import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** What one request came back with. */
export interface Http1Response {
  readonly status: number;
  /** The `Retry-After` header as sent, of an answer other than 2xx. */
  readonly retryAfter?: string;
  /** The first `keepBodyBytes` of the body of an answer other than 2xx (a 2xx body is dropped). */
  readonly body?: Buffer;
}

/** A request that got no complete answer: `code` says why (a socket error's code, `TIMEOUT`, `CLOSED`, `PROTOCOL`). */
export class Http1Error extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Http1Options {
  /** Longest silence while a request waits, and longest a request may take from its write on. */
  readonly timeoutMs: number;
  /** Bytes kept of a non-2xx body. */
  readonly keepBodyBytes: number;
  /** Certificates to trust for `https:` instead of the system's (a private CA); the server's is always checked. */
  readonly ca?: string | readonly string[];
}

/** A response head larger than this is refused: a hostile server cannot grow it without bound. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line (with extensions) larger than this is refused. */
const MAX_CHUNK_LINE_BYTES = 1024;
/** Kept open when the server names no keep-alive timeout. */
const DEFAULT_KEEP_ALIVE_MS = 30_000;
/** A connection this close to the server's keep-alive timeout is not reused: the server may be closing it. */
const KEEP_ALIVE_MARGIN_MS = 1_000;

enum State {
  Idle,
  Head,
  Length,
  ChunkLine,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

interface Pending {
  readonly resolve: (r: Http1Response) => void;
  readonly reject: (e: Http1Error) => void;
  readonly deadline: number;
}

/**
 * One keep-alive HTTP/1.1 connection (TLS for `https:`) that sends one request at a time: the
 * request's head and body go out in one write, and the answer is parsed as it arrives — status,
 * the headers that matter (`content-length`, `transfer-encoding`, `connection`, `keep-alive`,
 * `retry-after`), a body by length, in chunks or until close, informational 1xx answers skipped.
 * Everything a server sends is bounded: a head over 64 KiB, a malformed length or chunk, bytes
 * nobody asked for are protocol errors that close the connection. A closed or stale connection is
 * reopened by the next request. What emit sends does not need more of HTTP, and a general client
 * spent most of emit's time (measured in docs/performance.md).
 */
export class Http1Connection {
  private socket: Socket | undefined;
  private pending: Pending | undefined;
  private state = State.Idle;
  private head = "";
  private status = 0;
  private retryAfter: string | undefined;
  private closeAfter = false;
  private remaining = 0;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  private idleSince = 0;
  private readonly tls: boolean;
  private readonly host: string;
  private readonly port: number;
  /** The name TLS asks the server's certificate for (SNI): none for an IP address (RFC 6066). */
  private readonly servername: string | undefined;

  constructor(
    url: URL,
    private readonly options: Http1Options,
  ) {
    this.tls = url.protocol === "https:";
    this.host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port ? Number(url.port) : this.tls ? 443 : 80;
    this.servername = isIP(this.host) ? undefined : this.host;
  }

  /**
   * Sends `head` (the request line and headers, ending in an empty line, ASCII) and `body` (UTF-8)
   * and resolves with the answer, or rejects with an Http1Error.
   */
  request(head: string, body: string): Promise<Http1Response> {
    if (this.pending) return Promise.reject(new Http1Error("BUSY", "a request is already in flight on this connection"));
    if (this.socket && performance.now() - this.idleSince > this.keepAliveMs - KEEP_ALIVE_MARGIN_MS) this.drop();
    const socket = this.socket ?? this.open();
    return new Promise<Http1Response>((resolve, reject) => {
      this.pending = { resolve, reject, deadline: performance.now() + this.options.timeoutMs };
      this.state = State.Head;
      socket.write(head + body, "utf8");
    });
  }

  /** Closes the connection; a request in flight fails. */
  close(): void {
    this.fail(new Http1Error("CLOSED", "the connection was closed"));
  }

  private open(): Socket {
    const socket = this.tls
      ? tlsConnect({
          host: this.host,
          port: this.port,
          ...(this.servername ? { servername: this.servername } : {}),
          ...(this.options.ca ? { ca: this.options.ca as string | string[] } : {}),
          ALPNProtocols: ["http/1.1"],
        })
      : netConnect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.setTimeout(this.options.timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk);
    });
    socket.on("timeout", () => {
      if (this.socket !== socket) return;
      if (this.pending) this.fail(new Http1Error("TIMEOUT", `no response within ${this.options.timeoutMs} ms`));
      else this.drop();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // The code and what it means: "DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate", "connect ECONNREFUSED 127.0.0.1:9".
      const message = err.code === undefined || err.message.includes(err.code) ? err.message : `${err.code}: ${err.message}`;
      if (this.socket === socket) this.fail(new Http1Error(err.code ?? "ERROR", message));
    });
    socket.on("close", () => {
      if (this.socket !== socket) return;
      if (this.pending && this.state === State.UntilClose) this.complete();
      else this.fail(new Http1Error("CLOSED", "the connection closed before a complete response"));
      this.socket = undefined;
    });
    this.socket = socket;
    this.keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
    return socket;
  }

  /** Forgets the socket (destroying it) without failing anything. */
  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  /** Fails the request in flight, if any, and drops the connection: after an error its state is unknown. */
  private fail(error: Http1Error): void {
    const pending = this.pending;
    this.reset();
    this.drop();
    pending?.reject(error);
  }

  private reset(): void {
    this.pending = undefined;
    this.state = State.Idle;
    this.head = "";
    this.status = 0;
    this.retryAfter = undefined;
    this.closeAfter = false;
    this.remaining = 0;
    this.kept = [];
    this.keptBytes = 0;
  }

  private complete(): void {
    const pending = this.pending as Pending;
    const ok = this.status >= 200 && this.status < 300;
    const response: Http1Response = ok
      ? { status: this.status }
      : { status: this.status, ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}), body: Buffer.concat(this.kept).subarray(0, this.options.keepBodyBytes) };
    const close = this.closeAfter;
    this.reset();
    if (close) this.drop();
    this.idleSince = performance.now();
    pending.resolve(response);
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    if (this.keptBytes >= this.options.keepBodyBytes || (this.status >= 200 && this.status < 300) || to <= from) return;
    const part = chunk.subarray(from, Math.min(to, from + this.options.keepBodyBytes - this.keptBytes));
    this.kept.push(Buffer.from(part));
    this.keptBytes += part.length;
  }

  /** Takes up to `remaining` body bytes from `at` (kept if the answer is a failure); returns where it stopped. */
  private body(chunk: Buffer, at: number): number {
    const take = Math.min(this.remaining, chunk.length - at);
    this.keep(chunk, at, at + take);
    this.remaining -= take;
    return at + take;
  }

  /**
   * Adds the chunk from `at` to `this.head` until an empty line, leaving the lines before it there:
   * where the chunk goes on after it, or -1 while it has not come (or, past MAX_HEAD_BYTES, once
   * the request has failed).
   */
  private untilEmptyLine(chunk: Buffer, at: number): number {
    const before = this.head.length;
    this.head += chunk.toString("latin1", at, chunk.length);
    const end = this.head.indexOf("\r\n\r\n", Math.max(0, before - 3));
    if (end < 0 ? this.head.length > MAX_HEAD_BYTES : end > MAX_HEAD_BYTES) {
      this.fail(new Http1Error("PROTOCOL", `response head or trailers over ${MAX_HEAD_BYTES} bytes`));
      return -1;
    }
    if (end < 0) return -1;
    this.head = this.head.slice(0, end);
    return at + end + 4 - before;
  }

  private onData(chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) {
      this.fail(new Http1Error("PROTOCOL", "the server sent bytes nobody asked for"));
      return;
    }
    if (performance.now() > pending.deadline) {
      this.fail(new Http1Error("TIMEOUT", `no response within ${this.options.timeoutMs} ms`));
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case State.Head: {
          const next = this.untilEmptyLine(chunk, at);
          if (next < 0) return;
          at = next;
          const problem = this.parseHead(this.head);
          this.head = "";
          if (problem) {
            this.fail(new Http1Error("PROTOCOL", problem));
            return;
          }
          break;
        }
        case State.Length:
          at = this.body(chunk, at);
          if (this.remaining === 0) this.complete();
          break;
        case State.ChunkLine: {
          const before = this.head.length;
          const eol = chunk.indexOf(10, at);
          this.head += chunk.toString("latin1", at, eol < 0 ? chunk.length : eol + 1);
          if (this.head.length > MAX_CHUNK_LINE_BYTES) {
            this.fail(new Http1Error("PROTOCOL", "a chunk-size line over 1 KiB"));
            return;
          }
          if (eol < 0) return;
          at += this.head.length - before;
          const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;[^\r\n]*)?\r\n$/.exec(this.head);
          this.head = "";
          if (!size) {
            this.fail(new Http1Error("PROTOCOL", "a malformed chunk size"));
            return;
          }
          this.remaining = Number.parseInt(size[1] as string, 16);
          // The last chunk's size line ended in CRLF: an empty line right after it ends the trailers.
          if (this.remaining === 0) this.head = "\r\n";
          this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
          break;
        }
        case State.ChunkData:
          at = this.body(chunk, at);
          if (this.remaining === 0) {
            this.state = State.ChunkEnd;
            this.remaining = 2;
          }
          break;
        case State.ChunkEnd: {
          const expected = this.remaining === 2 ? 13 : 10;
          if (chunk[at] !== expected) {
            this.fail(new Http1Error("PROTOCOL", "a chunk not ended by CRLF"));
            return;
          }
          at++;
          if (--this.remaining === 0) this.state = State.ChunkLine;
          break;
        }
        case State.Trailers: {
          // Trailer lines up to an empty one, kept nowhere.
          const next = this.untilEmptyLine(chunk, at);
          if (next < 0) return;
          at = next;
          this.head = "";
          this.complete();
          break;
        }
        case State.UntilClose:
          this.keep(chunk, at, chunk.length);
          return;
        case State.Idle:
          // Bytes after a complete answer, with no request sent: the connection is out of step.
          this.fail(new Http1Error("PROTOCOL", "the server sent bytes nobody asked for"));
          return;
      }
      if ((this.state as State) === State.Idle && at < chunk.length) {
        // A complete answer followed by more bytes: nothing was asked, so this connection is unusable.
        this.drop();
        return;
      }
    }
  }

  /** Reads a response head (without its final empty line); returns what is wrong with it, if anything. */
  private parseHead(head: string): string | undefined {
    const lineEnd = head.indexOf("\r\n");
    const statusLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
    const m = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/.exec(statusLine);
    if (!m) return `not an HTTP/1.1 status line: ${JSON.stringify(statusLine.slice(0, 80))}`;
    const status = Number(m[2]);
    let length: number | undefined;
    let chunked = false;
    let encoded = false;
    let close = m[1] === "0";
    let retryAfter: string | undefined;
    let keepAliveMs: number | undefined;
    for (let from = lineEnd < 0 ? head.length : lineEnd + 2; from < head.length; ) {
      const to = head.indexOf("\r\n", from);
      const line = head.slice(from, to < 0 ? head.length : to);
      from = to < 0 ? head.length : to + 2;
      const colon = line.indexOf(":");
      if (colon <= 0) return `a malformed header line: ${JSON.stringify(line.slice(0, 80))}`;
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) return `a bad content-length: ${JSON.stringify(value.slice(0, 40))}`;
        length = Number(value);
      } else if (name === "transfer-encoding") {
        encoded = true;
        chunked = /(?:^|,)[ \t]*chunked[ \t]*$/i.test(value);
      } else if (name === "connection") {
        const tokens = value.toLowerCase();
        if (/(?:^|,)[ \t]*close[ \t]*(?:,|$)/.test(tokens)) close = true;
        else if (m[1] === "0" && /(?:^|,)[ \t]*keep-alive[ \t]*(?:,|$)/.test(tokens)) close = false;
      } else if (name === "keep-alive") {
        const t = /(?:^|,)[ \t]*timeout=(\d{1,6})/i.exec(value);
        if (t) keepAliveMs = Number(t[1]) * 1000;
      } else if (name === "retry-after") {
        retryAfter = value;
      }
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: an interim answer; the real one follows. 101 was never asked for.
      if (status === 101) return "101 Switching Protocols, never asked for";
      this.state = State.Head;
      return undefined;
    }
    this.status = status;
    this.retryAfter = retryAfter;
    this.closeAfter = close;
    if (keepAliveMs !== undefined) this.keepAliveMs = keepAliveMs;
    if (status === 204 || status === 304) {
      this.state = State.Idle;
      this.complete();
    } else if (encoded) {
      // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3); a coding other than chunked last runs until close.
      if (chunked) this.state = State.ChunkLine;
      else {
        this.state = State.UntilClose;
        this.closeAfter = true;
      }
    } else if (length !== undefined) {
      this.remaining = length;
      if (length === 0) {
        this.state = State.Idle;
        this.complete();
      } else this.state = State.Length;
    } else {
      this.state = State.UntilClose;
      this.closeAfter = true;
    }
    return undefined;
  }
}
