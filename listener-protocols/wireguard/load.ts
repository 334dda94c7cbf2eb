/**
 * "Under load" (whitepaper §5.3): while under load the responder answers handshake messages
 * without a valid mac2 with a cookie reply instead of spending a DH on them. wireguard-go decides
 * by its handshake queue length and stays under load for one second (UnderLoadAfterTime); this
 * synchronous engine decides by the handshake messages seen in the last second, or the caller's
 * signal. Under load, sources with a valid mac2 are still rate limited per IP address like
 * wireguard-go's ratelimiter: 20 handshakes a second, bursts of 5.
 */
const UNDER_LOAD_AFTER = 1_000;
const RATE_PER_SECOND = 20;
const BURST = 5;

export class LoadMonitor {
  private windowStart = -Infinity;
  private count = 0;
  private underLoadUntil = -Infinity;
  forced: boolean | undefined;

  constructor(private readonly threshold: number, private readonly signal?: (now: number) => boolean) {}

  /** Record one handshake message; true when the engine is under load. */
  handshakeSeen(now: number): boolean {
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.count = 0;
    }
    if (++this.count > this.threshold) this.underLoadUntil = now + UNDER_LOAD_AFTER;
    return this.isUnderLoad(now);
  }

  isUnderLoad(now: number): boolean {
    if (this.forced !== undefined) return this.forced;
    if (this.signal) return this.signal(now);
    return now < this.underLoadUntil;
  }
}

/** Token bucket per source address. */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  allow(address: string, now: number): boolean {
    const b = this.buckets.get(address) ?? { tokens: BURST, at: now };
    b.tokens = Math.min(BURST, b.tokens + ((now - b.at) / 1_000) * RATE_PER_SECOND);
    b.at = now;
    this.buckets.set(address, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forget sources whose bucket is full again. */
  sweep(now: number): void {
    for (const [address, b] of this.buckets) if (now - b.at > 1_000) this.buckets.delete(address);
  }
}
