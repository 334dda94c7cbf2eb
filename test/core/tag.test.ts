import { describe, expect, it } from 'vitest';
import { createTagCodec } from '../../gateway/tag.js';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const t0 = 1_800_000_000_000;

describe('tag codec', () => {
  const codec = createTagCodec({ secret, replyWindowMs: 60_000, now: () => t0 + 1000 });

  it('round-trips listener, IPv4 client and issue time', () => {
    const tag = codec.encode('edge', { address: '203.0.113.5', port: 51234 }, t0);
    expect(tag).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.decode(tag)).toEqual({ ok: true, claims: { listener: 'edge', remote: { address: '203.0.113.5', port: 51234 }, issuedAt: t0 } });
  });

  it.each([
    ['::1', '::1'], ['2001:db8::5', '2001:db8::5'], ['fe80:0:0:0:1:2:3:4', 'fe80::1:2:3:4'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'], ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
  ])('round-trips IPv6 %s', (given, canonical) => {
    const r = codec.decode(codec.encode('l', { address: given, port: 1 }, t0));
    expect(r.ok && r.claims.remote).toEqual({ address: canonical, port: 1 });
  });

  it('is unique per packet even within one millisecond', () => {
    const tags = new Set(Array.from({ length: 1000 }, () => codec.encode('l', { address: '10.0.0.1', port: 9 }, t0)));
    expect(tags.size).toBe(1000);
  });

  it('refuses a tag signed with another secret as forged', () => {
    const other = createTagCodec({ secret: Buffer.from('another secret, sixteen+'), replyWindowMs: 60_000, now: () => t0 });
    expect(codec.decode(other.encode('l', { address: '10.0.0.1', port: 9 }, t0))).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a tampered tag (address changed) as forged', () => {
    const raw = Buffer.from(codec.encode('l', { address: '10.0.0.1', port: 9 }, t0), 'base64url');
    raw[12] = 192; // first address byte
    expect(codec.decode(raw.toString('base64url'))).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses an expired tag', () => {
    const late = createTagCodec({ secret, replyWindowMs: 60_000, now: () => t0 + 60_001 });
    expect(late.decode(codec.encode('l', { address: '10.0.0.1', port: 9 }, t0))).toEqual({ ok: false, reason: 'expired' });
  });

  it.each(['', 'not a tag!', 'AAAA', 'x'.repeat(600), Buffer.alloc(40, 2).toString('base64url')])('refuses malformed input %#', (bad) => {
    expect(codec.decode(bad)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts tags signed with a previous secret during rotation', () => {
    const old = createTagCodec({ secret, replyWindowMs: 60_000, now: () => t0 });
    const rotated = createTagCodec({ secret: Buffer.from('the new secret, 16+ bytes'), previousSecrets: [secret], replyWindowMs: 60_000, now: () => t0 });
    expect(rotated.decode(old.encode('l', { address: '10.0.0.1', port: 9 }, t0)).ok).toBe(true);
  });
});
