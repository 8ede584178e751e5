import { sleep } from "../retry";

/**
 * Paces sends to at most `perSecond` events per second across every concurrent stream: each
 * caller reserves the next free slots and waits until they come. Without a cap it never waits.
 */
export class RateLimiter {
  private nextFree = 0;

  constructor(private readonly perSecond: number | undefined) {}

  /**
   * The most events one request may carry: a tenth of a second's worth under a cap (at least 1),
   * so a 500-record PutRecords batch cannot land a whole second's budget at once.
   */
  get burst(): number {
    return this.perSecond ? Math.max(1, Math.floor(this.perSecond / 10)) : Infinity;
  }

  async take(events = 1): Promise<void> {
    if (!this.perSecond) return;
    const now = performance.now();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (events * 1000) / this.perSecond;
    await sleep(start - now);
  }
}
