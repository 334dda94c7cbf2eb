import { describe, expect, it } from 'vitest';
import { parseReplies, toEvent } from '../../gateway/wire/event.js';
import { decodeData, encodeData } from '../../gateway/wire/formatter.js';
import { messageData, replyTo } from '../../gateway/wire/handler-kit.js';
import type { Packet } from '../../gateway/packet.js';

const packet: Packet = {
  tag: 'T1', listener: 'edge', remote: { address: '203.0.113.5', port: 51234 }, local: { address: '0.0.0.0', port: 5555 },
  receivedAt: Date.parse('2026-11-21T14:23:01.412Z'), data: Buffer.from('hello'), formatter: 'base64',
};

describe('event contract', () => {
  it('encodes a batch exactly as the reference service does', () => {
    expect(JSON.stringify(toEvent([packet]))).toBe(
      '{"Messages":[{"Tag":"T1","Remote":{"IpAddress":"203.0.113.5","Port":51234},' +
      '"Local":{"Domain":"edge","IpAddress":"0.0.0.0","Port":5555,"Protocol":"udp"},' +
      '"ReceivedAt":"2026-11-21T14:23:01.412Z","Formatter":"base64","Data":"aGVsbG8="}]}');
  });

  it.each([['base64', 'AP9h'], ['hex', '00ff61'], ['utf8', Buffer.from([0, 0xff, 0x61]).toString('utf8')], ['ascii', '\u0000\u00ffa']] as const)(
    'formats Data as %s', (f, text) => {
      const bytes = Buffer.from([0, 0xff, 0x61]);
      expect(encodeData(bytes, f)).toBe(text);
      if (f !== 'utf8') expect(decodeData(text, f)).toEqual(bytes);
    });

  it('refuses Data that does not decode', () => {
    expect(decodeData('abc', 'hex')).toBeInstanceOf(Error);
    expect(decodeData('a$b', 'base64')).toBeInstanceOf(Error);
  });

  it('parses replies, decoding Data with the formatter of the tag', () => {
    const r = parseReplies({ Replies: [{ Tag: 'A', Data: '6869' }, { Tag: 'B', Data: 'aGk=' }] }, (t) => (t === 'A' ? 'hex' : undefined));
    expect(r.replies).toEqual([{ tag: 'A', data: Buffer.from('hi') }, { tag: 'B', data: Buffer.from('hi') }]);
    expect(r.rejected).toEqual([]);
  });

  it.each([null, undefined, 42, 'text', {}, { Replies: [] }])('sends nothing for %j', (body) => {
    expect(parseReplies(body)).toEqual({ replies: [], rejected: [] });
  });

  it('rejects malformed replies with a reason each, keeping the good ones', () => {
    const r = parseReplies({ Replies: [{ Data: 'aGk=' }, { Tag: 'A', Data: 5 }, 42, { Tag: 'B', Data: 'aGk=' }, { Tag: 'C', Data: 'x', Formatter: 'rot13' }] });
    expect(r.replies).toEqual([{ tag: 'B', data: Buffer.from('hi') }]);
    expect(r.rejected.map((x) => x.reason)).toEqual(['reply has no Tag', 'reply Data is not a string', 'reply is not an object', 'reply Formatter must be one of base64, hex, utf8, ascii, coap']);
    expect(parseReplies({ Replies: 'nope' }).rejected).toEqual([{ index: -1, reason: 'Replies is not an array' }]);
  });

  it('handler kit decodes and replies in the message formatter', () => {
    const m = toEvent([{ ...packet, formatter: 'hex' }]).Messages[0]!;
    expect(messageData(m)).toEqual(Buffer.from('hello'));
    expect(replyTo(m, 'ok')).toEqual({ Tag: 'T1', Data: '6f6b' });
  });
});
