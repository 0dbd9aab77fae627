// Token buckets for the emulator's limits: a client may do `rate` things a second on average and `capacity` at
// once. One bucket per connection at the broker (connection-guard.ts); one per remote address for the LWA pages.
import { performance } from 'node:perf_hooks';

export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(private readonly rate: number, private readonly capacity: number) {
    this.tokens = capacity;
  }
  /** Takes `amount`; false (and nothing taken) when the bucket holds less. */
  take(amount = 1): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}

/**
 * A bucket per key (a remote address), `perMinute` on average and as many at once. At most `maxKeys` are kept:
 * past that the oldest are forgotten, so a sweep of addresses costs bounded memory, not a free pass.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(private readonly perMinute: number, private readonly maxKeys = 10_000) {
    if (!(perMinute > 0)) throw new RangeError(`perMinute expected a number > 0, got ${perMinute}`);
  }
  take(key: string): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new TokenBucket(this.perMinute / 60, this.perMinute);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }
}
