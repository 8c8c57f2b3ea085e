/**
 * Time, as the model sees it. The pure layers never create timers themselves: readiness
 * delays and the driver's polling loops ask this interface, so tests can drive time.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolve after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** A clock that only moves when told to: tests use it to step through readiness waits. */
export class ManualClock implements Clock {
  private t = 0;
  private waiters: { at: number; resolve: () => void }[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ at: this.t + ms, resolve });
    });
  }

  /** Move time forward, waking every sleeper whose deadline has passed, in deadline order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.waiters.sort((a, b) => a.at - b.at);
      const next = this.waiters[0];
      if (!next || next.at > end) break;
      this.waiters.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
      // Let the woken task run (and possibly sleep again) before looking at the queue.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.t = end;
  }
}
