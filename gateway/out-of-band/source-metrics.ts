/**
 * Packet source counters (prom-client, prefix udpgw_, no client addresses in labels), registered in the
 * gateway's registry when the context hands one, else in a private registry. One set per registry, so
 * several sources share the same counters and tell themselves apart by the `source` label.
 */
import { Counter, Registry } from 'prom-client';
import type { Metrics } from '../metrics.js';

export interface SourceMetrics {
  readonly registry: Registry;
  /** Messages (SNS deliveries, SQS messages) by source and outcome. */
  readonly messages: Counter<'source' | 'outcome'>;
  /** Packets and replies a source handed to the egress, by source and result (sent, or the refusal reason). */
  readonly packets: Counter<'source' | 'result'>;
}

const perRegistry = new WeakMap<Registry, SourceMetrics>();

export function sourceMetrics(metrics?: Metrics): SourceMetrics {
  const registry = metrics?.registry ?? new Registry();
  let m = perRegistry.get(registry);
  if (m) return m;
  m = {
    registry,
    messages: new Counter({
      name: 'udpgw_packet_source_messages_total',
      help: 'Out-of-band messages received by a packet source, by outcome (delivered, duplicate, malformed, bad-signature, …).',
      labelNames: ['source', 'outcome'], registers: [registry],
    }),
    packets: new Counter({
      name: 'udpgw_packet_source_packets_total',
      help: 'Packets and replies a packet source handed to the egress, by result (sent or the refusal reason).',
      labelNames: ['source', 'result'], registers: [registry],
    }),
  };
  perRegistry.set(registry, m);
  return m;
}

/** Current value of a counter for exact labels (0 when never incremented). For status and tests. */
export async function counterValue(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}
