/** Manifest of the `rules` router. */
import { defineRouterKind } from '../../gateway/plugin-kit.js';
import { RulesRouterOptions } from './options.js';

export const rulesRouterKind = defineRouterKind({
  type: 'rules',
  options: RulesRouterOptions,
  load: async () => (await import('./index.js')).createRulesRouter,
});
