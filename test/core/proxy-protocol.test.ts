/** PROXY protocol v2 headers, byte by byte against HAProxy's proxy-protocol.txt section 2.2. */
import { describe, expect, it } from 'vitest';
import { decodeProxyV2, encodeProxyV2 } from '../../gateway/wire/proxy-protocol.js';

const SIG = '0d0a0d0a000d0a515549540a';

describe('PROXY protocol v2', () => {
  it('IPv4 client over UDP: 0x21, AF_INET|DGRAM 0x12, length 12, src, dst, ports', () => {
    const h = encodeProxyV2({ address: '203.0.113.5', port: 51234 }, { address: '192.0.2.10', port: 19132 });
    expect(h.toString('hex')).toBe(SIG + '21' + '12' + '000c' + 'cb007105' + 'c000020a' + 'c822' + '4abc');
    expect(h.length).toBe(28);
  });

  it('IPv6 client over UDP: AF_INET6|DGRAM 0x22, length 36, 16-byte addresses', () => {
    const h = encodeProxyV2({ address: '2001:db8::1', port: 443 }, { address: 'fd00::a:b', port: 5555 });
    expect(h.toString('hex')).toBe(SIG + '21' + '22' + '0024'
      + '20010db8000000000000000000000001' + 'fd0000000000000000000000000a000b'
      + '01bb' + '15b3');
    expect(h.length).toBe(52);
  });

  it('an IPv4 client seen on a dual-stack socket (::ffff:a.b.c.d) is written as IPv4; a wildcard destination as 0.0.0.0', () => {
    const h = encodeProxyV2({ address: '::ffff:198.51.100.7', port: 1000 }, { address: '::', port: 53 });
    expect(h.toString('hex')).toBe(SIG + '2112000c' + 'c6336407' + '00000000' + '03e8' + '0035');
  });

  it('decodes what it encodes, and refuses what is not a v2 header', () => {
    const h = encodeProxyV2({ address: '2001:db8::1', port: 443 }, { address: '2001:db8::2', port: 80 }, 'stream');
    expect(decodeProxyV2(Buffer.concat([h, Buffer.from('payload')]))).toEqual({
      command: 'proxy', family: 6, transport: 'stream', length: 52,
      source: { address: '2001:db8::1', port: 443 }, destination: { address: '2001:db8::2', port: 80 },
    });
    expect(decodeProxyV2(Buffer.from('PROXY TCP4 1.2.3.4'))).toBeInstanceOf(Error);
  });
});
