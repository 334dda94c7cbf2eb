/** Manifest of the `cloudwatch-logs` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { CloudWatchLogsOptions } from './options.js';

export const cloudwatchLogsKind = defineDestinationKind({
  type: 'cloudwatch-logs',
  options: CloudWatchLogsOptions,
  load: async () => (await import('./index.js')).createCloudWatchLogsDestination,
});
