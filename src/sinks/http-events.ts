import * as http from "node:http";
import * as https from "node:https";
import { failRemaining, OUT_OF_TIME, type DeliveryContext, type EventSink } from "../events/emit";
import type { EventStream, StreamEvent } from "../events/streams";
import { backoffDelay, parseRetryAfter, sleep } from "../retry";

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
 * `Idempotency-Key` so a receiver can drop the repeat of a request that timed out after it landed.
 */
export class HttpEventSink implements EventSink {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;

  constructor(
    url: string,
    private readonly timeoutMs: number,
    private readonly concurrency = DEFAULT_HTTP_CONCURRENCY,
  ) {
    this.url = new URL(url);
    const secure = this.url.protocol === "https:";
    const options = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
    this.agent = secure ? new https.Agent(options) : new http.Agent(options);
    this.request = secure ? https.request : http.request;
  }

  async deliver(streams: readonly EventStream[], ctx: DeliveryContext): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (let s = next++; s < streams.length; s = next++) await this.sendStream(streams[s] as EventStream, ctx);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, streams.length) }, worker));
  }

  private async sendStream(stream: EventStream, ctx: DeliveryContext): Promise<void> {
    for (let event = stream.next(); event; event = stream.next()) {
      if (performance.now() > ctx.deadline) {
        failRemaining([stream], ctx, OUT_OF_TIME, event);
        return;
      }
      await ctx.limiter.take();
      await this.sendEvent(event, ctx);
      ctx.onSettled?.(1);
    }
  }

  private async sendEvent(event: StreamEvent, ctx: DeliveryContext): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.post(event, ctx);
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

  private post(event: StreamEvent, ctx: DeliveryContext): Promise<Attempt> {
    const body = Buffer.from(event.body, "utf8");
    const started = performance.now();
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const finish = (attempt: Attempt) => {
        if (settled) return;
        settled = true;
        ctx.stats.recordLatency(performance.now() - started);
        resolve(attempt);
      };
      const req = this.request(
        this.url,
        {
          method: "POST",
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            "content-type": "application/json",
            "content-length": body.length,
            "idempotency-key": event.idempotencyKey,
            "user-agent": "synthgen",
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => {
            if (chunks.length < 4) chunks.push(c);
          });
          res.on("error", (err) => finish({ ok: false, retryable: true, error: `response broke off: ${err.message}` }));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return finish({ ok: true, retryable: false });
            const text = Buffer.concat(chunks).toString("utf8").slice(0, 200).trim();
            const retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
            finish({
              ok: false,
              retryable: status === 408 || status === 429 || status >= 500,
              error: `HTTP ${status}${text ? `: ${text}` : ""}`,
              ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
            });
          });
        },
      );
      req.on("timeout", () => {
        finish({ ok: false, retryable: true, error: `no response within ${this.timeoutMs} ms` });
        req.destroy();
      });
      req.on("error", (err: NodeJS.ErrnoException) => finish({ ok: false, retryable: true, error: err.code ?? err.message }));
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
