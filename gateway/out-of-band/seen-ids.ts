/** A bounded set of recently handled message ids (oldest evicted first), to ignore retried deliveries. */
export class SeenIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max: number) {
    if (!(max >= 1)) throw new RangeError('SeenIds: max must be at least 1');
  }

  has(id: string): boolean { return this.ids.has(id); }

  add(id: string): void {
    if (this.ids.has(id)) return;
    if (this.ids.size >= this.max) this.ids.delete(this.ids.values().next().value as string);
    this.ids.add(id);
  }

  remove(id: string): void { this.ids.delete(id); }

  get size(): number { return this.ids.size; }
}

export type ReplayCheck = 'new' | 'duplicate' | 'stale' | 'future';

/**
 * A replay guard for signed, timestamped messages (SNS): a message is accepted once, and only while
 * its Timestamp is within `windowMs` of now (and not more than `skewMs` ahead). Ids are remembered
 * for the whole window, within a bounded memory: when an id still inside the window must be evicted
 * to make room, the window's lower edge rises to that id's timestamp, so a message older than it is
 * refused as stale instead of delivered again. Nothing is accepted twice; under a flood of more than
 * `maxIds` messages per window, late messages are refused (counted) rather than replayable.
 * Memory is per process: after a restart, a message still inside the window is accepted once more.
 */
export class ReplayWindow {
  /** id → timestamp (ms), in arrival order. */
  private readonly ids = new Map<string, number>();
  /** Timestamps at or below this were possibly forgotten: refused. */
  private floor = -Infinity;

  constructor(private readonly maxIds: number, readonly windowMs: number, readonly skewMs = 300_000) {
    if (!(maxIds >= 1)) throw new RangeError('ReplayWindow: maxIds must be at least 1');
  }

  check(id: string, timestamp: number, now: number): ReplayCheck {
    if (this.ids.has(id)) return 'duplicate';
    if (timestamp > now + this.skewMs) return 'future';
    if (timestamp < now - this.windowMs || timestamp <= this.floor) return 'stale';
    return 'new';
  }

  add(id: string, timestamp: number, now: number): void {
    if (this.ids.has(id)) return;
    if (this.ids.size >= this.maxIds) this.evict(now);
    this.ids.set(id, timestamp);
  }

  remove(id: string): void { this.ids.delete(id); }

  get size(): number { return this.ids.size; }

  /** Drops ids the window no longer covers; if none, the oldest arrival, raising the floor. */
  private evict(now: number): void {
    const edge = now - this.windowMs;
    for (const [id, ts] of this.ids) { // arrival order is close to timestamp order: stop at the first in the window
      if (ts >= edge || this.ids.size < this.maxIds) break;
      this.ids.delete(id);
    }
    if (this.ids.size < this.maxIds) return;
    const [id, ts] = this.ids.entries().next().value as [string, number];
    this.ids.delete(id);
    if (ts > this.floor) this.floor = ts;
  }
}
