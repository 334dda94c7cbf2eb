/** TypeBox pieces the routers share (through the plugin kit): a balance, weights, a pool. */
import { Type } from '@sinclair/typebox';

export const BalanceSchema = Type.Union(
  [Type.Literal('hash'), Type.Literal('consistent-hash'), Type.Literal('round-robin'), Type.Literal('least-sessions')],
  { description: 'hash (client address), consistent-hash, round-robin (weighted), least-sessions' },
);

export const BackendListSchema = Type.Array(Type.String({ minLength: 3, description: 'host:port or [ipv6]:port' }), { minItems: 1 });

/** Relative weights by backend, as listed ("10.0.0.5:19132": 3); absent backends weigh 1. */
export const WeightsSchema = Type.Record(Type.String(), Type.Integer({ minimum: 1, maximum: 100 }));

export const PoolSchema = Type.Object({
  backends: BackendListSchema,
  balance: Type.Optional(BalanceSchema),
  weights: Type.Optional(WeightsSchema),
}, { additionalProperties: false });
