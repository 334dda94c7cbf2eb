import { createHmac, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTagCodec as createCodec, type TagCodec, type TagCodecOptions } from '../../gateway/tag.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { selectTagMac } from '../../net/tag-mac.js';

// Both HMAC implementations pass the same suite: node:crypto everywhere, the addon's where it is
// built (on Linux it must be: test/transport/native.test.ts fails loudly without it).
const TagMac = loadNativeAddon().addon?.TagMac;
const kinds: ('node' | 'native')[] = TagMac ? ['node', 'native'] : ['node'];

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const t0 = 1_800_000_000_000;

describe.each(kinds)('tag codec, %s HMAC', (mac) => {
  const createTagCodec = (o: TagCodecOptions) => createCodec({ mac: selectTagMac(mac), ...o });
  // Built before the tests rather than while they are collected: a codec that fails to build then
  // fails the tests (which is what mutation testing sees), instead of failing the file's collection.
  let codec!: TagCodec;
  beforeAll(() => { codec = createTagCodec({ secret, replyWindowMs: 60_000, now: () => t0 + 1000 }); });

  it('round-trips listener, IPv4 client and issue time', () => {
    const tag = codec.encode('edge', { address: '203.0.113.5', port: 51234 }, t0);
    expect(tag).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.decode(tag)).toEqual({ ok: true, claims: { listener: 'edge', remote: { address: '203.0.113.5', port: 51234 }, issuedAt: t0 } });
  });

  it.each(['0.0.0.0', '255.255.255.255', '10.0.0.1', '192.168.100.20'])('round-trips IPv4 %s', (address) => {
    const r = codec.decode(codec.encode('l', { address, port: 7 }, t0));
    expect(r.ok && r.claims.remote).toEqual({ address, port: 7 });
  });

  it.each([
    ['::1', '::1'], ['2001:db8::5', '2001:db8::5'], ['fe80:0:0:0:1:2:3:4', 'fe80::1:2:3:4'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'], ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
  ])('round-trips IPv6 %s', (given, canonical) => {
    const r = codec.decode(codec.encode('l', { address: given, port: 1 }, t0));
    expect(r.ok && r.claims.remote).toEqual({ address: canonical, port: 1 });
  });

  it('round-trips the largest tag (IPv6 client, 255-byte listener name)', () => {
    const name = 'n'.repeat(255), remote = { address: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 };
    expect(codec.decode(codec.encode(name, remote, t0))).toEqual({ ok: true, claims: { listener: name, remote, issuedAt: t0 } });
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

  it('accepts a tag at the edges of its window, and refuses one issued more than a minute in the future', () => {
    const tag = (at: number) => codec.encode('l', { address: '10.0.0.1', port: 9 }, at);
    const at = (now: number) => createTagCodec({ secret, replyWindowMs: 60_000, now: () => now });
    expect(at(t0 + 60_000).decode(tag(t0)).ok).toBe(true);
    expect(at(t0).decode(tag(t0 + 60_000)).ok).toBe(true); // clock skew between gateways: up to a minute ahead
    expect(at(t0).decode(tag(t0 + 60_001))).toEqual({ ok: false, reason: 'expired' });
  });

  it.each(['', 'not a tag!', 'AAAA', 'x'.repeat(600), Buffer.alloc(40, 2).toString('base64url')])('refuses malformed input %#', (bad) => {
    expect(codec.decode(bad)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts only the canonical spelling: other last characters decoding to the same bytes are malformed', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Tag lengths % 4 = 2 (4 unused bits: 15 other spellings), 3 (2 unused bits: 3 others), 0 (none).
    const remainders: number[] = [];
    for (const [name, address] of [['edg', '10.0.0.1'], ['edge', '10.0.0.1'], ['edge1', '2001:db8::1']] as const) {
      const tag = codec.encode(name, { address, port: 9 }, t0);
      remainders.push(tag.length % 4);
      const same = [...alphabet].map((c) => tag.slice(0, -1) + c).filter((t) => t !== tag && Buffer.from(t, 'base64url').equals(Buffer.from(tag, 'base64url')));
      if (tag.length % 4 !== 0) expect(same.length).toBe(tag.length % 4 === 2 ? 15 : 3);
      for (const t of same) expect(codec.decode(t)).toEqual({ ok: false, reason: 'malformed' });
      expect(codec.decode(tag).ok).toBe(true);
    }
    expect(remainders).toEqual([2, 3, 0]);
  });

  /** A tag over any body, signed with the secret: what only a holder of the secret could produce. */
  const signed = (body: Buffer, key = secret): string =>
    Buffer.concat([body, createHmac('sha256', key).update(body).digest().subarray(0, 12)]).toString('base64url');
  /** A tag body as encode() lays it out, each field overridable. */
  function body(o: { version?: number; family?: number; addr?: number[]; port?: number; name?: string; nameLength?: number; issuedAt?: number; extra?: number[] } = {}): Buffer {
    const name = Buffer.from(o.name ?? 'l');
    const head = Buffer.alloc(12);
    head[0] = o.version ?? 1;
    head.writeUIntBE(o.issuedAt ?? t0, 1, 6);
    head.writeUInt32BE(7, 7);
    head[11] = o.family ?? 4;
    const port = Buffer.alloc(2); port.writeUInt16BE(o.port ?? 9);
    return Buffer.concat([head, Buffer.from(o.addr ?? [127, 0, 0, 1]), port, Buffer.from([o.nameLength ?? name.length]), name, Buffer.from(o.extra ?? [])]);
  }

  it('a body laid out as encode() does, signed, decodes (the helpers below are right)', () => {
    expect(codec.decode(signed(body()))).toEqual({ ok: true, claims: { listener: 'l', remote: { address: '127.0.0.1', port: 9 }, issuedAt: t0 } });
    // The shortest tag: IPv4, an empty listener name (31 bytes with the MAC).
    expect(codec.decode(signed(body({ name: '' })))).toEqual({ ok: true, claims: { listener: '', remote: { address: '127.0.0.1', port: 9 }, issuedAt: t0 } });
  });

  it.each([
    ['version 2', body({ version: 2 })],
    ['family 5', body({ family: 5 })],
    ['family 0', body({ family: 0 })],
    ['family 6 with a 4-byte address', body({ family: 6 })],
    ['a name length past the end', body({ nameLength: 2 })],
    ['a name length short of the end', body({ extra: [0x61] })],
    ['shorter than the shortest tag', body({ name: '' }).subarray(0, 18)],
    ['too short for an IPv6 address', body({ family: 6, addr: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], nameLength: 0, name: '' })],
    ['longer than the longest tag', body({ family: 6, addr: new Array(16).fill(1), name: 'n'.repeat(255), extra: [0x61] })],
  ])('refuses a correctly signed tag with %s as malformed', (_what, b) => {
    expect(codec.decode(signed(b))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('checks the length and version before the MAC: such tags are malformed, not forged', () => {
    const raw = (len: number, version = 1) => { const b = Buffer.alloc(len, 0x41); b[0] = version; return b.toString('base64url'); };
    expect([raw(30), raw(299), raw(40, 2)].map((t) => codec.decode(t))).toEqual([
      { ok: false, reason: 'malformed' }, { ok: false, reason: 'malformed' }, { ok: false, reason: 'malformed' },
    ]);
    expect([raw(31), raw(298)].map((t) => codec.decode(t))).toEqual([{ ok: false, reason: 'forged' }, { ok: false, reason: 'forged' }]);
  });

  it('refuses as malformed anything but the exact base64url spelling, before any MAC is computed', () => {
    const tag = codec.encode('l', { address: '10.0.0.1', port: 9 }, t0);
    for (const bad of [`!${tag}`, `${tag}!`, `${tag.slice(0, 5)}=${tag.slice(5)}`, `${tag} `, `+${tag.slice(1)}`]) expect(codec.decode(bad)).toEqual({ ok: false, reason: 'malformed' });
    // A lone character after a whole number of 4-character groups decodes to no byte: not a spelling encode() makes.
    let four = tag;
    for (let n = 1; four.length % 4 !== 0; n++) four = codec.encode('l'.repeat(n), { address: '10.0.0.1', port: 9 }, t0);
    expect(codec.decode(four).ok).toBe(true);
    expect(codec.decode(`${four}A`)).toEqual({ ok: false, reason: 'malformed' });
    expect(codec.decode(123 as unknown as string)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a listener name over 255 bytes when encoding, by name', () => {
    expect(() => codec.encode('é'.repeat(128), { address: '10.0.0.1', port: 9 }, t0)).toThrow(new RangeError('listener name longer than 255 bytes'));
    const r = codec.decode(codec.encode('é'.repeat(127), { address: '10.0.0.1', port: 9 }, t0)); // 254 bytes of UTF-8
    expect(r.ok && r.claims.listener).toBe('é'.repeat(127));
  });

  // Addresses that are not dotted quads are not written as IPv4 (they are not IPv4 at all).
  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.300.4', '0001.1.1.1', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3./', '1.2.3.:', '1.2.3.a'])('does not take %s for an IPv4 address', (address) => {
    const r = codec.decode(codec.encode('l', { address, port: 9 }, t0));
    expect(r.ok && r.claims.remote.address).toContain(':');
  });

  // RFC 5952 text: the longest run of two or more zero groups compressed (the first of equal runs), hex in
  // lower case, IPv4-mapped addresses (and only they) with a dotted tail.
  it.each([
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['0:0:1:2:3:4:5:6', '::1:2:3:4:5:6'],
    ['1:2:3:4:5:6:0:0', '1:2:3:4:5:6::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::', '::'],
    ['FE80::A%eth0', 'fe80::a'],
    ['1::ffff:1.2.3.4', '1::ffff:102:304'],
    ['0:1::ffff:1.2.3.4', '0:1::ffff:102:304'],
    ['0:0:0:1:0:ffff:1.2.3.4', '::1:0:ffff:102:304'],
    ['::1:ffff:1.2.3.4', '::1:ffff:102:304'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::ffff:0102:0304', '::ffff:1.2.3.4'],
  ])('writes IPv6 %s back as %s', (given, canonical) => {
    const r = codec.decode(codec.encode('l', { address: given, port: 1 }, t0));
    expect(r.ok && r.claims.remote.address).toBe(canonical);
  });

  it('accepts tags signed with a previous secret during rotation', () => {
    const old = createTagCodec({ secret, replyWindowMs: 60_000, now: () => t0 });
    const rotated = createTagCodec({ secret: Buffer.from('the new secret, 16+ bytes'), previousSecrets: [secret], replyWindowMs: 60_000, now: () => t0 });
    expect(rotated.decode(old.encode('l', { address: '10.0.0.1', port: 9 }, t0)).ok).toBe(true);
  });
});

describe.runIf(TagMac)('native TagMac', () => {
  const sign = (key: Buffer, data: Buffer, macLen = 32): string => {
    const buf = Buffer.alloc(data.length + macLen);
    data.copy(buf);
    new TagMac!(key).sign(buf, data.length, macLen);
    return buf.subarray(data.length).toString('hex');
  };

  // RFC 4231, HMAC-SHA-256 test cases 1, 2, 3, 6 (a 131-byte key, hashed first) and 7.
  it.each([
    ['0b'.repeat(20), Buffer.from('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [Buffer.from('Jefe').toString('hex'), Buffer.from('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['aa'.repeat(20), Buffer.alloc(50, 0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['aa'.repeat(131), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    ['aa'.repeat(131), Buffer.from('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
  ])('RFC 4231 vector %#', (key, data, want) => {
    expect(sign(Buffer.from(key, 'hex'), data)).toBe(want);
  });

  it('agrees with node:crypto on every key and message length around the block boundaries', () => {
    for (let k = 0; k <= 130; k += 13) {
      for (let n = 0; n <= 200; n++) {
        const key = randomBytes(k), data = randomBytes(n);
        expect(sign(key, data, 12)).toBe(createHmac('sha256', key).update(data).digest().subarray(0, 12).toString('hex'));
      }
    }
  });

  it('tags signed with the addon verify with node:crypto and the other way round', () => {
    const native = createCodec({ secret, replyWindowMs: 60_000, now: () => t0, mac: selectTagMac('native') });
    const node = createCodec({ secret, replyWindowMs: 60_000, now: () => t0, mac: selectTagMac('node') });
    const remote = { address: '2001:db8::7', port: 4242 };
    expect(node.decode(native.encode('edge', remote, t0))).toEqual({ ok: true, claims: { listener: 'edge', remote, issuedAt: t0 } });
    expect(native.decode(node.encode('edge', remote, t0))).toEqual({ ok: true, claims: { listener: 'edge', remote, issuedAt: t0 } });
  });

  it('refuses a sign() past the end of the buffer', () => {
    expect(() => new TagMac!(secret).sign(Buffer.alloc(20), 10, 12)).toThrow(RangeError);
  });
});
