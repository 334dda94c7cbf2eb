/**
 * Inner packets: the decrypted IPv4/IPv6 packets a peer sends through the tunnel. Only UDP is
 * delivered; everything else is a drop with a reason. Also builds IPv4/IPv6 UDP packets for
 * replies and out-of-band sends. RFC 791 (IPv4), RFC 8200 (IPv6), RFC 768 (UDP), RFC 1071
 * (checksum). The plaintext may carry zero padding after the packet (whitepaper §5.4.6): the IP
 * length field says where the packet ends.
 */
import { formatIp, ipBytes, ipFamily } from './ip-address.js';
import type { InnerUdpPacket } from './types.js';

export type InnerDropReason =
  | 'inner-not-ip' | 'inner-truncated' | 'inner-bad-ip-header' | 'inner-bad-ip-length' | 'inner-bad-ip-checksum'
  | 'inner-fragment' | 'inner-not-udp' | 'inner-ipv6-extension-header' | 'inner-bad-udp-length' | 'inner-bad-udp-checksum';

export type ParsedInner = { ok: true; packet: InnerUdpPacket; family: 4 | 6 } | { ok: false; reason: InnerDropReason };

const UDP = 17;
const UDP_HEADER = 8;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const DEFAULT_TTL = 64;
/** IPv6 extension headers (RFC 8200 §4; IANA "IPv6 Extension Header Types"), 44 = Fragment. */
const IPV6_EXTENSIONS = new Set([0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254]);
/** UDP payload limit: 65535 − 8 (UDP) − 20 (IPv4) = 65507; IPv6 allows 65527 but one rule keeps it simple. */
export const MAX_UDP_PAYLOAD = 65_507;

/** RFC 1071 ones'-complement sum of 16-bit big-endian words, folded to 16 bits. */
function onesSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Sum of the UDP pseudo-header: addresses, protocol and UDP length (RFC 768; RFC 8200 §8.1). */
function pseudoSum(buf: Uint8Array, srcAt: number, addrLength: number, udpLength: number): number {
  return onesSum(buf, srcAt, srcAt + 2 * addrLength, UDP + udpLength);
}

export function parseInnerPacket(buf: Buffer): ParsedInner {
  if (buf.length < 1) return { ok: false, reason: 'inner-truncated' };
  const version = buf[0]! >> 4;
  if (version === 4) return parseIpv4(buf);
  if (version === 6) return parseIpv6(buf);
  return { ok: false, reason: 'inner-not-ip' };
}

function parseIpv4(buf: Buffer): ParsedInner {
  if (buf.length < IPV4_HEADER) return { ok: false, reason: 'inner-truncated' };
  const headerLength = (buf[0]! & 0x0f) * 4;
  const totalLength = buf.readUInt16BE(2);
  if (headerLength < IPV4_HEADER) return { ok: false, reason: 'inner-bad-ip-header' };
  if (totalLength < headerLength || totalLength > buf.length) return { ok: false, reason: 'inner-bad-ip-length' };
  if (onesSum(buf, 0, headerLength) !== 0xffff) return { ok: false, reason: 'inner-bad-ip-checksum' };
  if ((buf.readUInt16BE(6) & 0x3fff) !== 0) return { ok: false, reason: 'inner-fragment' }; // MF or offset
  if (buf[9] !== UDP) return { ok: false, reason: 'inner-not-udp' };
  return parseUdp(buf, headerLength, totalLength, 12, 4, false);
}

function parseIpv6(buf: Buffer): ParsedInner {
  if (buf.length < IPV6_HEADER) return { ok: false, reason: 'inner-truncated' };
  const end = IPV6_HEADER + buf.readUInt16BE(4);
  if (end > buf.length) return { ok: false, reason: 'inner-bad-ip-length' };
  const next = buf[6]!;
  if (next === 44) return { ok: false, reason: 'inner-fragment' };
  if (IPV6_EXTENSIONS.has(next)) return { ok: false, reason: 'inner-ipv6-extension-header' };
  if (next !== UDP) return { ok: false, reason: 'inner-not-udp' };
  return parseUdp(buf, IPV6_HEADER, end, 8, 16, true);
}

function parseUdp(buf: Buffer, at: number, end: number, srcAt: number, addrLength: 4 | 16, checksumRequired: boolean): ParsedInner {
  if (end - at < UDP_HEADER) return { ok: false, reason: 'inner-bad-udp-length' };
  const udpLength = buf.readUInt16BE(at + 4);
  if (udpLength < UDP_HEADER || udpLength > end - at) return { ok: false, reason: 'inner-bad-udp-length' };
  const checksum = buf.readUInt16BE(at + 6);
  if (checksum === 0 ? checksumRequired : onesSum(buf, at, at + udpLength, pseudoSum(buf, srcAt, addrLength, udpLength)) !== 0xffff) {
    return { ok: false, reason: 'inner-bad-udp-checksum' };
  }
  return {
    ok: true,
    family: addrLength === 4 ? 4 : 6,
    packet: {
      src: formatIp(buf.subarray(srcAt, srcAt + addrLength)),
      dst: formatIp(buf.subarray(srcAt + addrLength, srcAt + 2 * addrLength)),
      srcPort: buf.readUInt16BE(at),
      dstPort: buf.readUInt16BE(at + 2),
      payload: Buffer.from(buf.subarray(at + UDP_HEADER, at + udpLength)),
    },
  };
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 0xffff;
}

/** An IPv4 or IPv6 UDP packet with correct checksums; undefined for mixed families, bad ports or too large a payload. */
export function buildInnerPacket(p: InnerUdpPacket): Buffer | undefined {
  const family = ipFamily(p.src);
  if (family === 0 || ipFamily(p.dst) !== family || !validPort(p.srcPort) || !validPort(p.dstPort)) return undefined;
  if (p.payload.length > MAX_UDP_PAYLOAD) return undefined;
  const header = family === 4 ? IPV4_HEADER : IPV6_HEADER;
  const addrLength = family === 4 ? 4 : 16;
  const srcAt = family === 4 ? 12 : 8;
  const udpLength = UDP_HEADER + p.payload.length;
  const out = Buffer.alloc(header + udpLength);
  ipBytes(p.src, family).copy(out, srcAt);
  ipBytes(p.dst, family).copy(out, srcAt + addrLength);
  if (family === 4) writeIpv4Header(out, header + udpLength);
  else writeIpv6Header(out, udpLength);
  out.writeUInt16BE(p.srcPort, header);
  out.writeUInt16BE(p.dstPort, header + 2);
  out.writeUInt16BE(udpLength, header + 4);
  p.payload.copy(out, header + UDP_HEADER);
  const sum = ~onesSum(out, header, out.length, pseudoSum(out, srcAt, addrLength, udpLength)) & 0xffff;
  out.writeUInt16BE(sum === 0 ? 0xffff : sum, header + 6); // RFC 768: a computed 0 is sent as all ones
  return out;
}

function writeIpv4Header(out: Buffer, totalLength: number): void {
  out[0] = 0x45;
  out.writeUInt16BE(totalLength, 2);
  out.writeUInt16BE(0x4000, 6); // DF, no fragments
  out[8] = DEFAULT_TTL;
  out[9] = UDP;
  out.writeUInt16BE(~onesSum(out, 0, IPV4_HEADER) & 0xffff, 10);
}

function writeIpv6Header(out: Buffer, payloadLength: number): void {
  out[0] = 0x60;
  out.writeUInt16BE(payloadLength, 4);
  out[6] = UDP;
  out[7] = DEFAULT_TTL;
}

/** The reply direction of a delivered packet: addresses and ports swapped. */
export function swapped(p: InnerUdpPacket, payload: Buffer): InnerUdpPacket {
  return { src: p.dst, dst: p.src, srcPort: p.dstPort, dstPort: p.srcPort, payload };
}
