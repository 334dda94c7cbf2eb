/** Clients seen on a listener recently, bounded (oldest evicted first). Used by the egress policy. */

/** The key of a client remembered with its port (egress policy address-port). */
export function clientKey(address: string, port: number): string { return `${address}|${port}`; }

interface Seen { at: number; sharedAt: number }

export class RecentClients {
  private readonly seen = new Map<string, Seen>();
  /** Called when a client should be made known to sibling processes (new, or not shared for half a window). */
  onShare: ((address: string) => void) | undefined;

  constructor(private readonly windowMs: number, private readonly max: number) {}

  /** Record a client address. Refreshes at most once a second per address to keep the hot path cheap. */
  touch(address: string, now: number): void {
    if (this.windowMs === 0) return;
    const s = this.seen.get(address);
    if (s !== undefined && now - s.at < 1000) return;
    const shared = s === undefined || now - s.sharedAt >= this.windowMs / 2;
    this.put(address, { at: now, sharedAt: shared ? now : s.sharedAt });
    if (shared) this.onShare?.(address);
  }

  /** Record a client a sibling process has seen (no further sharing). */
  remember(address: string, now: number): void {
    if (this.windowMs === 0) return;
    const s = this.seen.get(address);
    if (s === undefined || s.at < now) this.put(address, { at: now, sharedAt: s?.sharedAt ?? now });
  }

  has(address: string, now: number): boolean {
    const s = this.seen.get(address);
    return s !== undefined && now - s.at <= this.windowMs;
  }

  get size(): number { return this.seen.size; }

  private put(address: string, s: Seen): void {
    if (this.seen.has(address)) this.seen.delete(address); // move to the end: oldest stay first
    else if (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(address, s);
  }
}
