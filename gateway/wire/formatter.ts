/** Data encodings of the event contract: base64 (default), hex, utf8, ascii, and message formatters
 *  plugged in (gateway/extension/data-formatter.ts). Pure. */
import { FORMATTERS, type Formatter } from '../packet.js';
import { dataFormatter } from '../extension/data-formatter.js';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export function isFormatter(value: unknown): value is Formatter {
  return typeof value === 'string' && (FORMATTERS as readonly string[]).includes(value);
}

export function encodeData(data: Buffer, formatter: Formatter): string {
  switch (formatter) {
    case 'base64': return data.toString('base64');
    case 'hex': return data.toString('hex');
    case 'utf8': return data.toString('utf8');
    case 'ascii': return data.toString('latin1');
    default: return plugged(formatter).encode(data);
  }
}

function plugged(name: string) {
  const f = dataFormatter(name);
  if (!f) throw new Error(`formatter "${name}" is not registered`);
  return f;
}

/** True for a message formatter, whose Data may also be a JSON object. */
export function isMessageFormatter(formatter: Formatter): boolean {
  return dataFormatter(formatter) !== undefined;
}

/** Decode a Data value (a string; an object too for a message formatter). */
export function decodeAnyData(data: unknown, formatter: Formatter): Buffer | Error {
  const f = dataFormatter(formatter);
  if (f) return f.decode(data);
  if (typeof data !== 'string') return new Error('Data is not a string');
  return decodeData(data, formatter);
}

/** Decode a Data string. Returns an Error (not thrown) when the text is not valid for the formatter. */
export function decodeData(text: string, formatter: Formatter): Buffer | Error {
  switch (formatter) {
    case 'base64':
      if (!BASE64.test(text)) return new Error('Data is not valid base64');
      return Buffer.from(text, 'base64');
    case 'hex':
      if (!HEX.test(text)) return new Error('Data is not valid hex (even number of 0-9a-f digits)');
      return Buffer.from(text, 'hex');
    case 'utf8': return Buffer.from(text, 'utf8');
    case 'ascii': return Buffer.from(text, 'latin1');
    default: return plugged(formatter).decode(text);
  }
}
