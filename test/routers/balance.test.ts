/** The balancer every pool uses (gateway/routing/balance.ts): pure, so checked on values. */
import { describe, expect, it } from 'vitest';
import { createBalancer, hashAddress } from '../../gateway/routing/balance.js';
import type { RouteTarget } from '../../gateway/extension/router.js';

const target = (i: number): RouteTarget => ({ address: `10.0.0.${i}`, port: 9000, family: 4, label: `10.0.0.${i}:9000` });
const pool = (n: number) => Array.from({ length: n }, (_, i) => target(i + 1));
const clients = Array.from({ length: 5000 }, (_, i) => `192.0.${i >> 8}.${i & 255}`);

describe('balancer', () => {
  it('hash: the same client, the same backend, as before routers (FNV-1a modulo the pool)', () => {
    const p = pool(3);
    const b = createBalancer(p, 'hash');
    for (const c of clients.slice(0, 50)) expect(b.pick(c)).toBe(p[hashAddress(c) % 3]);
    expect(new Set(clients.slice(0, 50).map((c) => b.pick(c)!.label)).size).toBe(3);
  });

  it('consistent-hash: adding a fourth backend moves about 1/4 of clients, all of them to the new one', () => {
    const three = createBalancer(pool(3), 'consistent-hash');
    const four = createBalancer(pool(4), 'consistent-hash');
    let moved = 0;
    for (const c of clients) {
      const a = three.pick(c)!, b = four.pick(c)!;
      if (a.label !== b.label) { moved++; expect(b.label).toBe('10.0.0.4:9000'); }
    }
    expect(moved / clients.length).toBeGreaterThan(0.15);
    expect(moved / clients.length).toBeLessThan(0.35);
    const plain3 = createBalancer(pool(3), 'hash'), plain4 = createBalancer(pool(4), 'hash');
    const movedPlain = clients.filter((c) => plain3.pick(c)!.label !== plain4.pick(c)!.label).length;
    expect(movedPlain / clients.length).toBeGreaterThan(0.5); // what consistent hashing avoids
  });

  it('consistent-hash with weights: a backend of weight 3 takes about 3/5 of clients', () => {
    const b = createBalancer(pool(3), 'consistent-hash', { '10.0.0.1:9000': 3 });
    const share = clients.filter((c) => b.pick(c)!.label === '10.0.0.1:9000').length / clients.length;
    expect(share).toBeGreaterThan(0.5);
    expect(share).toBeLessThan(0.7);
  });

  it('round-robin: smooth and weighted', () => {
    const plain = createBalancer(pool(3), 'round-robin');
    expect(Array.from({ length: 6 }, () => plain.pick('x')!.label.slice(7, 8))).toEqual(['1', '2', '3', '1', '2', '3']);
    const weighted = createBalancer(pool(2), 'round-robin', { '10.0.0.1:9000': 2 });
    expect(Array.from({ length: 6 }, () => weighted.pick('x')!.label.slice(7, 8))).toEqual(['1', '2', '1', '1', '2', '1']);
  });

  it('least-sessions: the backend with the fewest sessions per weight, ends counted', () => {
    const [a, b] = pool(2) as [RouteTarget, RouteTarget];
    const lb = createBalancer([a, b], 'least-sessions');
    expect(lb.pick('x')).toBe(a);
    lb.started(a);
    expect(lb.pick('x')).toBe(b);
    lb.started(b); lb.started(b);
    expect(lb.pick('x')).toBe(a);
    lb.ended(b); lb.ended(b);
    expect(lb.pick('x')).toBe(b);
    expect(lb.sessions()).toEqual({ [a.label]: 1, [b.label]: 0 });
  });

  it('skips backends a session failed on, and picks none when all failed', () => {
    for (const mode of ['hash', 'consistent-hash', 'round-robin', 'least-sessions'] as const) {
      const p = pool(2);
      const b = createBalancer(p, mode);
      const first = b.pick('192.0.2.7')!;
      const second = b.pick('192.0.2.7', [first])!;
      expect(second.label, mode).not.toBe(first.label);
      expect(b.pick('192.0.2.7', p), mode).toBeUndefined();
    }
  });
});
