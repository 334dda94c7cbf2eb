/** Bounded FIFO of packets (ring buffer): O(1) push and shift, byte count kept for the batcher. */
import type { Packet } from '../packet.js';

export class PacketQueue {
  private readonly ring: (Packet | undefined)[];
  private head = 0;
  private count = 0;
  private byteCount = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }

  get length(): number { return this.count; }
  get bytes(): number { return this.byteCount; }

  /** False when full: the caller drops and counts. */
  push(p: Packet): boolean {
    if (this.count === this.capacity) return false;
    this.ring[(this.head + this.count) % this.capacity] = p;
    this.count++;
    this.byteCount += p.data.length;
    return true;
  }

  peek(): Packet | undefined {
    return this.count ? this.ring[this.head] : undefined;
  }

  shift(): Packet | undefined {
    if (this.count === 0) return undefined;
    const p = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.byteCount -= p.data.length;
    return p;
  }

  /** Remove and return the first `n` (at most length), in an array of its final size. */
  take(n: number): Packet[] {
    const out = new Array<Packet>(Math.min(n, this.count));
    for (let i = 0; i < out.length; i++) out[i] = this.shift()!;
    return out;
  }

  /** Remove and return everything (shutdown past its deadline). */
  takeAll(): Packet[] {
    const out: Packet[] = [];
    for (let p = this.shift(); p; p = this.shift()) out.push(p);
    return out;
  }
}
