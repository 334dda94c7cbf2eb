/** Manifest of the `module` router. */
import { defineRouterKind } from '../../gateway/plugin-kit.js';
import { ModuleRouterOptions } from './options.js';

export const moduleRouterKind = defineRouterKind({
  type: 'module',
  options: ModuleRouterOptions,
  load: async () => (await import('./index.js')).createModuleRouter,
});
