/**
 * Known answers recorded from wireguard-go (fixtures/wireguard-go-session.json, made by
 * record-wireguard-go.ts): replaying what wireguard-go sent, an engine with the same key and the
 * same seeded randomness must decrypt it and answer byte for byte as it did live; the replies it
 * builds must be exactly the packets Linux received on wireguard-go's tun device.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WireGuardEngine, buildInnerPacket, parseInnerPacket, swapped, type WireGuardAction } from '../../../listener-protocols/wireguard/index.js';
import { seededRandom } from './support/seeded-random.js';

interface Fixture {
  enginePrivateKey: string; seed: string; peerPublicKey: string;
  received: { now: number; from: { address: string; port: number }; data: string }[];
  sent: string[];
  tunPackets: string[];
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/wireguard-go-session.json', import.meta.url), 'utf8')) as Fixture;

function replay(): { sent: string[]; delivered: Extract<WireGuardAction, { type: 'deliver' }>[]; drops: string[] } {
  const engine = new WireGuardEngine({ privateKey: fx.enginePrivateKey, random: seededRandom(fx.seed), peers: [{ publicKey: fx.peerPublicKey, allowedIPs: ['10.77.0.2/32', 'fd77::2/128'] }] });
  const result = { sent: [] as string[], delivered: [] as Extract<WireGuardAction, { type: 'deliver' }>[], drops: [] as string[] };
  for (const r of fx.received) {
    const actions = engine.receive(Buffer.from(r.data, 'hex'), r.from, r.now);
    for (const a of actions) if (a.type === 'deliver') actions.push(...engine.reply(a, Buffer.concat([Buffer.from('echo:'), a.packet.payload]), r.now));
    for (const a of actions) {
      if (a.type === 'send') result.sent.push(a.data.toString('hex'));
      if (a.type === 'deliver') result.delivered.push(a);
      if (a.type === 'drop') result.drops.push(a.reason);
    }
  }
  return result;
}

describe('known answers recorded from wireguard-go', () => {
  it('the recording is an initiation and transport messages from wireguard-go', () => {
    expect(fx.received.map((r) => r.data.slice(0, 8))).toEqual(['01000000', '04000000', '04000000']);
  });

  it('decrypts what wireguard-go sent and answers with the recorded bytes', () => {
    const { sent, delivered, drops } = replay();
    expect(drops).toEqual([]);
    expect(sent).toEqual(fx.sent);
    expect(delivered.map((d) => ({ peer: d.peer, ...d.packet, payload: d.packet.payload.toString() }))).toEqual([
      { peer: fx.peerPublicKey, src: '10.77.0.2', dst: '10.77.0.1', srcPort: expect.any(Number), dstPort: 7000, payload: 'kat-v4' },
      { peer: fx.peerPublicKey, src: 'fd77::2', dst: 'fd77::1', srcPort: expect.any(Number), dstPort: 7000, payload: 'kat-v6' },
    ]);
  });

  it('the inner packets Linux wrote on the tun parse to the delivered datagrams', () => {
    const parsed = fx.tunPackets.map((h) => parseInnerPacket(Buffer.from(h, 'hex')));
    expect(parsed.map((p) => p.ok && `${p.packet.src}>${p.packet.dst}:${p.packet.payload}`)).toEqual([
      '10.77.0.2>10.77.0.1:kat-v4', '10.77.0.1>10.77.0.2:echo:kat-v4', 'fd77::2>fd77::1:kat-v6', 'fd77::1>fd77::2:echo:kat-v6',
    ]);
  });

  it('the replies the engine built are byte for byte what wireguard-go wrote to its tun', () => {
    const { delivered } = replay();
    const echoes = delivered.map((d) => buildInnerPacket(swapped(d.packet, Buffer.concat([Buffer.from('echo:'), d.packet.payload])))!.toString('hex'));
    expect(echoes).toEqual([fx.tunPackets[1], fx.tunPackets[3]]);
  });

  it('a changed byte anywhere in the recorded initiation is refused', () => {
    for (const at of [4, 8, 50, 100, 120]) { // sender index, ephemeral, static, timestamp, mac1 (mac2 only counts under load)
      const engine = new WireGuardEngine({ privateKey: fx.enginePrivateKey, random: seededRandom(fx.seed), peers: [{ publicKey: fx.peerPublicKey, allowedIPs: ['10.77.0.2/32'] }] });
      const data = Buffer.from(fx.received[0]!.data, 'hex');
      data[at]! ^= 0x04;
      const out = engine.receive(data, fx.received[0]!.from, fx.received[0]!.now);
      expect(out.map((a) => a.type)).toEqual(['drop']);
    }
  });
});
