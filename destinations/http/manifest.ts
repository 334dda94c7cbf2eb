/** Manifest of the `http` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { HttpOptionsSchema, checkHttpOptions } from './options.js';

export const httpKind = defineDestinationKind({
  type: 'http',
  options: HttpOptionsSchema,
  // Request/response: send as soon as the event-loop turn's packets are queued (no linger).
  batchDefaults: { lingerMs: 0 },
  load: async () => (await import('./index.js')).createHttpDestination,
  check: checkHttpOptions,
});
