/** Options of the `udp` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { Type } from '@sinclair/typebox';
import type { ConfigProblem } from '../../gateway/plugin-kit.js';

export const UdpOptionsSchema = Type.Object({
  backends: Type.Array(Type.String({ minLength: 3, description: 'host:port or [ipv6]:port' }), { minItems: 1 }),
  balance: Type.Union([Type.Literal('hash'), Type.Literal('round-robin')], { default: 'hash' }),
  idleTimeoutMs: Type.Integer({ minimum: 1, default: 60_000 }),
  maxSessions: Type.Integer({ minimum: 1, default: 10_000 }),
  replies: Type.Boolean({ default: true, description: 'relay backend datagrams back to the client' }),
}, { additionalProperties: false });

/** Split "host:port" or "[v6]:port". Returns an Error (not thrown) with what is wrong and the fix. */
export function parseHostPort(text: string): { host: string; port: number } | Error {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]+):(\d+)$/.exec(text);
  if (!m) {
    const port = text.slice(text.lastIndexOf(':') + 1);
    const why = !text.includes(':') ? 'has no port' : !/^\d+$/.test(port) ? `has port "${port}", not a number` : 'is not host:port';
    return new Error(`backend "${text}" ${why}: write host:port (10.1.0.7:8125, statsd.local:8125) or [ipv6]:port`);
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return new Error(`backend "${text}" has port ${m[2]}, outside 1-65535: fix the port`);
  return { host: m[1]!, port };
}

/** Every backend parses (start-up resolves the names; this needs no network). */
export function checkUdpOptions(options: { readonly backends: readonly string[] }): ConfigProblem[] {
  return options.backends.flatMap((b, i) => {
    const hp = parseHostPort(b);
    return hp instanceof Error ? [{ path: `/backends/${i}`, message: hp.message }] : [];
  });
}
