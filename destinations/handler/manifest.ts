/** Manifest of the `handler` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { HandlerOptionsSchema, checkHandlerOptions } from './options.js';

export const handlerKind = defineDestinationKind({
  type: 'handler',
  options: HandlerOptionsSchema,
  // Request/response: send as soon as the event-loop turn's packets are queued (no linger).
  batchDefaults: { lingerMs: 0 },
  load: async () => (await import('./index.js')).createHandlerDestination,
  check: checkHandlerOptions,
});
