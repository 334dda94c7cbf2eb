/** Manifest of the `udp` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { checkUdpOptions, refineUdpOptions, UdpOptionsSchema } from './options.js';

export const udpKind = defineDestinationKind({
  type: 'udp',
  options: UdpOptionsSchema,
  refine: refineUdpOptions,
  // Request/response: send as soon as the event-loop turn's packets are queued (no linger). A batch
  // is split per session and each part leaves with one sendmmsg, which takes at most UIO_MAXIOV =
  // 1024 messages: one batch per receive batch, less CPU per packet than the core default of 100
  // (docs/performance.md).
  batchDefaults: { lingerMs: 0, maxPackets: 1024 },
  load: async () => (await import('./index.js')).createUdpDestination,
  check: checkUdpOptions,
});
