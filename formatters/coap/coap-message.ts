/**
 * CoAP messages on the wire (RFC 7252 §3): parse a datagram into header, token, options and
 * payload, and encode them back. Option encoding is canonical (deltas 0–12 in the nibble,
 * 13–268 in one extra byte, 269–65804 in two), so encode(parse(x)) gives back x for every
 * valid x. Every malformed input has its own reason; nothing throws.
 */

export interface CoapOptionBytes {
  number: number;
  value: Buffer;
}

export interface CoapMessageBytes {
  type: number; // 0 CON, 1 NON, 2 ACK, 3 RST
  code: number; // class << 5 | detail
  messageId: number;
  token: Buffer;
  options: CoapOptionBytes[];
  payload: Buffer;
}

export type CoapParseError =
  | 'coap-too-short' | 'coap-bad-version' | 'coap-reserved-token-length' | 'coap-truncated-token'
  | 'coap-empty-message-not-empty' | 'coap-reserved-option-delta' | 'coap-reserved-option-length'
  | 'coap-truncated-option' | 'coap-option-number-too-large' | 'coap-empty-payload-after-marker';

export type CoapParsed = { ok: true; message: CoapMessageBytes } | { ok: false; reason: CoapParseError };

const HEADER = 4;
const VERSION = 1; // §3: "Implementations of this specification MUST set this field to 1"
const MAX_TOKEN = 8; // §3: token lengths 9–15 are reserved, a message format error
const PAYLOAD_MARKER = 0xff;
const NIBBLE_RESERVED = 15; // §3.1: delta 15 is the payload marker only; length 15 is reserved
const MAX_OPTION_NUMBER = 0xffff;

/** An option delta or length nibble with its extended bytes (§3.1); undefined when truncated. */
function readExtended(buf: Buffer, nibble: number, at: number): { value: number; at: number } | undefined {
  if (nibble < 13) return { value: nibble, at };
  if (nibble === 13) return at + 1 <= buf.length ? { value: buf[at]! + 13, at: at + 1 } : undefined;
  return at + 2 <= buf.length ? { value: buf.readUInt16BE(at) + 269, at: at + 2 } : undefined;
}

function parseOptions(buf: Buffer, start: number): { ok: true; options: CoapOptionBytes[]; payload: Buffer } | { ok: false; reason: CoapParseError } {
  const options: CoapOptionBytes[] = [];
  let at = start;
  let number = 0;
  while (at < buf.length) {
    const byte = buf[at++]!;
    if (byte === PAYLOAD_MARKER) {
      if (at === buf.length) return { ok: false, reason: 'coap-empty-payload-after-marker' };
      return { ok: true, options, payload: Buffer.from(buf.subarray(at)) };
    }
    if (byte >> 4 === NIBBLE_RESERVED) return { ok: false, reason: 'coap-reserved-option-delta' };
    if ((byte & 0x0f) === NIBBLE_RESERVED) return { ok: false, reason: 'coap-reserved-option-length' };
    const delta = readExtended(buf, byte >> 4, at);
    if (!delta) return { ok: false, reason: 'coap-truncated-option' };
    const length = readExtended(buf, byte & 0x0f, delta.at);
    if (!length) return { ok: false, reason: 'coap-truncated-option' };
    number += delta.value;
    if (number > MAX_OPTION_NUMBER) return { ok: false, reason: 'coap-option-number-too-large' };
    if (length.at + length.value > buf.length) return { ok: false, reason: 'coap-truncated-option' };
    options.push({ number, value: Buffer.from(buf.subarray(length.at, length.at + length.value)) });
    at = length.at + length.value;
  }
  return { ok: true, options, payload: Buffer.alloc(0) };
}

export function parseCoapMessage(buf: Buffer): CoapParsed {
  if (buf.length < HEADER) return { ok: false, reason: 'coap-too-short' };
  if (buf[0]! >> 6 !== VERSION) return { ok: false, reason: 'coap-bad-version' };
  const tokenLength = buf[0]! & 0x0f;
  if (tokenLength > MAX_TOKEN) return { ok: false, reason: 'coap-reserved-token-length' };
  if (HEADER + tokenLength > buf.length) return { ok: false, reason: 'coap-truncated-token' };
  const code = buf[1]!;
  // §4.1: an Empty message (0.00) has no token and no bytes after the Message ID
  if (code === 0 && buf.length > HEADER) return { ok: false, reason: 'coap-empty-message-not-empty' };
  const rest = parseOptions(buf, HEADER + tokenLength);
  if (!rest.ok) return rest;
  return {
    ok: true,
    message: {
      type: (buf[0]! >> 4) & 0x03, code, messageId: buf.readUInt16BE(2),
      token: Buffer.from(buf.subarray(HEADER, HEADER + tokenLength)), options: rest.options, payload: rest.payload,
    },
  };
}

/** The nibble and extended bytes for an option delta or length (§3.1). */
function extended(value: number): { nibble: number; bytes: Buffer } {
  if (value < 13) return { nibble: value, bytes: Buffer.alloc(0) };
  if (value < 269) return { nibble: 13, bytes: Buffer.from([value - 13]) };
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value - 269);
  return { nibble: 14, bytes };
}

/** Bytes of a message whose fields are already valid (see ./coap-json.ts for validation). Options are sorted by number. */
export function encodeCoapMessage(m: CoapMessageBytes): Buffer {
  const parts: Buffer[] = [Buffer.from([(VERSION << 6) | (m.type << 4) | m.token.length, m.code, m.messageId >> 8, m.messageId & 0xff]), m.token];
  let previous = 0;
  const sorted = m.options.map((o, i) => ({ o, i })).sort((x, y) => x.o.number - y.o.number || x.i - y.i);
  for (const { o } of sorted) {
    const delta = extended(o.number - previous);
    const length = extended(o.value.length);
    parts.push(Buffer.from([(delta.nibble << 4) | length.nibble]), delta.bytes, length.bytes, o.value);
    previous = o.number;
  }
  if (m.payload.length > 0) parts.push(Buffer.from([PAYLOAD_MARKER]), m.payload);
  return Buffer.concat(parts);
}
