/** Options of the `rules` router: named pools, and rules over the first datagram, the client and the listener. */
import { Type } from '@sinclair/typebox';
import { EXPRESSION_FORMAT, EXPRESSION_HELP, PoolSchema } from '../../gateway/plugin-kit.js';

const OneOrMany = Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]);

export const RuleSchema = Type.Object({
  pool: Type.String({ minLength: 1, description: 'the pool a matching session goes to' }),
  expression: Type.Optional(Type.String({ format: EXPRESSION_FORMAT, description: EXPRESSION_HELP })),
  equals: Type.Optional(OneOrMany),
  matches: Type.Optional(Type.String({ minLength: 1, description: 'regular expression the expression\'s value must match' })),
  prefix: Type.Optional(Type.String({ pattern: '^([0-9a-fA-F]{2})+$', description: 'hex bytes the first datagram starts with' })),
  prefixText: Type.Optional(Type.String({ minLength: 1, description: 'text (UTF-8) the first datagram starts with' })),
  regex: Type.Optional(Type.String({ minLength: 1, description: 'regular expression over the first datagram, read as latin1 (one character a byte)' })),
  network: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'client networks (CIDR)' })),
  listener: Type.Optional(OneOrMany),
}, { additionalProperties: false });

export const RulesRouterOptions = Type.Object({
  pools: Type.Record(Type.String({ minLength: 1 }), PoolSchema),
  rules: Type.Array(RuleSchema, { default: [] }),
  default: Type.Optional(Type.String({ minLength: 1, description: 'pool when no rule matches; absent: the session is dropped (counted, no-rule-matched)' })),
}, { additionalProperties: false });
