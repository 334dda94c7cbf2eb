/** Inner IPv4/IPv6 UDP packets: parse, build, and every reason a packet is refused. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildInnerPacket, parseInnerPacket } from '../../../listener-protocols/wireguard/index.js';

const v4 = { src: '10.77.0.2', dst: '10.77.0.1', srcPort: 40000, dstPort: 7000, payload: Buffer.from('hello') };
const v6 = { src: 'fd00::2', dst: 'fd00::1', srcPort: 40000, dstPort: 7000, payload: Buffer.from('hello6') };

// Packets Linux wrote, captured on wireguard-go's tun by record-wireguard-go.ts.
const TUN = (JSON.parse(readFileSync(new URL('./fixtures/wireguard-go-session.json', import.meta.url), 'utf8')) as { tunPackets: string[] }).tunPackets;
const LINUX_V4 = Buffer.from(TUN[0]!, 'hex');
const LINUX_V6 = Buffer.from(TUN[2]!, 'hex');

describe('inner packets', () => {
  it('parses a packet Linux built and rebuilds the same bytes apart from IP id and TTL', () => {
    const srcPort = LINUX_V4.readUInt16BE(20);
    const parsed = parseInnerPacket(LINUX_V4);
    expect(parsed).toEqual({ ok: true, family: 4, packet: { src: '10.77.0.2', dst: '10.77.0.1', srcPort, dstPort: 7000, payload: Buffer.from('kat-v4') } });
    const rebuilt = buildInnerPacket((parsed as { packet: typeof v4 }).packet)!;
    expect(rebuilt.subarray(20).toString('hex')).toBe(LINUX_V4.subarray(20).toString('hex')); // UDP header incl. checksum
  });

  it('parses an IPv6 packet Linux built and rebuilds the same UDP bytes', () => {
    const parsed = parseInnerPacket(LINUX_V6);
    expect(parsed).toMatchObject({ ok: true, family: 6, packet: { src: 'fd77::2', dst: 'fd77::1', dstPort: 7000, payload: Buffer.from('kat-v6') } });
    const rebuilt = buildInnerPacket((parsed as { packet: typeof v4 }).packet)!;
    expect(rebuilt.subarray(40).toString('hex')).toBe(LINUX_V6.subarray(40).toString('hex'));
  });

  it.each([['IPv4', v4], ['IPv6', v6]])('%s: build then parse round-trips, ignoring padding after the packet', (_name, p) => {
    const built = buildInnerPacket(p)!;
    const padded = Buffer.concat([built, Buffer.alloc(16 - (built.length % 16))]);
    expect(parseInnerPacket(padded)).toEqual({ ok: true, family: p === v4 ? 4 : 6, packet: p });
  });

  it('writes 0xffff for a UDP checksum that computes to zero and still parses it', () => {
    // search a payload whose checksum is 0 when computed
    for (let i = 0; i < 70_000; i++) {
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(i);
      const built = buildInnerPacket({ ...v4, payload })!;
      if (built.readUInt16BE(26) === 0xffff) {
        expect(parseInnerPacket(built).ok).toBe(true);
        return;
      }
    }
    throw new Error('no zero-checksum payload found');
  });

  const mutate = (p: Buffer, f: (b: Buffer) => void): Buffer => { const b = Buffer.from(p); f(b); return b; };
  const built4 = buildInnerPacket(v4)!;
  const built6 = buildInnerPacket(v6)!;
  it.each<[string, Buffer, string]>([
    ['empty', Buffer.alloc(0), 'inner-truncated'],
    ['version 5', mutate(built4, (b) => { b[0] = 0x55; }), 'inner-not-ip'],
    ['short IPv4', built4.subarray(0, 19), 'inner-truncated'],
    ['IHL 4', mutate(built4, (b) => { b[0] = 0x44; }), 'inner-bad-ip-header'],
    ['total length beyond the data', mutate(built4, (b) => b.writeUInt16BE(200, 2)), 'inner-bad-ip-length'],
    ['IPv4 header checksum', mutate(built4, (b) => { b[8] = 1; }), 'inner-bad-ip-checksum'],
    ['more fragments', mutate(built4, (b) => { b[6] = 0x20; b.writeUInt16BE(0, 10); b.writeUInt16BE(~sum(b.subarray(0, 20)) & 0xffff, 10); }), 'inner-fragment'],
    ['ICMP', mutate(built4, (b) => { b[9] = 1; b.writeUInt16BE(0, 10); b.writeUInt16BE(~sum(b.subarray(0, 20)) & 0xffff, 10); }), 'inner-not-udp'],
    ['UDP length 7', mutate(built4, (b) => b.writeUInt16BE(7, 24)), 'inner-bad-udp-length'],
    ['UDP length beyond IP', mutate(built4, (b) => b.writeUInt16BE(100, 24)), 'inner-bad-udp-length'],
    ['UDP checksum', mutate(built4, (b) => { b[b.length - 1]! ^= 1; }), 'inner-bad-udp-checksum'],
    ['short IPv6', built6.subarray(0, 39), 'inner-truncated'],
    ['IPv6 payload length beyond the data', mutate(built6, (b) => b.writeUInt16BE(500, 4)), 'inner-bad-ip-length'],
    ['IPv6 fragment header', mutate(built6, (b) => { b[6] = 44; }), 'inner-fragment'],
    ['IPv6 hop-by-hop header', mutate(built6, (b) => { b[6] = 0; }), 'inner-ipv6-extension-header'],
    ['IPv6 TCP', mutate(built6, (b) => { b[6] = 6; }), 'inner-not-udp'],
    ['IPv6 UDP checksum 0', mutate(built6, (b) => b.writeUInt16BE(0, 46)), 'inner-bad-udp-checksum'],
  ])('refuses %s', (_name, packet, reason) => {
    expect(parseInnerPacket(packet)).toEqual({ ok: false, reason });
  });

  it('accepts an IPv4 UDP checksum of 0 (none, RFC 768)', () => {
    expect(parseInnerPacket(mutate(built4, (b) => b.writeUInt16BE(0, 26))).ok).toBe(true);
  });

  it('will not build mixed families, bad ports or oversize payloads', () => {
    expect(buildInnerPacket({ ...v4, dst: 'fd00::1' })).toBeUndefined();
    expect(buildInnerPacket({ ...v4, srcPort: 70_000 })).toBeUndefined();
    expect(buildInnerPacket({ ...v4, payload: Buffer.alloc(65_508) })).toBeUndefined();
    expect(buildInnerPacket({ ...v4, src: 'nonsense' })).toBeUndefined();
  });
});

function sum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += b.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
