/**
 * GET /v1/stats: what the status page shows, as JSON. Every number is read from the gateway's
 * Prometheus registry in the same scrape (getMetricsAsJSON runs the same collectors as /metrics), so
 * the page and /metrics agree by construction; only names, addresses and capacities come from the
 * listeners and runners. Nothing here is a secret: no tag secret, no token, no client address, no
 * destination options (URLs, ARNs and credentials stay in the config).
 */
import type { Gateway } from '../gateway.js';

type Labels = Record<string, string | number>;
interface Sample { labels: Labels; value: number; metricName?: string }

export interface ListenerStats {
  name: string; address: string; port: number; transport: string; protocol: string;
  recentClients: number; packetsIn: number; bytesIn: number; packetsOut: number; bytesOut: number; drops: number;
}

export interface LatencyStats {
  /** Finite bucket upper bounds in seconds (the +Inf bucket is `count`). */
  le: number[];
  /** Cumulative counts per bucket, as Prometheus keeps them. */
  counts: number[];
  sum: number;
  count: number;
}

export interface DestinationStats {
  id: string; listener: string; name: string; kind: string;
  queued: number; queueCapacity: number; inFlight: number;
  delivered: number; failed: number; retried: number; deadLettered: number; replies: number; buffered: number;
  /** Datagrams sent back toward clients for it: its replies by tag, or for a destination with sessions (the udp
   *  proxy) the listener's proxy sends (udpgw_packets_sent_total{path="proxy"}, which has no destination label). */
  toClients: number;
  drops: number; sessions: number | null; latency: LatencyStats;
}

export interface Stats {
  /** Server time of the scrape (ms since the epoch): the page computes rates from these. */
  at: number;
  /** The process that answered: under `--workers` each connection reaches one worker, so the page starts afresh when it changes. */
  pid: number;
  state: string;
  listeners: ListenerStats[];
  destinations: DestinationStats[];
  drops: { where: string; reason: string; count: number }[];
  egressRefused: { path: string; reason: string; count: number }[];
  packetSources: { name: string; messages: Record<string, number>; packets: Record<string, number> }[];
}

/** Samples of one metric family (histograms: every _bucket, _sum and _count sample). */
class Scrape {
  constructor(private readonly families: Map<string, Sample[]>) {}

  samples(name: string): Sample[] { return this.families.get(name) ?? []; }

  /** Sum of a family's samples whose labels include `match`. */
  sum(name: string, match: Labels = {}): number {
    let n = 0;
    for (const s of this.samples(name)) if (matches(s.labels, match)) n += s.value;
    return n;
  }
}

const matches = (labels: Labels, match: Labels): boolean => Object.entries(match).every(([k, v]) => labels[k] === v);

async function scrape(gw: Gateway): Promise<Scrape> {
  const families = new Map<string, Sample[]>();
  for (const m of await gw.metrics.registry.getMetricsAsJSON()) families.set(m.name, m.values as Sample[]);
  return new Scrape(families);
}

function listenerStats(gw: Gateway, s: Scrape): ListenerStats[] {
  return [...gw.listeners.values()].map((l) => {
    const status = l.status();
    const local = l.local;
    const where = { listener: l.name };
    return {
      name: l.name, address: local.address, port: local.port, transport: l.transportKind ?? 'unbound',
      protocol: typeof status.protocol === 'string' ? status.protocol : 'udp',
      recentClients: typeof status.recentClients === 'number' ? status.recentClients : 0,
      packetsIn: s.sum('udpgw_packets_received_total', where), bytesIn: s.sum('udpgw_bytes_received_total', where),
      packetsOut: s.sum('udpgw_packets_sent_total', where), bytesOut: s.sum('udpgw_bytes_sent_total', where),
      drops: s.sum('udpgw_drops_total', { where: l.name }),
    };
  });
}

function latencyStats(s: Scrape, destination: string): LatencyStats {
  const le: number[] = [], counts: number[] = [];
  for (const b of s.samples('udpgw_destination_delivery_seconds')) {
    if (b.metricName !== 'udpgw_destination_delivery_seconds_bucket' || b.labels.destination !== destination || b.labels.le === '+Inf') continue;
    le.push(Number(b.labels.le));
    counts.push(b.value);
  }
  const d = { destination };
  const pick = (suffix: string) => s.samples('udpgw_destination_delivery_seconds').find((x) => x.metricName === `udpgw_destination_delivery_seconds${suffix}` && matches(x.labels, d))?.value ?? 0;
  return { le, counts, sum: pick('_sum'), count: pick('_count') };
}

function destinationStats(gw: Gateway, s: Scrape): DestinationStats[] {
  return gw.runners.map((r) => {
    const id = r.id, d = { destination: id };
    return {
      id, listener: r.listener, name: r.destination.name, kind: r.destination.kind,
      queued: s.sum('udpgw_destination_queued', d), queueCapacity: r.queueCapacity, inFlight: s.sum('udpgw_destination_in_flight', d),
      delivered: s.sum('udpgw_destination_delivered_total', d), failed: s.sum('udpgw_destination_failed_total', d),
      retried: s.sum('udpgw_destination_retried_total', d), deadLettered: s.sum('udpgw_destination_dead_lettered_total', d),
      replies: s.sum('udpgw_destination_replies_total', d), buffered: s.sum('udpgw_destination_buffered_total', d),
      toClients: r.destination.sessions ? s.sum('udpgw_packets_sent_total', { listener: r.listener, path: 'proxy' }) : s.sum('udpgw_destination_replies_total', d),
      drops: s.sum('udpgw_drops_total', { where: id }),
      sessions: r.destination.sessions ? s.sum('udpgw_destination_sessions', d) : null,
      latency: latencyStats(s, id),
    };
  });
}

/** Drops by where and reason: the core's udpgw_drops_total, then each listener protocol's (reason "<protocol>: <reason>"). */
function drops(s: Scrape, protocols: string[]): Stats['drops'] {
  const out = s.samples('udpgw_drops_total').map((x) => ({ where: String(x.labels.where), reason: String(x.labels.reason), count: x.value }));
  for (const p of protocols) {
    for (const x of s.samples(`udpgw_${p}_drops_total`)) out.push({ where: String(x.labels.listener), reason: `${p}: ${String(x.labels.reason ?? 'other')}`, count: x.value });
  }
  return out.filter((x) => x.count > 0);
}

function packetSources(gw: Gateway, s: Scrape): Stats['packetSources'] {
  const names = new Set(gw.sources.map((x) => x.name));
  for (const x of [...s.samples('udpgw_packet_source_messages_total'), ...s.samples('udpgw_packet_source_packets_total')]) names.add(String(x.labels.source));
  const by = (family: string, source: string, label: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const x of s.samples(family)) if (x.labels.source === source) out[String(x.labels[label])] = (out[String(x.labels[label])] ?? 0) + x.value;
    return out;
  };
  return [...names].map((name) => ({
    name, messages: by('udpgw_packet_source_messages_total', name, 'outcome'), packets: by('udpgw_packet_source_packets_total', name, 'result'),
  }));
}

export async function readStats(gw: Gateway): Promise<Stats> {
  const s = await scrape(gw);
  const listeners = listenerStats(gw, s);
  const protocols = [...new Set(listeners.map((l) => l.protocol).filter((p) => p !== 'udp'))];
  return {
    at: Date.now(),
    pid: process.pid,
    state: gw.state,
    listeners,
    destinations: destinationStats(gw, s),
    drops: drops(s, protocols),
    egressRefused: s.samples('udpgw_egress_refused_total').filter((x) => x.value > 0)
      .map((x) => ({ path: String(x.labels.path), reason: String(x.labels.reason), count: x.value })),
    packetSources: packetSources(gw, s),
  };
}
