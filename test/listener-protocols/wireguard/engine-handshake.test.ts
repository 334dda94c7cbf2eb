/** Two engines in memory: handshakes both ways, failure reasons, cookies under load. */
import { describe, expect, it } from 'vitest';
import { WireGuardEngine, generatePrivateKey, publicKeyOf } from '../../../listener-protocols/wireguard/index.js';
import { A_ENDPOINT, A_INNER, aSends, B_ENDPOINT, B_INNER, makePair, messageType } from './support/pair.js';

const T0 = 1_700_000_000_000;

describe('WireGuard engine handshake (two engines in memory)', () => {
  it('completes a handshake on the first send, delivers it, and a reply comes back the same way', () => {
    const p = makePair();
    aSends(p, 'hello', T0);
    expect(p.wire.map((w) => `${w.from}:${messageType(w.data)}`)).toEqual(['a:1', 'b:2', 'a:4']);
    expect(p.delivered).toHaveLength(1);
    const got = p.delivered[0]!.action;
    expect(got.peer).toBe(p.aKey);
    expect(got.from).toEqual(A_ENDPOINT);
    expect(got.packet).toMatchObject({ src: A_INNER, dst: B_INNER, srcPort: 4000, dstPort: 5000 });
    expect(got.packet.payload.toString()).toBe('hello');
    p.pump('b', p.b.reply(got, Buffer.from('hi back'), T0 + 1), T0 + 1);
    const back = p.delivered[1]!;
    expect(back.to).toBe('a');
    expect(back.action.packet).toMatchObject({ src: B_INNER, dst: A_INNER, srcPort: 5000, dstPort: 4000 });
    expect(back.action.packet.payload.toString()).toBe('hi back');
    expect(p.a.counters()).toMatchObject({ handshakesCompletedAsInitiator: 1, initiationsSent: 1, delivered: 1 });
    expect(p.b.counters()).toMatchObject({ handshakesCompletedAsResponder: 1, responsesSent: 1, delivered: 1 });
    expect(p.b.peers(T0 + 1)[0]).toMatchObject({ publicKey: p.aKey, hasSession: true, endpoint: A_ENDPOINT });
  });

  it('the responder can initiate too once it knows the endpoint (out-of-band after a session expired)', () => {
    const p = makePair();
    aSends(p, 'one', T0);
    const later = T0 + 200_000; // past REJECT_AFTER_TIME: B has no usable session, but knows A's endpoint
    expect(p.b.hasSession(p.aKey, later)).toBe(false);
    p.pump('b', p.b.sendUdp(p.aKey, p.udp('b', 'push', later), later), later);
    expect(p.delivered.at(-1)!.action.packet.payload.toString()).toBe('push');
    expect(p.b.counters().handshakesCompletedAsInitiator).toBe(1);
    expect(p.a.counters().handshakesCompletedAsResponder).toBe(1);
  });

  it('refuses a peer that is not configured, and counts it', () => {
    const p = makePair();
    const strangerPriv = generatePrivateKey();
    const stranger = new WireGuardEngine({ privateKey: strangerPriv, peers: [{ publicKey: p.bKey, allowedIPs: ['0.0.0.0/0'], endpoint: B_ENDPOINT }] });
    const out = stranger.sendUdp(p.bKey, p.udp('a', 'x', T0), T0);
    const init = out.find((a) => a.type === 'send')!;
    const res = p.b.receive((init as { data: Buffer }).data, A_ENDPOINT, T0);
    expect(res).toEqual([{ type: 'drop', reason: 'unknown-peer' }]);
    expect(p.b.counters().drops['unknown-peer']).toBe(1);
    expect(p.b.counters().responsesSent).toBe(0);
  });

  it('refuses an initiation for another responder key (bad mac1) and a replayed initiation (TAI64N)', () => {
    const p = makePair();
    const init = p.a.sendUdp(p.bKey, p.udp('a', 'x', T0), T0).find((a) => a.type === 'send') as { data: Buffer };
    const other = new WireGuardEngine({ privateKey: generatePrivateKey(), peers: [{ publicKey: p.aKey, allowedIPs: [] }] });
    expect(other.receive(init.data, A_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'bad-mac1' }]);
    expect(p.b.receive(init.data, A_ENDPOINT, T0).map((a) => a.type)).toEqual(['send']);
    expect(p.b.receive(init.data, A_ENDPOINT, T0 + 1_000)).toEqual([{ type: 'drop', reason: 'timestamp-replay', peer: p.aKey }]);
  });

  it('consumes at most one initiation per peer every 20 ms (flood)', () => {
    const p = makePair({ a: { limits: { rekeyTimeout: 0 } } });
    const first = p.a.initiateHandshake(p.bKey, T0)[0] as { data: Buffer };
    const second = p.a.initiateHandshake(p.bKey, T0 + 100)[0] as { data: Buffer };
    expect(p.b.receive(first.data, A_ENDPOINT, T0).map((a) => a.type)).toEqual(['send']);
    expect(p.b.receive(second.data, A_ENDPOINT, T0 + 10)).toEqual([{ type: 'drop', reason: 'initiation-flood', peer: p.aKey }]);
  });

  it('under load answers with a cookie; the retransmitted initiation carries mac2 and completes', () => {
    const p = makePair();
    p.b.setUnderLoad(true);
    aSends(p, 'loaded', T0);
    expect(p.wire.map((w) => messageType(w.data))).toEqual([1, 3]);
    expect(p.b.counters()).toMatchObject({ cookieRepliesSent: 1, responsesSent: 0 });
    expect(p.b.counters().drops['under-load-cookie-sent']).toBe(1);
    expect(p.a.counters().cookieRepliesReceived).toBe(1);
    p.pump('a', p.a.tick(T0 + 5_400), T0 + 5_400); // REKEY_TIMEOUT + max jitter
    expect(p.wire.map((w) => messageType(w.data))).toEqual([1, 3, 1, 2, 4]);
    expect(p.delivered.map((d) => d.action.packet.payload.toString())).toEqual(['loaded']);
  });

  it('under load rate-limits a source even with a valid mac2 (20/s, burst 5)', () => {
    const p = makePair({ a: { limits: { rekeyTimeout: 0 } } });
    p.b.setUnderLoad(true);
    p.pump('a', p.a.initiateHandshake(p.bKey, T0), T0); // gets the cookie
    const reasons: string[] = [];
    for (let i = 1; i <= 8; i++) {
      const init = p.a.initiateHandshake(p.bKey, T0 + i)[0] as { data: Buffer };
      reasons.push(...p.b.receive(init.data, A_ENDPOINT, T0 + i).map((a) => (a.type === 'drop' ? a.reason : a.type)));
    }
    expect(reasons.filter((r) => r === 'rate-limited')).toHaveLength(3);
  });

  it('turns under load by itself past the handshake threshold', () => {
    const p = makePair({ a: { limits: { rekeyTimeout: 0 } }, b: { underLoadHandshakesPerSecond: 2 } });
    const types: number[] = [];
    for (let i = 0; i < 3; i++) {
      const init = p.a.initiateHandshake(p.bKey, T0 + i * 30)[0] as { data: Buffer };
      types.push(...p.b.receive(init.data, A_ENDPOINT, T0 + i * 30).filter((a) => a.type === 'send').map((a) => messageType((a as { data: Buffer }).data)));
    }
    expect(types).toEqual([2, 2, 3]);
  });

  it('drops a response nobody asked for and a cookie reply for an unknown index', () => {
    const p = makePair();
    const init = p.a.initiateHandshake(p.bKey, T0)[0] as { data: Buffer };
    const resp = p.b.receive(init.data, A_ENDPOINT, T0)[0] as { data: Buffer };
    const fresh = makePair();
    const stray = Buffer.from(resp.data);
    expect(fresh.a.receive(stray, B_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'bad-mac1' }]);
    expect(p.a.receive(resp.data, B_ENDPOINT, T0).some((a) => a.type === 'send')).toBe(true);
    expect(p.a.receive(resp.data, B_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'unknown-receiver-index' }]);
    const cookie = Buffer.alloc(64);
    cookie[0] = 3;
    expect(p.a.receive(cookie, B_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'unknown-receiver-index' }]);
  });

  it('uses the preshared key: matching keys complete, a mismatch fails the response', () => {
    const psk = Buffer.alloc(32, 9).toString('base64');
    const aPriv = generatePrivateKey();
    const bPriv = generatePrivateKey();
    const bPublic = publicKeyOf(bPriv);
    const a = new WireGuardEngine({ privateKey: aPriv, peers: [{ publicKey: bPublic, allowedIPs: [], presharedKey: psk, endpoint: B_ENDPOINT }] });
    const handshake = (b: WireGuardEngine) => {
      const init = a.initiateHandshake(bPublic, T0)[0] as { data: Buffer };
      const resp = b.receive(init.data, A_ENDPOINT, T0)[0] as { data: Buffer };
      return a.receive(resp.data, B_ENDPOINT, T0).map((x) => (x.type === 'drop' ? x.reason : x.type));
    };
    const withPsk = new WireGuardEngine({ privateKey: bPriv, peers: [{ publicKey: publicKeyOf(aPriv), allowedIPs: [], presharedKey: psk }] });
    expect(handshake(withPsk)).toEqual(['send']); // the keepalive that confirms the session
    expect(a.hasSession(bPublic, T0)).toBe(true);
    const a2 = new WireGuardEngine({ privateKey: aPriv, peers: [{ publicKey: bPublic, allowedIPs: [], presharedKey: psk, endpoint: B_ENDPOINT }] });
    const withoutPsk = new WireGuardEngine({ privateKey: bPriv, peers: [{ publicKey: publicKeyOf(aPriv), allowedIPs: [] }] });
    const init = a2.initiateHandshake(bPublic, T0)[0] as { data: Buffer };
    const resp = withoutPsk.receive(init.data, A_ENDPOINT, T0)[0] as { data: Buffer };
    expect(a2.receive(resp.data, B_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'handshake-decrypt', peer: bPublic }]);
    expect(a2.hasSession(bPublic, T0)).toBe(false);
  });
});
