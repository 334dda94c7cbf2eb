/**
 * The `coap` formatter's JSON shape, with the field names the hosted reference service uses:
 *   { Version: 1, Type, Code, MessageId, Token, Options: [{ Number, Value }], Payload,
 *     Method?, Path? }
 * - Type: 0 CON, 1 NON, 2 ACK, 3 RST (a number; encoding also takes "CON"/"NON"/"ACK"/"RST").
 * - Code: the code byte as a number (1 = GET, 69 = 2.05); encoding also takes "c.dd" text ("2.05").
 * - Token, Option Value and Payload: base64 of the raw bytes (empty string when empty).
 *   coapUint/coapText build Values from numbers and text; readCoapUint/readCoapText read them.
 * - Method ("GET", "POST", ... for request codes) and Path ("/a/b", from the Uri-Path options)
 *   are read-only conveniences on parsed messages; encoding ignores them.
 */
import { encodeCoapMessage, parseCoapMessage, type CoapMessageBytes, type CoapParseError } from './coap-message.js';

export interface CoapOption {
  Number: number;
  Value: string;
}

export interface CoapJson {
  Version?: number;
  Type: number | string;
  Code: number | string;
  MessageId: number;
  Token?: string;
  Options?: CoapOption[];
  Payload?: string;
  Method?: string;
  Path?: string;
}

export type CoapEncodeError =
  | 'coap-bad-version' | 'coap-bad-type' | 'coap-bad-code' | 'coap-bad-message-id' | 'coap-bad-token'
  | 'coap-bad-option' | 'coap-bad-payload' | 'coap-empty-message-not-empty' | 'coap-not-an-object';

export const TYPE_NAMES = ['CON', 'NON', 'ACK', 'RST'] as const;
/** Request method codes 0.01–0.07 (RFC 7252 §12.1.1, RFC 8132 for FETCH, PATCH, iPATCH). */
const METHODS = ['', 'GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'PATCH', 'iPATCH'];
const URI_PATH = 11;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** "2.05" for 69. */
export function codeText(code: number): string {
  return `${code >> 5}.${String(code & 0x1f).padStart(2, '0')}`;
}

export function toCoapJson(m: CoapMessageBytes): CoapJson {
  const json: CoapJson = {
    Version: 1, Type: m.type, Code: m.code, MessageId: m.messageId, Token: m.token.toString('base64'),
    Options: m.options.map((o) => ({ Number: o.number, Value: o.value.toString('base64') })),
    Payload: m.payload.toString('base64'),
  };
  if (m.code >> 5 === 0 && METHODS[m.code]) json.Method = METHODS[m.code];
  const path = m.options.filter((o) => o.number === URI_PATH);
  if (path.length > 0) json.Path = path.map((o) => `/${o.value.toString('utf8')}`).join('');
  return json;
}

function base64(text: unknown, maxBytes: number): Buffer | undefined {
  if (text === undefined) return Buffer.alloc(0);
  if (typeof text !== 'string' || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length <= maxBytes ? bytes : undefined;
}

function parseCode(code: unknown): number | undefined {
  if (typeof code === 'number') return Number.isInteger(code) && code >= 0 && code <= 0xff ? code : undefined;
  const m = typeof code === 'string' ? /^([0-7])\.([0-2]\d|3[01])$/.exec(code) : null;
  return m ? (Number(m[1]) << 5) | Number(m[2]) : undefined;
}

function parseType(type: unknown): number | undefined {
  if (typeof type === 'number') return Number.isInteger(type) && type >= 0 && type <= 3 ? type : undefined;
  const i = TYPE_NAMES.indexOf(type as (typeof TYPE_NAMES)[number]);
  return i >= 0 ? i : undefined;
}

function parseOptions(options: unknown): CoapMessageBytes['options'] | undefined {
  if (options === undefined) return [];
  if (!Array.isArray(options)) return undefined;
  const out: CoapMessageBytes['options'] = [];
  for (const o of options as unknown[]) {
    const { Number: n, Value: v } = (o ?? {}) as Partial<CoapOption>;
    const value = base64(v ?? '', 65_535);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffff || !value) return undefined;
    out.push({ number: n, value });
  }
  return out;
}

/** The message bytes for a JSON shape, or the first thing wrong with it. */
export function fromCoapJson(json: unknown): { ok: true; message: CoapMessageBytes } | { ok: false; reason: CoapEncodeError } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, reason: 'coap-not-an-object' };
  const j = json as Partial<CoapJson>;
  if (j.Version !== undefined && j.Version !== 1) return { ok: false, reason: 'coap-bad-version' };
  const type = parseType(j.Type);
  if (type === undefined) return { ok: false, reason: 'coap-bad-type' };
  const code = parseCode(j.Code);
  if (code === undefined) return { ok: false, reason: 'coap-bad-code' };
  if (typeof j.MessageId !== 'number' || !Number.isInteger(j.MessageId) || j.MessageId < 0 || j.MessageId > 0xffff) return { ok: false, reason: 'coap-bad-message-id' };
  const token = base64(j.Token, 8);
  if (!token) return { ok: false, reason: 'coap-bad-token' };
  const options = parseOptions(j.Options);
  if (!options) return { ok: false, reason: 'coap-bad-option' };
  const payload = base64(j.Payload, 65_507);
  if (!payload) return { ok: false, reason: 'coap-bad-payload' };
  if (code === 0 && (token.length > 0 || options.length > 0 || payload.length > 0)) return { ok: false, reason: 'coap-empty-message-not-empty' };
  return { ok: true, message: { type, code, messageId: j.MessageId, token, options, payload } };
}

/** Datagram -> the formatter's JSON object, or why the datagram is not CoAP. */
export function parseCoap(datagram: Buffer): { ok: true; json: CoapJson } | { ok: false; reason: CoapParseError } {
  const parsed = parseCoapMessage(datagram);
  return parsed.ok ? { ok: true, json: toCoapJson(parsed.message) } : parsed;
}

/** JSON object (or its text) -> datagram, or why it cannot be encoded. */
export function encodeCoap(json: unknown): { ok: true; datagram: Buffer } | { ok: false; reason: CoapEncodeError } {
  let value = json;
  if (typeof json === 'string') {
    try { value = JSON.parse(json); } catch { return { ok: false, reason: 'coap-not-an-object' }; }
  }
  const m = fromCoapJson(value);
  return m.ok ? { ok: true, datagram: encodeCoapMessage(m.message) } : m;
}

/** An option Value for an unsigned integer: minimal big-endian bytes, 0 as empty (§3.2 "uint"). */
export function coapUint(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('coapUint takes a non-negative integer');
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes).toString('base64');
}

export function readCoapUint(value: string): number {
  return [...Buffer.from(value, 'base64')].reduce((n, b) => n * 256 + b, 0);
}

/** An option Value (or Payload) for UTF-8 text (§3.2 "string"). */
export function coapText(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function readCoapText(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}
