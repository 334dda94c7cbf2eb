/** Transport data, keepalives, rekey and reject timers, roaming, allowed IPs: two engines in memory, time passed in. */
import { describe, expect, it } from 'vitest';
import { A_ENDPOINT, aSends, B_ENDPOINT, makePair, messageType } from './support/pair.js';

const T0 = 1_700_000_000_000;
const types = (p: ReturnType<typeof makePair>, from?: 'a' | 'b') => p.wire.filter((w) => !from || w.from === from).map((w) => messageType(w.data));

describe('WireGuard engine transport and timers (two engines in memory)', () => {
  it('drops replays and forgeries of transport messages, and messages for an unknown index', () => {
    const p = makePair();
    aSends(p, 'one', T0);
    const data = p.wire.find((w) => w.from === 'a' && messageType(w.data) === 4)!.data;
    expect(p.b.receive(data, A_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'replay', peer: p.aKey }]);
    const forged = Buffer.from(data);
    forged[20]! ^= 0x80;
    expect(p.b.receive(forged, A_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'decrypt-failed', peer: p.aKey }]);
    const lost = Buffer.from(data);
    lost.writeUInt32LE((lost.readUInt32LE(4) ^ 1) >>> 0, 4);
    expect(p.b.receive(lost, A_ENDPOINT, T0)).toEqual([{ type: 'drop', reason: 'unknown-receiver-index' }]);
    expect(p.b.counters().delivered).toBe(1);
  });

  it('accepts transport messages out of order inside the window, once each', () => {
    const p = makePair();
    aSends(p, 'first', T0);
    const later: Buffer[] = [];
    for (let i = 0; i < 3; i++) later.push((p.a.sendUdp(p.bKey, p.udp('a', `m${i}`, T0), T0)[0] as { data: Buffer }).data);
    for (const m of [later[2]!, later[0]!, later[1]!, later[0]!]) p.pump('b', [], T0), p.pump('a', [{ type: 'send', to: B_ENDPOINT, data: m }], T0);
    expect(p.delivered.map((d) => d.action.packet.payload.toString())).toEqual(['first', 'm2', 'm0', 'm1']);
    expect(p.drops).toEqual([{ at: 'b', reason: 'replay' }]);
  });

  it('checks the inner source against allowedIPs on receive and the destination on send', () => {
    const p = makePair();
    aSends(p, 'ok', T0);
    p.pump('a', p.a.sendUdp(p.bKey, { ...p.udp('a', 'spoof', T0), src: '10.9.0.99' }, T0), T0);
    expect(p.drops).toEqual([{ at: 'b', reason: 'allowed-ips' }]);
    expect(p.b.sendUdp(p.aKey, { ...p.udp('b', 'x', T0), dst: '10.9.0.77' }, T0)).toEqual([{ type: 'drop', reason: 'allowed-ips-outbound', peer: p.aKey }]);
    expect(p.b.sendUdp('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', p.udp('b', 'x', T0), T0)).toEqual([{ type: 'drop', reason: 'unknown-peer-key' }]);
  });

  it('refuses to send to a peer whose endpoint it has never learned', () => {
    const p = makePair();
    expect(p.b.sendUdp(p.aKey, p.udp('b', 'x', T0), T0)).toEqual([{ type: 'drop', reason: 'no-endpoint', peer: p.aKey }]);
    expect(p.b.initiateHandshake(p.aKey, T0)).toEqual([{ type: 'drop', reason: 'no-endpoint', peer: p.aKey }]);
  });

  it('follows a roaming peer: replies go to the newest authenticated source', () => {
    const p = makePair();
    aSends(p, 'home', T0);
    const roamed = { address: '198.51.100.7', port: 40000 };
    p.pump('a', p.a.sendUdp(p.bKey, p.udp('a', 'away', T0 + 1), T0 + 1), T0 + 1, { fromEndpoint: roamed });
    expect(p.delivered.at(-1)!.action.from).toEqual(roamed);
    const out = p.b.reply(p.delivered.at(-1)!.action, Buffer.from('found you'), T0 + 2);
    expect(out).toMatchObject([{ type: 'send', to: roamed }]);
  });

  it('sends a keepalive KEEPALIVE_TIMEOUT after receiving data it did not answer, and the other side counts it', () => {
    const p = makePair();
    aSends(p, 'no answer needed', T0);
    const n = p.wire.length;
    p.pump('b', p.b.tick(T0 + 9_999), T0 + 9_999);
    expect(p.wire.length).toBe(n);
    p.pump('b', p.b.tick(T0 + 10_000), T0 + 10_000);
    expect(p.wire.slice(n).map((w) => `${w.from}:${messageType(w.data)}:${w.data.length}`)).toEqual(['b:4:32']);
    expect(p.b.counters().keepalivesSent).toBe(1);
    expect(p.a.counters().keepalivesReceived).toBe(1);
  });

  it('rekeys when the initiator sends after REKEY_AFTER_TIME, keeping the old session until the new one is up', () => {
    const p = makePair();
    aSends(p, 'one', T0);
    const t = T0 + 120_001;
    p.pump('a', p.a.sendUdp(p.bKey, p.udp('a', 'two', t), t), t);
    expect(types(p, 'a')).toEqual([1, 4, 4, 1, 4]); // data on the old session, then a new handshake, then its keepalive
    expect(p.a.counters().handshakesCompletedAsInitiator).toBe(2);
    expect(p.delivered.map((d) => d.action.packet.payload.toString())).toEqual(['one', 'two']);
  });

  it('rekeys after REKEY_AFTER_MESSAGES (lowered for the test)', () => {
    const p = makePair({ a: { limits: { rekeyAfterMessages: 3 } } });
    for (let i = 0; i < 5; i++) aSends(p, `m${i}`, T0 + i * 6_000);
    expect(p.a.counters().handshakesCompletedAsInitiator).toBe(2);
  });

  it('stops using a session after REJECT_AFTER_TIME: sending queues behind a new handshake, old messages are refused', () => {
    const p = makePair();
    aSends(p, 'one', T0);
    const old = (p.a.sendUdp(p.bKey, p.udp('a', 'late', T0), T0)[0] as { data: Buffer }).data;
    const t = T0 + 180_000;
    expect(p.b.receive(old, A_ENDPOINT, t)).toEqual([{ type: 'drop', reason: 'keypair-expired', peer: p.aKey }]);
    const queuedBefore = p.a.counters().queued;
    const out = p.a.sendUdp(p.bKey, p.udp('a', 'two', t), t);
    expect(out.map((a) => a.type === 'send' && messageType(a.data))).toEqual([1]);
    expect(p.a.counters().queued).toBe(queuedBefore + 1);
    p.pump('a', out, t);
    expect(p.delivered.map((d) => d.action.packet.payload.toString())).toEqual(['one', 'two']);
  });

  it('retransmits an unanswered initiation every REKEY_TIMEOUT and gives up after REKEY_ATTEMPT_TIME, dropping the queue', () => {
    const p = makePair();
    const lose = () => true;
    p.pump('a', p.a.sendUdp(p.bKey, p.udp('a', 'lost', T0), T0), T0, { lose });
    for (let t = T0 + 5_400; t <= T0 + 130_000; t += 5_400) p.pump('a', p.a.tick(t), t, { lose });
    expect(p.a.counters()).toMatchObject({ initiationsSent: 19, initiationRetransmits: 18, handshakeTimeouts: 1 });
    expect(p.drops).toEqual([{ at: 'a', reason: 'handshake-timeout' }]);
  });

  it('starts a new handshake when data it sent got no answer for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT', () => {
    const p = makePair();
    aSends(p, 'one', T0);
    p.pump('b', p.b.tick(T0 + 10_000), T0 + 10_000); // B's keepalive answers 'one'
    p.pump('a', p.a.sendUdp(p.bKey, p.udp('a', 'two', T0 + 11_000), T0 + 11_000), T0 + 11_000, { lose: () => true });
    const before = p.a.counters().initiationsSent;
    p.pump('a', p.a.tick(T0 + 11_000 + 15_000 + 334), T0 + 26_334);
    expect(p.a.counters().initiationsSent).toBe(before + 1);
  });

  it('sends persistent keepalives when configured', () => {
    const p = makePair({ aPeer: { persistentKeepalive: 25 } });
    aSends(p, 'x', T0);
    p.pump('b', p.b.tick(T0 + 10_000), T0 + 10_000); // B's keepalive: the last packet either way
    const n = p.wire.length;
    p.pump('a', p.a.tick(T0 + 34_999), T0 + 34_999);
    expect(p.wire.length).toBe(n);
    p.pump('a', p.a.tick(T0 + 35_000), T0 + 35_000);
    expect(p.wire.slice(n).map((w) => `${w.from}:${messageType(w.data)}:${w.data.length}`)).toEqual(['a:4:32']);
  });

  it('forgets all keys 3 × REJECT_AFTER_TIME after the last handshake', () => {
    const p = makePair();
    aSends(p, 'one', T0);
    p.b.tick(T0 + 540_000);
    expect(p.b.peers(T0 + 540_000)[0]!.hasSession).toBe(false);
    const data = (p.a.sendUdp(p.bKey, p.udp('a', 'x', T0 + 1), T0 + 1)[0] as { data: Buffer }).data;
    expect(p.b.receive(data, A_ENDPOINT, T0 + 540_001)).toEqual([{ type: 'drop', reason: 'unknown-receiver-index' }]);
  });

});
