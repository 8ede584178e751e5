/**
 * A counted semaphore served first come, first served: a request for several slots is not
 * overtaken by later requests for one.
 */
export class Slots {
  private free: number;
  private readonly queue: { count: number; wake: () => void }[] = [];

  constructor(private readonly capacity: number) {
    this.free = capacity;
  }

  /** Runs `work` holding `count` slots (at most the capacity). */
  async hold<T>(count: number, work: () => Promise<T>): Promise<T> {
    const wanted = Math.min(count, this.capacity);
    if (this.queue.length > 0 || this.free < wanted) await new Promise<void>((wake) => this.queue.push({ count: wanted, wake }));
    else this.free -= wanted;
    try {
      return await work();
    } finally {
      this.free += wanted;
      this.serve();
    }
  }

  private serve(): void {
    while (this.queue.length > 0 && (this.queue[0] as { count: number }).count <= this.free) {
      const next = this.queue.shift() as { count: number; wake: () => void };
      this.free -= next.count;
      next.wake();
    }
  }
}
