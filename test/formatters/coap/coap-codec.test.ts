/** CoAP codec (RFC 7252): vectors from the RFC, every error reason, the JSON shape, and round-trip properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  coapText, coapUint, codeText, encodeCoap, type CoapMessageBytes, encodeCoapData, decodeCoapData, encodeCoapMessage, parseCoap, parseCoapMessage, readCoapText, readCoapUint,
} from '../../../formatters/coap/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
// RFC 7252 Appendix A, Figure 16: CON GET, Message ID 0x7d34, Uri-Path "temperature"; the ACK 2.05 "22.3 C".
const GET_TEMPERATURE = Buffer.concat([hex('40017d34bb'), Buffer.from('temperature')]);
const ACK_CONTENT = Buffer.concat([hex('60457d34ff'), Buffer.from('22.3 C')]);

describe('CoAP codec', () => {
  it('parses the RFC 7252 Figure 16 request into the formatter JSON', () => {
    expect(parseCoap(GET_TEMPERATURE)).toEqual({
      ok: true,
      json: { Version: 1, Type: 0, Code: 1, MessageId: 0x7d34, Token: '', Options: [{ Number: 11, Value: coapText('temperature') }], Payload: '', Method: 'GET', Path: '/temperature' },
    });
  });

  it('encodes the RFC 7252 Figure 16 response from JSON with names ("ACK", "2.05")', () => {
    expect(encodeCoap({ Type: 'ACK', Code: '2.05', MessageId: 0x7d34, Payload: coapText('22.3 C') })).toEqual({ ok: true, datagram: ACK_CONTENT });
    expect(encodeCoap(JSON.stringify({ Type: 2, Code: 69, MessageId: 0x7d34, Token: '', Options: [], Payload: coapText('22.3 C') }))).toEqual({ ok: true, datagram: ACK_CONTENT });
  });

  it('uses the extended option forms and sorts options by number', () => {
    const big = Buffer.alloc(300, 0x61);
    const { datagram } = encodeCoap({ Type: 1, Code: '0.02', MessageId: 1, Token: 'AQID', Options: [
      { Number: 2000, Value: big.toString('base64') }, { Number: 11, Value: coapText('a') }, { Number: 60, Value: coapUint(1024) },
    ] }) as { datagram: Buffer };
    // 11 (delta 11), 60 (delta 49: 13 + 36), 2000 (delta 1940: 14 + 1671, length 300: 14 + 31)
    expect(datagram.subarray(0, 7).toString('hex')).toBe('53020001010203');
    expect(datagram.subarray(7, 9).toString('hex')).toBe('b161');
    expect(datagram.subarray(9, 13).toString('hex')).toBe('d2240400');
    expect(datagram.subarray(13, 18).toString('hex')).toBe('ee0687001f');
    const back = parseCoap(datagram) as { ok: true; json: { Options: { Number: number; Value: string }[] } };
    expect(back.json.Options.map((o) => o.Number)).toEqual([11, 60, 2000]);
    expect(readCoapUint(back.json.Options[1]!.Value)).toBe(1024);
    expect(readCoapText(back.json.Options[0]!.Value)).toBe('a');
  });

  it.each<[string, Buffer, string]>([
    ['three bytes', hex('400100'), 'coap-too-short'],
    ['version 2', hex('80010001'), 'coap-bad-version'],
    ['version 0', hex('00010001'), 'coap-bad-version'],
    ['token length 9', hex('49010001') , 'coap-reserved-token-length'],
    ['token length 15', Buffer.concat([hex('4f010001'), Buffer.alloc(15)]), 'coap-reserved-token-length'],
    ['token shorter than its length', hex('44010001aabb'), 'coap-truncated-token'],
    ['Empty message with a token', hex('41000001aa'), 'coap-empty-message-not-empty'],
    ['Empty message with a payload marker', hex('40000001ff00'), 'coap-empty-message-not-empty'],
    ['option delta 15 that is not the marker', hex('40010001f1'), 'coap-reserved-option-delta'],
    ['option length 15', hex('400100011f'), 'coap-reserved-option-length'],
    ['option value beyond the end', hex('4001000113aa'), 'coap-truncated-option'],
    ['extended delta byte missing', hex('40010001d0'), 'coap-truncated-option'],
    ['extended length bytes missing', hex('400100010e01'), 'coap-truncated-option'],
    ['option number over 65535', hex('40010001e0fef3e00100'), 'coap-option-number-too-large'],
    ['payload marker with no payload', hex('40010001ff'), 'coap-empty-payload-after-marker'],
  ])('refuses %s', (_name, bytes, reason) => {
    expect(parseCoapMessage(bytes)).toEqual({ ok: false, reason });
  });

  it.each<[string, unknown, string]>([
    ['not an object', 42, 'coap-not-an-object'],
    ['JSON text that is not JSON', '{', 'coap-not-an-object'],
    ['Version 2', { Version: 2, Type: 0, Code: 1, MessageId: 1 }, 'coap-bad-version'],
    ['Type 4', { Type: 4, Code: 1, MessageId: 1 }, 'coap-bad-type'],
    ['Type "CONFIRM"', { Type: 'CONFIRM', Code: 1, MessageId: 1 }, 'coap-bad-type'],
    ['Code 256', { Type: 0, Code: 256, MessageId: 1 }, 'coap-bad-code'],
    ['Code "2.5"', { Type: 0, Code: '2.5', MessageId: 1 }, 'coap-bad-code'],
    ['Code "8.00"', { Type: 0, Code: '8.00', MessageId: 1 }, 'coap-bad-code'],
    ['MessageId 65536', { Type: 0, Code: 1, MessageId: 65_536 }, 'coap-bad-message-id'],
    ['a 9-byte token', { Type: 0, Code: 1, MessageId: 1, Token: Buffer.alloc(9).toString('base64') }, 'coap-bad-token'],
    ['a token that is not base64', { Type: 0, Code: 1, MessageId: 1, Token: 'zz!' }, 'coap-bad-token'],
    ['an option number of -1', { Type: 0, Code: 1, MessageId: 1, Options: [{ Number: -1, Value: '' }] }, 'coap-bad-option'],
    ['an option value that is not base64', { Type: 0, Code: 1, MessageId: 1, Options: [{ Number: 11, Value: '%%' }] }, 'coap-bad-option'],
    ['Options not a list', { Type: 0, Code: 1, MessageId: 1, Options: {} }, 'coap-bad-option'],
    ['a payload that is not base64', { Type: 0, Code: 1, MessageId: 1, Payload: 'a b' }, 'coap-bad-payload'],
    ['an Empty message with a payload', { Type: 2, Code: '0.00', MessageId: 1, Payload: 'AA==' }, 'coap-empty-message-not-empty'],
  ])('will not encode %s', (_name, json, reason) => {
    expect(encodeCoap(json)).toEqual({ ok: false, reason });
  });

  it('formats Data as JSON text and reads a reply\'s Data back (text or object)', () => {
    const data = encodeCoapData(GET_TEMPERATURE);
    expect(data.ok && JSON.parse(data.data)).toMatchObject({ Code: 1, Path: '/temperature' });
    expect(decodeCoapData(JSON.stringify({ Type: 2, Code: '2.05', MessageId: 0x7d34, Payload: coapText('22.3 C') }))).toEqual(ACK_CONTENT);
    expect(decodeCoapData({ Type: 2, Code: 69, MessageId: 0x7d34, Payload: coapText('22.3 C') })).toEqual(ACK_CONTENT);
    expect(decodeCoapData({ Type: 9 })).toEqual(new Error('Data is not a CoAP message (coap-bad-type)'));
    expect(encodeCoapData(hex('40010001ff'))).toEqual({ ok: false, reason: 'coap-empty-payload-after-marker' });
  });

  it('writes codes as c.dd and uint option values minimally', () => {
    expect([codeText(1), codeText(69), codeText(132), codeText(0)]).toEqual(['0.01', '2.05', '4.04', '0.00']);
    expect([coapUint(0), coapUint(255), coapUint(256)]).toEqual(['', '/w==', 'AQA=']);
    expect(readCoapUint('')).toBe(0);
  });
});

const message = fc.record({
  type: fc.integer({ min: 0, max: 3 }),
  code: fc.integer({ min: 1, max: 255 }),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
  options: fc.array(fc.record({
    number: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff })),
    value: fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 250, maxLength: 300 })).map((b) => Buffer.from(b)),
  }), { maxLength: 8 }),
  payload: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
});

function sameMessage(a: CoapMessageBytes, b: CoapMessageBytes): boolean {
  return a.type === b.type && a.code === b.code && a.messageId === b.messageId && a.token.equals(b.token) && a.payload.equals(b.payload)
    && a.options.length === b.options.length && a.options.every((o, i) => o.number === b.options[i]!.number && o.value.equals(b.options[i]!.value));
}

describe('CoAP codec properties (fast-check, fixed seed)', () => {
  it('encode then parse gives the message back (options in number order)', () => {
    fc.assert(fc.property(message, (m) => {
      const parsed = parseCoapMessage(encodeCoapMessage(m));
      const sorted = m.options.map((o, i) => ({ o, i })).sort((x, y) => x.o.number - y.o.number || x.i - y.i).map((x) => x.o);
      return parsed.ok && sameMessage(parsed.message, { ...m, options: sorted });
    }), { seed: 7, numRuns: 2_000 });
  });

  it('for any bytes that parse, encode(parse(x)) is x, through the JSON shape too; nothing throws', () => {
    const valid = message.map((m) => encodeCoapMessage(m));
    const bytes = fc.oneof(valid, valid.chain((b) => fc.tuple(fc.nat({ max: b.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([at, x]) => { const c = Buffer.from(b); c[at]! ^= x; return c; })),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)));
    let parsedCount = 0;
    fc.assert(fc.property(bytes, (b) => {
      const p = parseCoap(b);
      if (!p.ok) return true;
      parsedCount++;
      const back = encodeCoap(JSON.parse(JSON.stringify(p.json)));
      return back.ok && back.datagram.equals(b);
    }), { seed: 7, numRuns: 3_000 });
    expect(parsedCount).toBeGreaterThan(1_000);
  });
});
