/** Manifest of the `cloudwatch-logs` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { CloudWatchLogsOptions } from './options.js';

export const cloudwatchLogsKind = defineDestinationKind({
  type: 'cloudwatch-logs',
  options: CloudWatchLogsOptions,
  // CloudWatch Logs PutLogEvents: 10,000 events, 1 MiB per call. Log events are read seconds later:
  // a 1 s linger fills batches from 10,000 packets/s.
  batchDefaults: { maxPackets: 10_000, maxBytes: 1_048_576, lingerMs: 1_000 },
  load: async () => (await import('./index.js')).createCloudWatchLogsDestination,
});
