/** Two engines wired to each other in memory: A at 192.0.2.1:51820, B at 192.0.2.2:51820 (addresses are labels only). */
import { WireGuardEngine, generatePrivateKey, publicKeyOf, type WireGuardAction, type WireGuardEngineOptions, type InnerUdpPacket, type PeerConfig } from '../../../../listener-protocols/wireguard/index.js';

export const A_ENDPOINT = { address: '192.0.2.1', port: 51820 };
export const B_ENDPOINT = { address: '192.0.2.2', port: 51820 };
export const A_INNER = '10.9.0.1';
export const B_INNER = '10.9.0.2';

export interface Pair {
  a: WireGuardEngine;
  b: WireGuardEngine;
  aKey: string;
  bKey: string;
  /** every datagram that went over the "wire", in order */
  wire: { from: 'a' | 'b'; data: Buffer }[];
  delivered: { to: 'a' | 'b'; action: Extract<WireGuardAction, { type: 'deliver' }> }[];
  drops: { at: 'a' | 'b'; reason: string }[];
  /** run actions emitted by `side`, delivering sends to the other engine until quiet */
  pump(side: 'a' | 'b', actions: WireGuardAction[], now: number, opts?: { fromEndpoint?: typeof A_ENDPOINT; lose?: (d: Buffer) => boolean }): void;
  udp(from: 'a' | 'b', payload: string, now: number): InnerUdpPacket;
}

export function makePair(over: { a?: Partial<WireGuardEngineOptions>; b?: Partial<WireGuardEngineOptions>; aPeer?: Partial<PeerConfig> } = {}): Pair {
  const aPriv = generatePrivateKey();
  const bPriv = generatePrivateKey();
  const aKey = publicKeyOf(aPriv);
  const bKey = publicKeyOf(bPriv);
  const a = new WireGuardEngine({ privateKey: aPriv, peers: [{ publicKey: bKey, allowedIPs: [`${B_INNER}/32`], endpoint: B_ENDPOINT, ...over.aPeer }], ...over.a });
  const b = new WireGuardEngine({ privateKey: bPriv, peers: [{ publicKey: aKey, allowedIPs: [`${A_INNER}/32`] }], ...over.b });
  const pair: Pair = {
    a, b, aKey, bKey, wire: [], delivered: [], drops: [],
    pump(side, actions, now, opts = {}) {
      const queue = actions.map((action) => ({ side, action }));
      for (let item = queue.shift(); item; item = queue.shift()) {
        const { side: s, action } = item;
        if (action.type === 'drop') pair.drops.push({ at: s, reason: action.reason });
        if (action.type === 'deliver') pair.delivered.push({ to: s, action });
        if (action.type !== 'send') continue;
        pair.wire.push({ from: s, data: action.data });
        if (opts.lose?.(action.data)) continue;
        const other = s === 'a' ? 'b' : 'a';
        const from = s === 'a' ? (opts.fromEndpoint ?? A_ENDPOINT) : B_ENDPOINT;
        const engine = other === 'a' ? a : b;
        for (const next of engine.receive(action.data, from, now)) queue.push({ side: other, action: next });
      }
    },
    udp(from, payload) {
      return from === 'a'
        ? { src: A_INNER, dst: B_INNER, srcPort: 4000, dstPort: 5000, payload: Buffer.from(payload) }
        : { src: B_INNER, dst: A_INNER, srcPort: 5000, dstPort: 4000, payload: Buffer.from(payload) };
    },
  };
  return pair;
}

/** A sends `payload` to B and the pair pumps until quiet. */
export function aSends(p: Pair, payload: string, now: number): void {
  p.pump('a', p.a.sendUdp(p.bKey, p.udp('a', payload, now), now), now);
}

export const messageType = (d: Buffer): number => d[0]!;
