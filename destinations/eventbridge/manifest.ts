/** Manifest of the `eventbridge` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, isArn, regionOf } from '../../aws/iam.js';
import { EventBridgeOptions } from './options.js';

export const eventbridgeKind = defineDestinationKind({
  type: 'eventbridge',
  options: EventBridgeOptions,
  // EventBridge PutEvents: 10 entries, 256 KiB per call. A 20 ms linger fills them under load.
  batchDefaults: { maxPackets: 10, maxBytes: 262_144, lingerMs: 20 },
  iam: (o, c) => {
    const bus = o.eventBusName || 'default';
    return [{ actions: ['events:PutEvents'], resources: [isArn(bus) ? bus : arn(c, 'events', regionOf(o, c), `event-bus/${bus}`)] }];
  },
  load: async () => (await import('./index.js')).createEventBridgeDestination,
});
