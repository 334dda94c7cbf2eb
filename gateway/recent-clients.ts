/** Clients seen on a listener recently, bounded (oldest evicted first). Used by the egress policy. */
export class RecentClients {
  private readonly seen = new Map<string, number>();
  constructor(private readonly windowMs: number, private readonly max: number) {}

  /** Record a client address. Refreshes at most once a second per address to keep the hot path cheap. */
  touch(address: string, now: number): void {
    if (this.windowMs === 0) return;
    const last = this.seen.get(address);
    if (last !== undefined && now - last < 1000) return;
    if (last !== undefined) this.seen.delete(address);
    else if (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(address, now);
  }

  has(address: string, now: number): boolean {
    const last = this.seen.get(address);
    return last !== undefined && now - last <= this.windowMs;
  }

  get size(): number { return this.seen.size; }
}
