/**
 * Tag codec. A tag is stateless and authenticated: any gateway process holding the secret can
 * route a reply, and nobody without it can forge one that sends traffic to an address of their choosing.
 *
 * Layout (then base64url, no padding):
 *   0      version (1)
 *   1..6   issuedAt, ms since epoch (48-bit big-endian)
 *   7..10  per-process counter (uniqueness within a millisecond)
 *   11     address family: 4 or 6
 *   ..     address (4 or 16 bytes), port (2 bytes)
 *   ..     listener name length (1 byte), listener name (utf8, <= 255 bytes)
 *   last   HMAC-SHA256(secret, everything before), truncated to 12 bytes (96 bits)
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Endpoint } from './packet.js';

const VERSION = 1;
const MAC_BYTES = 12;
const HEADER = 12;

export interface TagClaims {
  readonly listener: string;
  readonly remote: Endpoint;
  readonly issuedAt: number;
}

export type TagRefusal = 'malformed' | 'forged' | 'expired';
export type TagCheck = { ok: true; claims: TagClaims } | { ok: false; reason: TagRefusal };

export interface TagCodecOptions {
  /** Signing secret (current). */
  readonly secret: Buffer;
  /** Older secrets still accepted for verification (rotation). */
  readonly previousSecrets?: readonly Buffer[];
  /** How long a tag may be replied to, ms. */
  readonly replyWindowMs: number;
  readonly now?: () => number;
  /** HMAC-SHA256 implementation: node:crypto by default, or a keyed signer from the net layer
   *  (the native addon's TagMac: one call a tag, ~5x cheaper; net/tag-mac.ts chooses). */
  readonly mac?: TagMacFactory;
}

/** A keyed HMAC-SHA256 that writes the first `macLen` bytes of the MAC of buf[0..len) at buf[len..]. */
export type TagMacFactory = (key: Buffer) => { sign(buf: Uint8Array, len: number, macLen: number): void };

/** Writes HMAC-SHA256(key, buf[0..len)) truncated to MAC_BYTES at buf[len..]. */
type Signer = (buf: Buffer, len: number) => void;

function signerFor(key: Buffer, mac: TagMacFactory | undefined): Signer {
  if (mac) {
    const m = mac(key);
    return (buf, len) => m.sign(buf, len, MAC_BYTES);
  }
  return (buf, len) => { createHmac('sha256', key).update(buf.subarray(0, len)).digest().copy(buf, len, 0, MAC_BYTES); };
}

/** Largest raw tag: header, IPv6 address, port, name length, a 255-byte name, MAC. */
const MAX_RAW = HEADER + 16 + 2 + 1 + 255 + MAC_BYTES;

export interface TagCodec {
  encode(listener: string, remote: Endpoint, issuedAt: number): string;
  decode(tag: string): TagCheck;
}

export function createTagCodec(opts: TagCodecOptions): TagCodec {
  const now = opts.now ?? Date.now;
  const keys = [opts.secret, ...(opts.previousSecrets ?? [])];
  let counter = randomBytes(4).readUInt32BE(0);
  const nameCache = new Map<string, Buffer>();

  const signers = keys.map((k) => signerFor(k, opts.mac));
  const scratch = Buffer.alloc(MAX_RAW); // encode and decode run to completion: one buffer serves both

  function encode(listener: string, remote: Endpoint, issuedAt: number): string {
    let name = nameCache.get(listener);
    // Stryker disable next-line ConditionalExpression: a cache; rebuilt every time, the bytes are the same
    if (!name) {
      // Stryker disable next-line StringLiteral: equivalent, Buffer.from's default encoding is utf8
      name = Buffer.from(listener, 'utf8');
      if (name.length > 255) throw new RangeError('listener name longer than 255 bytes');
      nameCache.set(listener, name);
    }
    const body = scratch;
    body[0] = VERSION;
    body.writeUIntBE(issuedAt, 1, 6);
    // Stryker disable next-line ArithmeticOperator: counting down keeps tags unique just the same
    counter = (counter + 1) >>> 0;
    body.writeUInt32BE(counter, 7);
    // A dotted quad is written in place (no split, no Buffer); anything else is IPv6.
    const v4 = writeIPv4(body, HEADER, remote.address);
    // Stryker disable next-line ConditionalExpression: equivalent, ipv6Bytes of a dotted quad writes the same 4 bytes first
    if (!v4) ipv6Bytes(remote.address).copy(body, HEADER);
    body[11] = v4 ? 4 : 6;
    let o = HEADER + (v4 ? 4 : 16);
    body.writeUInt16BE(remote.port, o); o += 2;
    body[o++] = name.length;
    name.copy(body, o); o += name.length;
    signers[0]!(body, o);
    return body.toString('base64url', 0, o + MAC_BYTES);
  }

  function decode(tag: string): TagCheck {
    if (typeof tag !== 'string' || tag.length > 512 || !/^[A-Za-z0-9_-]+$/.test(tag) || !canonicalBase64url(tag)) return { ok: false, reason: 'malformed' };
    const raw = Buffer.from(tag, 'base64url');
    if (raw.length < HEADER + 4 + 2 + 1 + MAC_BYTES || raw.length > MAX_RAW || raw[0] !== VERSION) return { ok: false, reason: 'malformed' };
    const bodyLen = raw.length - MAC_BYTES;
    const given = raw.subarray(bodyLen);
    raw.copy(scratch, 0, 0, bodyLen);
    const expected = scratch.subarray(bodyLen, bodyLen + MAC_BYTES);
    if (!signers.some((sign) => { sign(scratch, bodyLen); return timingSafeEqual(expected, given); })) return { ok: false, reason: 'forged' };
    const claims = parseBody(raw.subarray(0, bodyLen));
    if (!claims) return { ok: false, reason: 'malformed' };
    const age = now() - claims.issuedAt;
    if (age > opts.replyWindowMs || age < -60_000) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }

  return { encode, decode };
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True when `s` (already known to be base64url characters) is the one spelling encode() produces:
 * RFC 4648 §3.5 — the unused low bits of the last character are zero, and no length leaves a lone
 * 6-bit character. Otherwise 4 (2 unused bits) or 16 (4 unused bits) strings decode to the same bytes.
 */
function canonicalBase64url(s: string): boolean {
  const rem = s.length % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  const v = B64URL.indexOf(s[s.length - 1]!);
  return (v & (rem === 2 ? 0x0f : 0x03)) === 0;
}

function parseBody(body: Buffer): TagClaims | undefined {
  const family = body[11];
  const alen = family === 4 ? 4 : family === 6 ? 16 : 0;
  if (alen === 0 || body.length < HEADER + alen + 3) return undefined;
  const addr = body.subarray(HEADER, HEADER + alen);
  let o = HEADER + alen;
  const port = body.readUInt16BE(o); o += 2;
  const nlen = body[o++]!;
  if (body.length !== o + nlen) return undefined;
  return {
    issuedAt: body.readUIntBE(1, 6),
    remote: { address: family === 4 ? formatIPv4(addr) : formatIPv6(addr), port },
    listener: body.subarray(o).toString('utf8'),
  };
}

/** Writes a dotted-quad IPv4 address as 4 bytes at buf[o]; false (nothing meaningful written) if `a` is not one. */
function writeIPv4(buf: Buffer, o: number, a: string): boolean {
  let part = 0, n = 0, digits = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) { // '.'
      if (digits === 0 || n === 3) return false;
      buf[o + n++] = part; part = 0; digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || n !== 3) return false;
  buf[o + 3] = part;
  return true;
}

/** IPv6 text to 16 bytes (handles :: and an embedded IPv4 tail). A zone (%eth0) is dropped. */
export function ipv6Bytes(a: string): Buffer {
  const text = a.split('%')[0]!;
  const b = Buffer.alloc(16);
  // Stryker disable next-line StringLiteral: equivalent, splitting text without '::' on '::' leaves tail undefined
  let [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const groups = (s: string | undefined): number[] => {
    // Stryker disable next-line ArrayDeclaration: equivalent, a NaN group is written as 0 and the zero fill shrinks by one
    if (!s) return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) { const v4 = Buffer.alloc(4); writeIPv4(v4, 0, g); out.push(v4.readUInt16BE(0), v4.readUInt16BE(2)); }
      else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head), t = groups(tail);
  // Stryker disable next-line ConditionalExpression: equivalent, without '::' there are 8 groups and the zero fill is empty
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  all.forEach((g, i) => b.writeUInt16BE(g & 0xffff, i * 2));
  return b;
}

function formatIPv4(b: Buffer): string { return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`; }

function formatIPv6(b: Buffer): string {
  if (b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0 && b.readUInt16BE(8) === 0 && b.readUInt16BE(10) === 0xffff) {
    return `::ffff:${formatIPv4(b.subarray(12))}`; // IPv4-mapped, as dual-stack sockets report it
  }
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 recommends.
  let best = -1, bestLen = 0;
  // Stryker disable next-line EqualityOperator: equivalent, g[8] is undefined, not '0'
  for (let i = 0; i < 8;) {
    if (g[i] !== '0') { i++; continue; }
    // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent, g[8] is undefined, not '0'
    let j = i; while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}
