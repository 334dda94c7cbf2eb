/**
 * Per-client rate limits of a listener (as Quilkin's local rate limit filter, but per client address):
 * a token bucket per client address (not per port: a client spoofing many source ports of one
 * address shares one bucket) for packets per second and bytes per second, each with a burst of
 * `burstSeconds` of its rate. A packet over either limit is a counted drop (reason
 * `client-packet-rate` or `client-byte-rate`), never an error. Clients are remembered up to
 * `maxClients` (least recently seen forgotten first; a forgotten client starts with a full bucket).
 */
export interface ClientRateLimitConfig {
  readonly packetsPerSecond?: number;
  readonly bytesPerSecond?: number;
  readonly burstSeconds: number;
  readonly maxClients: number;
}

export type RateLimitDrop = 'client-packet-rate' | 'client-byte-rate';

interface Bucket { packets: number; bytes: number; at: number }

export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly pps: number;
  private readonly bps: number;
  private readonly maxPackets: number;
  private readonly maxBytes: number;

  constructor(private readonly cfg: ClientRateLimitConfig) {
    this.pps = cfg.packetsPerSecond ?? Infinity;
    this.bps = cfg.bytesPerSecond ?? Infinity;
    this.maxPackets = this.pps * cfg.burstSeconds;
    this.maxBytes = this.bps * cfg.burstSeconds;
  }

  get clients(): number { return this.buckets.size; }

  /** Takes one packet of `bytes` from the client's buckets; a drop reason when either is short. */
  take(address: string, bytes: number, now: number): RateLimitDrop | undefined {
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (this.buckets.size >= this.cfg.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
      b = { packets: this.maxPackets, bytes: this.maxBytes, at: now };
      this.buckets.set(address, b);
    } else if (now > b.at) {
      const s = (now - b.at) / 1000;
      b.packets = Math.min(this.maxPackets, b.packets + s * this.pps);
      b.bytes = Math.min(this.maxBytes, b.bytes + s * this.bps);
      b.at = now;
      this.buckets.delete(address); this.buckets.set(address, b); // most recently seen last
    }
    if (b.packets < 1) return 'client-packet-rate';
    if (b.bytes < bytes) return 'client-byte-rate';
    b.packets -= 1;
    b.bytes -= bytes;
    return undefined;
  }
}
