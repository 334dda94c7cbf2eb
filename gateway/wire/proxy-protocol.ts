/**
 * PROXY protocol version 2 (HAProxy's proxy-protocol.txt, section 2.2), the binary header a proxy
 * puts before a connection's data so the backend learns the real client address. For UDP the
 * transport nibble is DGRAM:
 *
 *   0..11   signature  0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
 *   12      version (high nibble, 2) | command (low nibble: 0 LOCAL, 1 PROXY)   → 0x21
 *   13      family (high: 1 AF_INET, 2 AF_INET6) | transport (low: 1 STREAM, 2 DGRAM) → 0x12 / 0x22
 *   14..15  length of the address block that follows, big endian: 12 (IPv4) / 36 (IPv6)
 *   16..    source address, destination address, source port, destination port (network order)
 *
 * Source: the client. Destination: the address the client sent to (the listener's). Both must be
 * of one family: a client seen as ::ffff:a.b.c.d (IPv4 on a dual-stack socket) is written as IPv4,
 * and a destination of the other family as the unspecified address of the client's family.
 * Pure: values in, bytes out.
 */
import { isIPv4, SocketAddress } from 'node:net';
import type { Endpoint } from '../packet.js';

export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_PROXY = 0x21;
const AF_INET = 0x10, AF_INET6 = 0x20, STREAM = 0x01, DGRAM = 0x02;

export type ProxyTransport = 'dgram' | 'stream';

/** The v2 header (PROXY command) for a flow from `source` (the client) to `destination`. */
export function encodeProxyV2(source: Endpoint, destination: Endpoint, transport: ProxyTransport = 'dgram'): Buffer {
  const src = unmap(source.address);
  const v4 = isIPv4(src);
  const dst = sameFamily(unmap(destination.address), v4);
  const len = v4 ? 12 : 36;
  const out = Buffer.alloc(16 + len);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = V2_PROXY;
  out[13] = (v4 ? AF_INET : AF_INET6) | (transport === 'dgram' ? DGRAM : STREAM);
  out.writeUInt16BE(len, 14);
  const a = v4 ? 4 : 16;
  writeAddress(out, 16, src, v4);
  writeAddress(out, 16 + a, dst, v4);
  out.writeUInt16BE(source.port, 16 + 2 * a);
  out.writeUInt16BE(destination.port, 18 + 2 * a);
  return out;
}

export interface ProxyV2Header {
  readonly command: 'local' | 'proxy';
  readonly family: 4 | 6 | 0;
  readonly transport: ProxyTransport | 'unspec';
  readonly source?: Endpoint;
  readonly destination?: Endpoint;
  /** Header length in bytes (16 + the length field): the payload starts here. */
  readonly length: number;
}

/** Reads a v2 header at the start of `buf` (for backends and tests); an Error says what is wrong. */
export function decodeProxyV2(buf: Buffer): ProxyV2Header | Error {
  if (buf.length < 16 || !buf.subarray(0, 12).equals(PROXY_V2_SIGNATURE)) return new Error('no PROXY v2 signature');
  if (buf[12]! >> 4 !== 2) return new Error(`version ${buf[12]! >> 4}, expected 2`);
  const cmd = buf[12]! & 0x0f;
  if (cmd > 1) return new Error(`unknown command ${cmd}`);
  const len = buf.readUInt16BE(14);
  if (buf.length < 16 + len) return new Error(`address block of ${len} bytes, only ${buf.length - 16} present`);
  const fam = buf[13]! >> 4, tr = buf[13]! & 0x0f;
  const transport: ProxyV2Header['transport'] = tr === DGRAM ? 'dgram' : tr === STREAM ? 'stream' : 'unspec';
  const base = { command: cmd === 1 ? 'proxy' as const : 'local' as const, transport, length: 16 + len };
  if (fam === 1 && len >= 12) {
    return { ...base, family: 4, source: { address: buf.subarray(16, 20).join('.'), port: buf.readUInt16BE(24) }, destination: { address: buf.subarray(20, 24).join('.'), port: buf.readUInt16BE(26) } };
  }
  if (fam === 2 && len >= 36) {
    return { ...base, family: 6, source: { address: ipv6Text(buf.subarray(16, 32)), port: buf.readUInt16BE(48) }, destination: { address: ipv6Text(buf.subarray(32, 48)), port: buf.readUInt16BE(50) } };
  }
  return { ...base, family: 0 };
}

function unmap(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function sameFamily(address: string, v4: boolean): string {
  if (isIPv4(address) === v4) return address;
  return v4 ? '0.0.0.0' : `::ffff:${address}`;
}

function writeAddress(out: Buffer, at: number, address: string, v4: boolean): void {
  if (v4) { address.split('.').forEach((o, i) => { out[at + i] = Number(o); }); return; }
  ipv6Bytes(address).copy(out, at);
}

/** 16 bytes of an IPv6 address (compressed form and embedded IPv4 allowed; no zone). */
function ipv6Bytes(address: string): Buffer {
  let text = address.split('%')[0]!;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const o = tail[1]!.split('.').map(Number);
    text = text.slice(0, -tail[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...new Array(8 - h.length - r.length).fill('0'), ...r];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}
