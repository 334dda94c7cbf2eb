/** Manifest of the `redis` router (ioredis is imported only when one is created). */
import { defineRouterKind } from '../../gateway/plugin-kit.js';
import { RedisRouterOptions } from './options.js';

export const redisRouterKind = defineRouterKind({
  type: 'redis',
  options: RedisRouterOptions,
  load: async () => (await import('./index.js')).createRedisRouter,
});
