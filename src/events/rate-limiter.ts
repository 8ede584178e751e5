import { sleep } from "../core/retry";
import { Arrival, rateAt, type Arrivals, type RateShape } from "./shape";

/** What senders wait on before each request: a flat cap, or a load shape. */
export interface Pacer {
  /** The most events one request may carry (a tenth of a second's worth under a rate). */
  readonly burst: number;
  take(events?: number): Promise<void>;
}

/**
 * Paces sends to at most `perSecond` events per second across every concurrent stream: each
 * caller reserves the next free slots and waits until they come. Without a cap it never waits.
 */
export class RateLimiter implements Pacer {
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

/**
 * Paces sends along a load shape across every concurrent stream: each request waits for the
 * departure time of its last event (see `Arrival`), counted from when the limiter was made.
 */
export class ShapeLimiter implements Pacer {
  private readonly arrival: Arrival;
  private readonly startedAt = performance.now();

  constructor(
    private readonly shape: RateShape,
    arrivals: Arrivals,
    seedParts: readonly (string | number)[],
  ) {
    this.arrival = new Arrival(shape, arrivals, seedParts);
  }

  get burst(): number {
    return Math.max(1, Math.floor(rateAt(this.shape, (performance.now() - this.startedAt) / 1000) / 10));
  }

  async take(events = 1): Promise<void> {
    let t = 0;
    for (let i = 0; i < events; i++) t = this.arrival.next();
    // Past the end (a total counted up front never gets here): the last moment of the shape.
    if (t === Infinity) t = this.shape.durationS;
    await sleep(this.startedAt + t * 1000 - performance.now());
  }
}
