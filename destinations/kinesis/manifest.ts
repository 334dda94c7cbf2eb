/** Manifest of the `kinesis` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { KinesisOptions } from './options.js';

export const kinesisKind = defineDestinationKind({
  type: 'kinesis',
  options: KinesisOptions,
  load: async () => (await import('./index.js')).createKinesisDestination,
});
