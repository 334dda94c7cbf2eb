/**
 * Prometheus metrics (prom-client), prefix udpgw_, counters end in _total, no client addresses in labels.
 * One Metrics object per gateway, with its own registry (so tests can run several gateways).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';

export interface CounterChild { inc(n?: number): void }

/**
 * A prom-client Counter with children for the hot path: `hot(labels).inc(n)` adds to a plain
 * number, and the sums reach prom-client when the counter is read (scrape, `get()`).
 * prom-client's own labelled `inc()` hashes the label object on every call (about 90 B of garbage
 * per call, two to four calls per received batch). One child per label set: a listener or
 * destination that a reload builds again under the same name gets the child its predecessor had,
 * so reloads do not grow the list read at every scrape.
 */
export class HotCounter<L extends string> extends Counter<L> {
  private readonly children = new Map<string, { labels: LabelValues<L>; n: number }>();

  constructor(name: string, help: string, labelNames: L[], registry: Registry, before?: () => void) {
    const flush = () => {
      before?.();
      for (const c of this.children.values()) if (c.n) { const n = c.n; c.n = 0; this.inc(c.labels, n); }
    };
    super({ name, help, labelNames, registers: [registry], collect: flush });
  }

  hot(labels: LabelValues<L>): CounterChild {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let child = this.children.get(key);
    if (!child) this.children.set(key, (child = { labels: { ...labels }, n: 0 }));
    const c = child;
    return { inc(n = 1) { c.n += n; } };
  }

  /** Label sets with a hot child (for tests: stays constant across reloads). */
  get hotChildren(): number { return this.children.size; }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly syncers = new Set<() => void>();
  private readonly sync = (): void => { for (const s of this.syncers) s(); };
  private readonly c = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new HotCounter<L>(`udpgw_${name}`, help, labelNames, this.registry, this.sync);

  /** Runs `fn` before any counter is read (scrape, `get()`): counts kept outside JS (flow offload)
   *  are added to the hot counters then. Returns its removal. */
  syncOnRead(fn: () => void): () => void {
    this.syncers.add(fn);
    return () => { this.syncers.delete(fn); };
  }

  readonly packetsIn = this.c('packets_received_total', 'Datagrams received, per listener.', ['listener']);
  readonly bytesIn = this.c('bytes_received_total', 'Payload bytes received, per listener.', ['listener']);
  readonly packetsOut = this.c('packets_sent_total', 'Datagrams sent to clients, per listener and path (reply, proxy, out_of_band, async_reply).', ['listener', 'path']);
  readonly bytesOut = this.c('bytes_sent_total', 'Payload bytes sent to clients, per listener and path (reply, proxy, out_of_band, async_reply).', ['listener', 'path']);
  /** Drops, by where (a listener or destination name) and reason. Never thrown, always counted here. */
  readonly drops = this.c('drops_total', 'Packets dropped, by where (listener or destination) and reason.', ['where', 'reason']);
  readonly egressRefused = this.c('egress_refused_total', 'Sends toward clients refused, by path and reason (tag forged/expired/malformed, address policy, …).', ['path', 'reason']);

  private readonly protocolReaders: { type: string; listener: string; read: () => Record<string, number> }[] = [];
  private readonly protocolMetrics = new Set<string>();

  /**
   * A listener protocol's counters and gauges (plain numbers, `name` or `name{reason="…"}`; names
   * ending in _total are counters, others gauges), exposed as udpgw_<type>_<name>{listener, reason?}
   * and read at scrape time, never per packet.
   */
  readProtocolCounters(type: string, listener: string, read: () => Record<string, number>): () => void {
    const reader = { type, listener, read };
    this.protocolReaders.push(reader);
    for (const key of [...Object.keys(read()), 'drops_total']) this.protocolMetric(type, key.replace(/\{.*$/, ''));
    return () => { const i = this.protocolReaders.indexOf(reader); if (i >= 0) this.protocolReaders.splice(i, 1); };
  }

  private protocolMetric(type: string, name: string): void {
    const full = `udpgw_${type}_${name}`;
    if (this.protocolMetrics.has(full)) return;
    this.protocolMetrics.add(full);
    const readers = this.protocolReaders;
    /** Every reader's values of this name, with their labels. */
    const values = function* (): Generator<[Record<string, string>, number]> {
      for (const r of readers) {
        if (r.type !== type) continue;
        for (const [key, v] of Object.entries(r.read())) {
          const m = /^([a-z_]+)(?:\{reason="([^"]*)"\})?$/.exec(key);
          if (m?.[1] === name) yield [m[2] !== undefined ? { listener: r.listener, reason: m[2] } : { listener: r.listener }, v];
        }
      }
    };
    const help = `${type} listener protocol: ${name.replace(/_total$/, '').replace(/_/g, ' ')}.`;
    if (name.endsWith('_total')) {
      new Counter({
        name: full, help, labelNames: ['listener', 'reason'], registers: [this.registry],
        collect() { this.reset(); for (const [labels, v] of values()) if (v !== 0) this.inc(labels, v); },
      });
    } else {
      new Gauge({
        name: full, help, labelNames: ['listener', 'reason'], registers: [this.registry],
        collect() { this.reset(); for (const [labels, v] of values()) this.set(labels, v); },
      });
    }
  }

  private gaugeReaders: { read: () => void; owner: object | undefined }[] = [];
  /** Gauges read at scrape time (queue depth, in-flight), so the hot path never updates them. */
  readOnScrape(read: () => void, owner?: object): void { this.gaugeReaders.push({ read, owner }); }
  /** A destination a reload retired: its readers stop, and its gauges leave /metrics. */
  forget(owner: object, destination?: string): void {
    this.gaugeReaders = this.gaugeReaders.filter((r) => r.owner !== owner);
    if (destination !== undefined) for (const g of [this.queued, this.inFlight, this.bufferBytes, this.sessions]) g.remove({ destination });
  }
  private readonly readGauges = (): void => { for (const r of this.gaugeReaders) r.read(); };

  readonly queued = new Gauge({ name: 'udpgw_destination_queued', help: 'Packets waiting in a destination queue.', labelNames: ['destination'], registers: [this.registry], collect: () => this.readGauges() });
  /** Read on scrape with `queued` (its collect reads every gauge). */
  readonly sessions = new Gauge({ name: 'udpgw_destination_sessions', help: 'Client sessions a destination holds open now (udp proxy).', labelNames: ['destination'], registers: [this.registry] });
  readonly inFlight = new Gauge({ name: 'udpgw_destination_in_flight', help: 'Batches being sent by a destination.', labelNames: ['destination'], registers: [this.registry] });
  readonly batches = this.c('destination_batches_total', 'Batches handed to a destination (attempts included).', ['destination']);
  readonly delivered = this.c('destination_delivered_total', 'Packets a destination delivered.', ['destination']);
  readonly failed = this.c('destination_failed_total', 'Packets a destination finally failed to deliver (after retries).', ['destination']);
  readonly retried = this.c('destination_retried_total', 'Packets resubmitted after a retryable failure.', ['destination']);
  readonly deadLettered = this.c('destination_dead_lettered_total', 'Packets written to a dead-letter after final failure.', ['destination']);
  readonly buffered = this.c('destination_buffered_total', 'Packets written to a destination\'s disk buffer (spilled during an outage or a full queue).', ['destination']);
  readonly bufferBytes = new Gauge({ name: 'udpgw_destination_buffer_bytes', help: 'Bytes in a destination\'s disk buffer.', labelNames: ['destination'], registers: [this.registry] });
  /** What a destination reports beside outcomes (udp sessions: connect-refused, connect-timeout, inactive, failover, ended-by-control). */
  readonly events = this.c('destination_events_total', 'Events a destination reports (udp sessions: connect-refused, connect-timeout, inactive, failover, …).', ['destination', 'event']);
  readonly replies = this.c('destination_replies_total', 'Replies a destination returned toward clients.', ['destination']);
  /** From receive to delivered; observed per packet, so not a prom-client Histogram (see fast-histogram.ts). */
  readonly latency = new FastHistogram('udpgw_destination_delivery_seconds', 'From receive to delivered, per destination.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], this.registry);

  /** Config reloads (SIGHUP, POST /v1/reload) by result: applied, invalid (the new config has problems), failed (valid, could not be applied). */
  readonly configReloads = new Counter({ name: 'udpgw_config_reloads_total', help: 'Config reloads (SIGHUP, POST /v1/reload), by result: applied, invalid, failed.', labelNames: ['result'], registers: [this.registry] });
  readonly configLoadedAt = new Gauge({ name: 'udpgw_config_last_reload_success_timestamp_seconds', help: 'When the running config was put in effect (start, or the last applied reload), Unix seconds.', registers: [this.registry] });
  readonly configInfo = new Gauge({ name: 'udpgw_config_info', help: 'The running config, by hash (12 hex digits of the sha256 of its canonical JSON); value 1.', labelNames: ['hash'], registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'udpgw_' });
  }
}
