/** Options of the `redis` router: the backend for new clients from a Redis key, disconnects by pub/sub. */
import { Type } from '@sinclair/typebox';
import { BackendListSchema, BalanceSchema } from '../../gateway/plugin-kit.js';

export const RedisRouterOptions = Type.Object({
  url: Type.String({ default: 'redis://127.0.0.1:6379', description: 'redis://host:port or rediss://host:port (TLS)' }),
  password: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  db: Type.Integer({ minimum: 0, default: 0 }),
  tls: Type.Boolean({ default: false, description: 'TLS to Redis (also implied by a rediss:// url)' }),
  backendKey: Type.String({ minLength: 1, default: 'udp_gate:backend', description: 'key holding "host:port" for new clients, read once per new client' }),
  disconnectChannel: Type.String({ minLength: 1, default: 'udp_gate:disconnect', description: 'channel of "ip:port" (a client) or "port" (an upstream local port) messages that end a session' }),
  lookupTimeoutMs: Type.Integer({ minimum: 1, default: 500, description: 'a GET slower than this counts as Redis unavailable' }),
  reconnect: Type.Object({
    minDelayMs: Type.Integer({ minimum: 1, default: 100 }),
    maxDelayMs: Type.Integer({ minimum: 1, default: 5_000 }),
  }, { additionalProperties: false, default: {} }),
  unavailable: Type.Union([
    Type.Literal('drop'),
    Type.Object({ backends: BackendListSchema, balance: Type.Optional(BalanceSchema) }, { additionalProperties: false }),
  ], { default: 'drop', description: 'Redis unreachable or the key empty: "drop" (counted) or a fallback pool { backends }' }),
}, { additionalProperties: false });
