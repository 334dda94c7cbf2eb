/** Manifest of the `cloudwatch-logs` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, regionOf, required } from '../../aws/iam.js';
import { CloudWatchLogsOptions } from './options.js';

export const cloudwatchLogsKind = defineDestinationKind({
  type: 'cloudwatch-logs',
  options: CloudWatchLogsOptions,
  // CloudWatch Logs PutLogEvents: 10,000 events, 1 MiB per call. Log events are read seconds later:
  // a 1 s linger fills batches from 10,000 packets/s.
  batchDefaults: { maxPackets: 10_000, maxBytes: 1_048_576, lingerMs: 1_000 },
  iam: (o, c) => {
    const group = arn(c, 'logs', regionOf(o, c), `log-group:${required(o, 'logGroupName', 'cloudwatch-logs')}`);
    const out = [{ actions: ['logs:PutLogEvents'], resources: [`${group}:log-stream:${required(o, 'logStreamName', 'cloudwatch-logs')}`] }];
    // CreateLogStream is authorised on the log group's streams: "log-group:<name>:*".
    if (o.createIfMissing === true) out.push({ actions: ['logs:CreateLogStream'], resources: [`${group}:*`] });
    return out;
  },
  load: async () => (await import('./index.js')).createCloudWatchLogsDestination,
});
