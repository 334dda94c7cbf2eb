/** Manifest of the `firehose` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { FirehoseOptions } from './options.js';

export const firehoseKind = defineDestinationKind({
  type: 'firehose',
  options: FirehoseOptions,
  // Firehose PutRecordBatch: 500 records, 4 MiB per call. Firehose buffers for 60 s or more before it
  // delivers, so a 500 ms linger costs nothing that shows and fills batches from 1,000 packets/s.
  batchDefaults: { maxPackets: 500, maxBytes: 4_194_304, lingerMs: 500 },
  load: async () => (await import('./index.js')).createFirehoseDestination,
});
