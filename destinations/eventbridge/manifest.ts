/** Manifest of the `eventbridge` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { EventBridgeOptions } from './options.js';

export const eventbridgeKind = defineDestinationKind({
  type: 'eventbridge',
  options: EventBridgeOptions,
  load: async () => (await import('./index.js')).createEventBridgeDestination,
});
