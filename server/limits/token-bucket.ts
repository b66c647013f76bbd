/**
 * A token bucket: `ratePerSecond` sustained, bursts up to `burst`. One lives
 * with each connection's listeners, so it disappears with the connection.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number = ratePerSecond * 2,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether the bucket has refilled to its burst (nothing taken lately). */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  /** Seconds until a token is available (0 if one is). */
  secondsUntilNext(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.ratePerSecond);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }
}

/**
 * One token bucket per key (a user id): a budget shared by every connection
 * of that user on this instance. A bucket that would be full again is
 * forgotten, so idle users cost nothing.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number = ratePerSecond * 2,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastSweep = now();
  }

  /** Takes one token from `key`'s bucket; false when it is empty. */
  take(key: string): boolean {
    this.sweep();
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.ratePerSecond, this.burst, this.now)));
    return bucket.take();
  }

  /** Every refill period, drops the buckets that have refilled completely. */
  private sweep(): void {
    const t = this.now();
    const refillMs = (this.burst / this.ratePerSecond) * 1000;
    if (t - this.lastSweep < refillMs) return;
    this.lastSweep = t;
    for (const [key, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(key);
  }
}
