/** Manifest of the `firehose` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { FirehoseOptions } from './options.js';

export const firehoseKind = defineDestinationKind({
  type: 'firehose',
  options: FirehoseOptions,
  load: async () => (await import('./index.js')).createFirehoseDestination,
});
