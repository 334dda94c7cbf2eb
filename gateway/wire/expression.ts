/**
 * A small, safe, pure template language over a packet, parsed once at config time.
 *
 *   "${remote.address}:${remote.port}"   "${listener}"   "${tag}"   "${data[0:4]:hex}"
 *
 * Text outside `${…}` is literal. Fields: tag, listener, remote.address, remote.port,
 * local.address, local.port, receivedAt (ISO 8601), receivedAtMs, formatter.
 * `data[start:end]:enc` is a byte range of the payload (end exclusive, either bound may be
 * omitted; `data[i]` is one byte; `data` alone is the whole payload), encoded hex (default),
 * base64 or base64url. No functions, no loops, no access to anything but the packet.
 * One language for the AWS destinations' keys and the udp destination's `rules` router (through the
 * plugin kit).
 */
import { FormatRegistry } from '@sinclair/typebox';
import type { Packet } from '../packet.js';

export type Expression = (p: Packet) => string;

export class ExpressionError extends Error {
  constructor(source: string, message: string) {
    super(`invalid expression ${JSON.stringify(source)}: ${message}`);
    this.name = 'ExpressionError';
  }
}

const FIELDS: Record<string, Expression> = {
  tag: (p) => p.tag,
  listener: (p) => p.listener,
  'remote.address': (p) => p.remote.address,
  'remote.port': (p) => String(p.remote.port),
  'local.address': (p) => p.local.address,
  'local.port': (p) => String(p.local.port),
  receivedAt: (p) => new Date(p.receivedAt).toISOString(),
  receivedAtMs: (p) => String(p.receivedAt),
  formatter: (p) => p.formatter,
};
const ENCODINGS = ['hex', 'base64', 'base64url'] as const;
const DATA = /^data(?:\[(\d*)(?:(:)(\d*))?\])?(?::([a-z0-9]+))?$/;

/** Parse a template; throws ExpressionError naming what is wrong. */
export function parseExpression(source: string): Expression {
  const parts: Expression[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('${', i);
    if (open < 0) { parts.push(constant(source.slice(i))); break; }
    if (open > i) parts.push(constant(source.slice(i, open)));
    const close = source.indexOf('}', open + 2);
    if (close < 0) throw new ExpressionError(source, `"\${" at offset ${open} is not closed by "}"`);
    parts.push(placeholder(source, source.slice(open + 2, close).trim()));
    i = close + 1;
  }
  if (parts.length === 0) throw new ExpressionError(source, 'is empty');
  return parts.length === 1 ? parts[0]! : (p) => parts.map((f) => f(p)).join('');
}

export function checkExpression(source: string): string | undefined {
  try { parseExpression(source); return undefined; } catch (err) { return (err as Error).message; }
}

function constant(text: string): Expression {
  return () => text;
}

function placeholder(source: string, body: string): Expression {
  const field = FIELDS[body];
  if (field) return field;
  const m = DATA.exec(body);
  if (!m) throw new ExpressionError(source, `unknown placeholder "\${${body}}": use one of ${Object.keys(FIELDS).join(', ')}, data[start:end]:hex|base64|base64url`);
  const [, from, colon, to, enc = 'hex'] = m;
  if (!(ENCODINGS as readonly string[]).includes(enc)) throw new ExpressionError(source, `unknown encoding "${enc}" in "\${${body}}": use hex, base64 or base64url`);
  const start = from ? Number(from) : 0;
  const end = colon ? (to ? Number(to) : undefined) : (from ? start + 1 : undefined);
  if (end !== undefined && end <= start) throw new ExpressionError(source, `empty byte range in "\${${body}}": end must be greater than start`);
  return (p) => p.data.subarray(start, end).toString(enc as BufferEncoding);
}

/** TypeBox string format, so config validation reports a bad expression with its path. */
export const EXPRESSION_FORMAT = 'udpgw-expression';
if (!FormatRegistry.Has(EXPRESSION_FORMAT)) FormatRegistry.Set(EXPRESSION_FORMAT, (v) => checkExpression(v) === undefined);

export const EXPRESSION_HELP = 'template over the packet: ${tag}, ${listener}, ${remote.address}, ${remote.port}, ${local.address}, ${local.port}, ${receivedAt}, ${data[0:4]:hex}';
