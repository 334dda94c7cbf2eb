/** Manifest of the `sns` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { SnsOptions } from './options.js';

export const snsKind = defineDestinationKind({
  type: 'sns',
  options: SnsOptions,
  load: async () => (await import('./index.js')).createSnsDestination,
});
