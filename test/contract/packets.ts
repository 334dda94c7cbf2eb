/** Packets for destination tests: binary payloads (NUL, 0xff, invalid UTF-8) so byte-exactness shows. */
import { randomBytes } from 'node:crypto';
import type { Packet, Formatter } from '../../gateway/packet.js';

let seq = 0;

export function makePacket(data: Buffer, over: Partial<Packet> = {}): Packet {
  seq += 1;
  return {
    tag: `t${seq}-${randomBytes(6).toString('base64url')}`,
    listener: 'edge',
    remote: { address: '203.0.113.5', port: 50_000 + (seq % 1000) },
    local: { address: '127.0.0.1', port: 5555 },
    receivedAt: Date.now(),
    data,
    formatter: 'base64' as Formatter,
    ...over,
  };
}

export function samplePackets(): Packet[] {
  return [
    makePacket(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x0d])),
    makePacket(Buffer.from('hello, gateway')),
    makePacket(randomBytes(1_000)),
  ];
}

export const sortedHex = (bufs: readonly Buffer[]): string[] => bufs.map((b) => b.toString('hex')).sort();
