/** One event that was not delivered, and why. */
export interface EventFailure {
  readonly stream: number;
  readonly index: number;
  readonly eventType: string;
  readonly error: string;
}

/** How many failures a summary lists in full; the counts cover all of them. */
export const LISTED_FAILURES = 10;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[rank] as number) * 10) / 10;
}

/**
 * Counts of one delivery run: every event ends either sent or failed exactly once; `retried`
 * counts extra attempts; latency is per request (an HTTP POST, a PutRecords or a bulk call).
 */
export class DeliveryStats {
  sent = 0;
  failed = 0;
  retried = 0;
  readonly byType = new Map<string, { sent: number; failed: number }>();
  readonly failures: EventFailure[] = [];
  private latencies = new Float64Array(1024);
  private latencyCount = 0;
  /** Events sent in each second since the run started (the sender's view; the target counts its own). */
  readonly perSecond: number[] = [];
  private readonly startedAt = performance.now();
  /** When the run started, on the wall clock: the origin of `perSecond` and of a shape's seconds. */
  readonly startedAtMs = Date.now();

  private typeCounts(type: string): { sent: number; failed: number } {
    let counts = this.byType.get(type);
    if (!counts) {
      counts = { sent: 0, failed: 0 };
      this.byType.set(type, counts);
    }
    return counts;
  }

  recordSent(type: string, n = 1): void {
    this.sent += n;
    this.typeCounts(type).sent += n;
    const second = Math.floor((performance.now() - this.startedAt) / 1000);
    while (this.perSecond.length <= second) this.perSecond.push(0);
    this.perSecond[second] = (this.perSecond[second] as number) + n;
  }

  recordFailed(failure: EventFailure): void {
    this.failed += 1;
    this.typeCounts(failure.eventType).failed += 1;
    if (this.failures.length < LISTED_FAILURES) this.failures.push(failure);
  }

  recordLatency(ms: number): void {
    if (this.latencyCount === this.latencies.length) {
      const grown = new Float64Array(this.latencies.length * 2);
      grown.set(this.latencies);
      this.latencies = grown;
    }
    this.latencies[this.latencyCount++] = ms;
  }

  /** p50/p95/p99 of request latency in milliseconds, and how many requests were made. */
  latency(): { requests: number; p50_ms: number; p95_ms: number; p99_ms: number } {
    const sorted = this.latencies.slice(0, this.latencyCount).sort();
    return { requests: this.latencyCount, p50_ms: percentile(sorted, 50), p95_ms: percentile(sorted, 95), p99_ms: percentile(sorted, 99) };
  }

  /**
   * Request latencies as a sparse histogram of 2% buckets (bucket b holds latencies up to 1.02^b
   * ms), which summaries of many emitters can add up; see `percentilesOf`.
   */
  latencyHistogram(): Record<string, number> {
    const buckets: Record<string, number> = {};
    for (let i = 0; i < this.latencyCount; i++) {
      const b = bucketOf(this.latencies[i] as number);
      buckets[b] = (buckets[b] ?? 0) + 1;
    }
    return buckets;
  }

  /** Sent and failed per event type, types in name order. */
  perType(): Record<string, { sent: number; failed: number }> {
    return Object.fromEntries([...this.byType.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([t, c]) => [t, { ...c }]));
  }
}

const BUCKET_RATIO = 1.02;
const bucketOf = (ms: number) => Math.ceil(Math.log(Math.max(ms, 0.01)) / Math.log(BUCKET_RATIO));

/** Adds histograms from `latencyHistogram` (of many emitters). */
export function addHistograms(total: Record<string, number>, more: Record<string, number>): Record<string, number> {
  for (const [b, n] of Object.entries(more)) total[b] = (total[b] ?? 0) + n;
  return total;
}

/** p50/p95/p99 from a merged histogram: each the upper bound of its bucket (within 2% above the exact one). */
export function percentilesOf(histogram: Record<string, number>): { requests: number; p50_ms: number; p95_ms: number; p99_ms: number } {
  const buckets = Object.entries(histogram)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const requests = buckets.reduce((t, [, n]) => t + n, 0);
  const at = (p: number) => {
    if (requests === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * requests));
    let seen = 0;
    for (const [b, n] of buckets) {
      seen += n;
      if (seen >= rank) return Math.round(BUCKET_RATIO ** b * 10) / 10;
    }
    return 0;
  };
  return { requests, p50_ms: at(50), p95_ms: at(95), p99_ms: at(99) };
}
