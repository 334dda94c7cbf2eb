/** Options of the `udp` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { Type } from '@sinclair/typebox';

export const UdpOptionsSchema = Type.Object({
  backends: Type.Array(Type.String({ minLength: 3, description: 'host:port or [ipv6]:port' }), { minItems: 1 }),
  balance: Type.Union([Type.Literal('hash'), Type.Literal('round-robin')], { default: 'hash' }),
  idleTimeoutMs: Type.Integer({ minimum: 1, default: 60_000 }),
  maxSessions: Type.Integer({ minimum: 1, default: 10_000 }),
  replies: Type.Boolean({ default: true, description: 'relay backend datagrams back to the client' }),
}, { additionalProperties: false });
