/** Manifest of the `file` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { FileOptionsSchema } from './options.js';

export const fileKind = defineDestinationKind({
  type: 'file',
  options: FileOptionsSchema,
  load: async () => (await import('./index.js')).createFileDestination,
});
