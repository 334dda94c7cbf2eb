/** Options of the `static` router: a fixed pool, balanced. */
import { Type } from '@sinclair/typebox';
import { BackendListSchema, BalanceSchema, WeightsSchema } from '../../gateway/plugin-kit.js';

export const StaticRouterOptions = Type.Object({
  backends: Type.Optional(BackendListSchema),
  balance: Type.Optional(BalanceSchema),
  weights: Type.Optional(WeightsSchema),
}, { additionalProperties: false });
