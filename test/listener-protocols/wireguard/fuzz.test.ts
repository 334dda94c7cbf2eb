/**
 * Random and mutated messages (fast-check, fixed seed): the engine never throws, never delivers
 * a forged or replayed datagram, never answers a mutated handshake, and names a reason for
 * every drop.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WireGuardAction } from '../../../listener-protocols/wireguard/index.js';
import { A_ENDPOINT, aSends, B_ENDPOINT, makePair } from './support/pair.js';

const T0 = 1_700_000_000_000;
const SEED = 12;

/** A pair with a session, B's recorded valid messages of every type, and A with an initiation in flight. */
function setup() {
  const p = makePair();
  aSends(p, 'first', T0);
  aSends(p, 'second', T0 + 1);
  const valid = p.wire.map((w) => w.data);
  const cookieMaker = makePair();
  cookieMaker.b.setUnderLoad(true);
  aSends(cookieMaker, 'x', T0);
  valid.push(...cookieMaker.wire.map((w) => w.data)); // an initiation and a cookie reply
  p.a.initiateHandshake(p.bKey, T0 + 10_000); // A waits for a response: index in flight
  return { p, valid };
}

const typed = fc.tuple(fc.constantFrom(1, 2, 3, 4), fc.uint8Array({ minLength: 0, maxLength: 200 }))
  .map(([type, rest]) => Buffer.concat([Buffer.from([type, 0, 0, 0]), rest]));
const sized = fc.constantFrom(148, 92, 64, 32, 48).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
  .map((b) => { const buf = Buffer.from(b); buf.writeUInt32LE(1 + (buf[0]! % 4), 0); return buf; });
const anyBytes = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => Buffer.from(b));

function mutation(valid: Buffer[]) {
  return fc.record({
    which: fc.nat({ max: valid.length - 1 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  }).map(({ which, flips, cut }) => {
    const m = Buffer.from(valid[which]!);
    for (const [at, x] of flips) m[at % m.length]! ^= x;
    return cut === undefined ? m : m.subarray(0, cut % m.length);
  });
}

function check(actions: WireGuardAction[]): void {
  for (const a of actions) {
    expect(a.type).not.toBe('deliver');
    if (a.type === 'drop') expect(a.reason).toMatch(/^[a-z0-9-]+$/);
    if (a.type === 'send') expect(a.data[0]).toBe(3); // at most a cookie reply, never a handshake response
  }
}

describe('WireGuard engine under random and mutated input', () => {
  it('random datagrams: no crash, no delivery, a reason for every drop', () => {
    const { p } = setup();
    const delivered = [p.a.counters().delivered, p.b.counters().delivered];
    fc.assert(fc.property(fc.oneof(typed, sized, anyBytes), fc.boolean(), (data, toA) => {
      check((toA ? p.a : p.b).receive(data, toA ? B_ENDPOINT : A_ENDPOINT, T0 + 20_000));
    }), { seed: SEED, numRuns: 4_000 });
    expect([p.a.counters().delivered, p.b.counters().delivered]).toEqual(delivered);
  });

  it('mutated valid messages (bit flips, truncation) and replays never decrypt', () => {
    const { p, valid } = setup();
    const delivered = p.b.counters().delivered;
    fc.assert(fc.property(mutation(valid), fc.boolean(), (data, toA) => {
      check((toA ? p.a : p.b).receive(data, toA ? B_ENDPOINT : A_ENDPOINT, T0 + 20_000));
    }), { seed: SEED, numRuns: 3_000 });
    for (const v of valid) check(p.b.receive(v, A_ENDPOINT, T0 + 20_000)); // replays of everything
    expect(p.b.counters().delivered).toBe(delivered);
    const drops = p.b.counters().drops;
    expect(drops['decrypt-failed']).toBeGreaterThan(0);
    expect(drops['bad-mac1']).toBeGreaterThan(0);
    expect(drops['unknown-type']).toBeGreaterThan(0);
  });

  it('the session still works after the fuzzing', () => {
    const { p, valid } = setup();
    fc.assert(fc.property(mutation(valid), (data) => { p.b.receive(data, A_ENDPOINT, T0 + 2); }), { seed: SEED, numRuns: 500 });
    aSends(p, 'still here', T0 + 3);
    expect(p.delivered.map((d) => d.action.packet.payload.toString())).toEqual(['first', 'second', 'still here']);
  });
});
