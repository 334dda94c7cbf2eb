/** Manifest of the `sns-http` packet source: type, options schema, lazy loader. */
import { definePacketSourceKind } from '../../gateway/plugin-kit.js';
import { SnsHttpOptionsSchema } from './options.js';

export const snsHttpSourceKind = definePacketSourceKind({
  type: 'sns-http',
  options: SnsHttpOptionsSchema,
  load: async () => (await import('./index.js')).createSnsHttpSource,
});
