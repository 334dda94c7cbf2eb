/**
 * Anti-replay sliding window for transport counters, RFC 6479 style (a ring of bit blocks, so
 * moving the window clears whole blocks instead of shifting bits); whitepaper §5.4.6 asks for
 * "a sliding window" of accepted counters. 256 blocks of 32 bits: counters up to
 * (256 − 1) × 32 = 8160 behind the highest one seen are still accepted once.
 */
const BLOCK_BITS = 32;
const BLOCKS = 256;
export const REPLAY_WINDOW_SIZE = (BLOCKS - 1) * BLOCK_BITS;

export class ReplayWindow {
  private readonly ring = new Uint32Array(BLOCKS);
  private highest = -1;

  /** Mark `counter` as seen; false if it was seen before or is too old. Call only after the packet authenticated. */
  accept(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 0) return false;
    const block = Math.floor(counter / BLOCK_BITS);
    if (counter > this.highest) {
      this.advanceTo(block);
      this.highest = counter;
    } else if (this.highest - counter >= REPLAY_WINDOW_SIZE) {
      return false;
    }
    const slot = block % BLOCKS;
    const bit = 1 << (counter % BLOCK_BITS);
    if ((this.ring[slot]! & bit) !== 0) return false;
    this.ring[slot]! |= bit;
    return true;
  }

  private advanceTo(block: number): void {
    const current = this.highest < 0 ? -1 : Math.floor(this.highest / BLOCK_BITS);
    const steps = Math.min(block - current, BLOCKS);
    for (let i = 1; i <= steps; i++) this.ring[(current + i) % BLOCKS] = 0;
  }
}
