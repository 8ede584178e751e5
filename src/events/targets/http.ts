import { failRemaining, OUT_OF_TIME, type DeliveryContext, type EventSink } from "../emit";
import type { EventStream, StreamEvent } from "../streams";
import { backoffDelay, parseRetryAfter, sleep } from "../../core/retry";
import { Http1Connection, Http1Error } from "./http1";

/** Bytes of a failed response's body kept for its error (which shows the first 200 characters: at most 800 bytes of UTF-8). */
const ERROR_BODY_BYTES = 1024;

/** Requests in flight at most; a stream never has more than one, so its events arrive in order. */
export const DEFAULT_HTTP_CONCURRENCY = 64;

interface Attempt {
  /** 2xx: the event is in. */
  readonly ok: boolean;
  /** Worth another try: 408, 429, 5xx, a timeout or a broken connection. */
  readonly retryable: boolean;
  readonly error?: string;
  readonly retryAfterMs?: number;
}

/**
 * POSTs each event as JSON to an ingestion API, as the original simulator did, but with the
 * streams running concurrently over keep-alive connections. Failed attempts are retried with
 * backoff and full jitter, waiting at least what a `Retry-After` asks; a 4xx other than 408 and
 * 429 is the event's fault and is reported, not retried. Every request carries an
 * `Idempotency-Key` so a receiver can drop the repeat of a request that timed out after it landed,
 * and `Synthgen-Sent-At` (ISO-8601, this attempt's) so a pipeline can keep when it was sent.
 */
export class HttpEventSink implements EventSink {
  private readonly url: URL;
  /** The request line and the headers every request shares, up to the per-request ones. */
  private readonly headStart: string;
  /** Each stream worker's keep-alive connection (one request at a time on each), closed at the end. */
  private readonly connections = new Set<Http1Connection>();

  constructor(
    url: string,
    private readonly timeoutMs: number,
    private readonly concurrency = DEFAULT_HTTP_CONCURRENCY,
  ) {
    this.url = new URL(url);
    // The WHATWG URL parser percent-encodes path and query and refuses a bad host, so both are ASCII without CR or LF.
    this.headStart = `POST ${this.url.pathname}${this.url.search} HTTP/1.1\r\nhost: ${this.url.host}\r\ncontent-type: application/json\r\nuser-agent: synthgen\r\n`;
  }

  async deliver(streams: readonly EventStream[], ctx: DeliveryContext): Promise<void> {
    let next = 0;
    const worker = async () => {
      const connection = new Http1Connection(this.url, { timeoutMs: this.timeoutMs, keepBodyBytes: ERROR_BODY_BYTES });
      this.connections.add(connection);
      try {
        for (let s = next++; s < streams.length; s = next++) await this.sendStream(streams[s] as EventStream, connection, ctx);
      } finally {
        connection.close();
        this.connections.delete(connection);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, streams.length) }, worker));
  }

  private async sendStream(stream: EventStream, connection: Http1Connection, ctx: DeliveryContext): Promise<void> {
    for (let event = stream.next(); event; event = stream.next()) {
      if (performance.now() > ctx.deadline) {
        failRemaining([stream], ctx, OUT_OF_TIME, event);
        return;
      }
      await ctx.limiter.take();
      await this.sendEvent(event, connection, ctx);
      ctx.onSettled?.(1);
    }
  }

  private async sendEvent(event: StreamEvent, connection: Http1Connection, ctx: DeliveryContext): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.post(event, connection, ctx);
      if (result.ok) {
        ctx.stats.recordSent(event.eventType);
        return;
      }
      const wait = Math.max(backoffDelay(ctx.retry, attempt), Math.min(result.retryAfterMs ?? 0, ctx.retry.maxRetryAfterMs));
      const outOfTime = performance.now() + wait > ctx.deadline;
      if (!result.retryable || attempt >= ctx.retry.maxAttempts || outOfTime) {
        const why = result.retryable ? (outOfTime ? `${result.error}; no time left to retry` : `${result.error} after ${attempt} attempts`) : result.error;
        ctx.stats.recordFailed({ stream: event.stream, index: event.index, eventType: event.eventType, error: why ?? "failed" });
        return;
      }
      ctx.stats.retried += 1;
      await sleep(wait);
    }
  }

  /**
   * One attempt: the request's head and body in one write on the worker's connection. Every request
   * carries the `Idempotency-Key` (made of the validated run id and two integers, so a safe header
   * value) and this attempt's `Synthgen-Sent-At`. A 2xx body is dropped as it arrives; of another,
   * the first KiB is kept for the error.
   */
  private async post(event: StreamEvent, connection: Http1Connection, ctx: DeliveryContext): Promise<Attempt> {
    const started = performance.now();
    const head = `${this.headStart}idempotency-key: ${event.idempotencyKey}\r\nsynthgen-sent-at: ${new Date().toISOString()}\r\ncontent-length: ${Buffer.byteLength(event.body)}\r\n\r\n`;
    try {
      const response = await connection.request(head, event.body);
      const status = response.status;
      if (status >= 200 && status < 300) return OK;
      const text = (response.body ?? Buffer.alloc(0)).toString("utf8").slice(0, 200).trim();
      const retryAfterMs = parseRetryAfter(response.retryAfter);
      return {
        ok: false,
        retryable: status === 408 || status === 429 || status >= 500,
        error: `HTTP ${status}${text ? `: ${text}` : ""}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    } catch (err) {
      const e = err instanceof Http1Error ? err : new Http1Error("ERROR", String(err));
      // A certificate the client does not trust stays untrusted: not worth another try.
      return { ok: false, retryable: !UNTRUSTED_CERTIFICATE.test(e.code), error: e.message };
    } finally {
      ctx.stats.recordLatency(performance.now() - started);
    }
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.close();
    this.connections.clear();
  }
}

const OK: Attempt = { ok: true, retryable: false };

/** Node's codes for a server certificate that fails verification (expired, self-signed, another name…). */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;
