import { describe, expect, it } from 'vitest';
import { REPLAY_WINDOW_SIZE, ReplayWindow } from '../../../listener-protocols/wireguard/replay-window.js';

describe('anti-replay window (RFC 6479 style)', () => {
  it('accepts each counter once, in any order inside the window', () => {
    const w = new ReplayWindow();
    expect([0, 2, 1, 2, 0, 3].map((c) => w.accept(c))).toEqual([true, true, true, false, false, true]);
  });

  it('refuses counters a full window behind the highest and accepts those just inside', () => {
    const w = new ReplayWindow();
    expect(w.accept(100_000)).toBe(true);
    expect(w.accept(100_000 - REPLAY_WINDOW_SIZE)).toBe(false);
    expect(w.accept(100_000 - REPLAY_WINDOW_SIZE + 1)).toBe(true);
    expect(w.accept(100_000 - REPLAY_WINDOW_SIZE + 1)).toBe(false);
  });

  it('forgets bits of blocks it moved past, so new counters there are fresh', () => {
    const w = new ReplayWindow();
    for (let c = 0; c < 64; c++) w.accept(c);
    expect(w.accept(64 + 256 * 32)).toBe(true); // the ring wrapped: the slots of 0..63 now hold new blocks
    expect(w.accept(64 + 256 * 32 - 1)).toBe(true);
    expect(w.accept(64 + 256 * 32 - 1)).toBe(false);
  });

  it('matches a plain set-based model on random sequences', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const w = new ReplayWindow();
    const seen = new Set<number>();
    let highest = -1;
    const mismatches: number[] = [];
    const outcomes = { accepted: 0, duplicate: 0, tooOld: 0 };
    for (let i = 0; i < 20_000; i++) {
      // mostly near the top of the window, sometimes far behind it, sometimes a repeat
      const c = i % 5 === 0 && highest > 0 ? highest - (i % 40) : Math.max(0, Math.floor(highest + (rand() - 0.7) * 12_000));
      const tooOld = highest - c >= REPLAY_WINDOW_SIZE;
      const expected = !seen.has(c) && !tooOld;
      if (w.accept(c) !== expected) mismatches.push(c);
      if (expected) { seen.add(c); highest = Math.max(highest, c); outcomes.accepted++; } else if (tooOld) outcomes.tooOld++; else outcomes.duplicate++;
    }
    expect(mismatches).toEqual([]);
    expect(outcomes.accepted).toBeGreaterThan(5_000); // the model exercised every outcome
    expect(outcomes.duplicate).toBeGreaterThan(200);
    expect(outcomes.tooOld).toBeGreaterThan(50);
  });

  it('refuses negative and inexact counters', () => {
    const w = new ReplayWindow();
    expect(w.accept(-1)).toBe(false);
    expect(w.accept(2 ** 53)).toBe(false);
  });
});
