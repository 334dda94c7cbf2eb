/** Manifest of the `static` router (the udp destination's default). */
import { defineRouterKind } from '../../gateway/plugin-kit.js';
import { StaticRouterOptions } from './options.js';

export const staticRouterKind = defineRouterKind({
  type: 'static',
  options: StaticRouterOptions,
  load: async () => (await import('./index.js')).createStaticRouter,
});
