/**
 * Assembles the pipeline from a resolved config: tag codec, egress, destinations (each wrapped in a
 * runner: queue, batcher, in-flight limit, retry, dead-letter), listeners, packet sources.
 * I/O is passed in (transport, logger), so tests run it on real sockets or in memory.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import './builtin-kinds.js';
import { destinationKinds, listenerProtocolKinds, packetSourceKinds } from '../gateway/extension/registry.js';
import { createFromKind } from '../gateway/extension/destination.js';
import type { PacketSource } from '../gateway/extension/packet-source.js';
import type { ResolvedConfig, ResolvedListener } from './config/load.js';
import type { RecentClients } from '../gateway/recent-clients.js';
import type { DestinationConfig } from '../gateway/config/schema.js';
import type { Destination } from '../gateway/extension/destination.js';
import type { Endpoint } from '../gateway/packet.js';
import type { TransportFactory } from '../gateway/extension/transport.js';
import { createTagCodec, type TagCodec } from '../gateway/tag.js';
import { selectTagMac } from '../net/tag-mac.js';
import { Egress } from '../gateway/egress.js';
import { Metrics } from '../gateway/metrics.js';
import { Listener } from '../gateway/listener.js';
import { DestinationRunner } from '../gateway/fanout/runner.js';
import { withSampling, type FanoutLane } from '../gateway/fanout/sample.js';
import { createDeadLetter, type DeadLetter } from '../gateway/fanout/dead-letter.js';
import { DiskBuffer } from '../gateway/fanout/disk-buffer.js';
import { resolve as resolvePath } from 'node:path';
import { selectTransport, transportPreferenceFromEnv } from '../net/select.js';
import { createLogger } from '../gateway/logger.js';
import { GatewayError } from '../gateway/errors.js';
import type { OutOfBandEgress } from '../gateway/extension/packet-source.js';
import { endSessions, type SessionSelector } from '../gateway/routing/session-control.js';
import type { ClusterNode } from './cluster-bus/node.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  readonly transport?: TransportFactory;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  /** A cluster worker's slot: its disk buffers are <buffer.disk.path>/worker-<slot>, so workers never share one. */
  readonly workerSlot?: number;
}

export type GatewayState = 'starting' | 'ready' | 'draining' | 'stopped';

/** One destination of a listener, as built: what a reload keeps, or drains and closes. */
export interface DestinationParts {
  readonly config: DestinationConfig;
  readonly runner: DestinationRunner;
  /** What the listener hands packets to: the runner, or a sampling wrapper of it. */
  readonly lane: FanoutLane;
  /** The destination and its dead-letter target, closed after the runner drained. */
  readonly owned: readonly Destination[];
  readonly buffer?: DiskBuffer;
}

export class Gateway {
  state: GatewayState = 'starting';
  /** The running configuration (a reload replaces it with what it applied). */
  config: ResolvedConfig;
  readonly listeners = new Map<string, Listener>();
  /** Each listener's destinations, in fan-out order. */
  readonly lanes = new Map<string, DestinationParts[]>();
  readonly runners: DestinationRunner[] = [];
  readonly sources: { name: string; source: PacketSource }[] = [];
  readonly destinations: Destination[] = [];
  /** Disk buffers opened (closed by their runner's drain; here so a failed start releases them). */
  readonly buffers: DiskBuffer[] = [];
  /** Cluster mode (config `cluster`): flow ownership, forwarding and session control through Redis. */
  cluster: ClusterNode | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    config: ResolvedConfig,
    readonly logger: Logger,
    readonly metrics: Metrics,
    readonly codec: TagCodec,
    readonly egress: Egress,
    /** The transport and worker slot the listeners and disk buffers were made with (a reload makes more). */
    readonly build: { transport?: TransportFactory; workerSlot?: number; now?: () => number } = {},
  ) { this.config = config; }

  /** Bound address of a listener (port 0 resolved). */
  address(listener: string = this.config.listeners[0]!.name): Endpoint {
    const l = this.listeners.get(listener);
    if (!l) throw new Error(`no listener named ${listener}`);
    return l.local;
  }

  get ready(): boolean { return this.state === 'ready'; }

  status(): Record<string, unknown> {
    return {
      state: this.state,
      listeners: [...this.listeners.values()].map((l) => l.status()),
      destinations: this.runners.map((r) => r.status()),
      packetSources: this.sources.map((s) => ({ name: s.name, ...(s.source.status?.() ?? {}) })),
      ...(this.cluster ? { cluster: this.cluster.egress.status() } : {}),
    };
  }

  /** What packet sources and the admin API send through: the cluster's egress in cluster mode. */
  get outOfBand(): OutOfBandEgress { return this.cluster?.egress ?? this.egress; }

  /** Ends the udp proxy sessions a selector names on this node (one destination: "name" or "listener/name"). */
  endSessions(sel: SessionSelector, destination?: string): number {
    return this.runners.filter((r) => r.destination.sessions && (destination === undefined || r.destination.name === destination || r.id === destination))
      .reduce((n, r) => n + endSessions(r.destination.sessions!, sel), 0);
  }

  /**
   * Graceful stop: stop reading, stop packet sources, flush every destination queue within the
   * deadline (Infinity waits for all in-flight work), then release everything. Idempotent.
   */
  shutdown(deadlineMs: number = this.config.shutdownDeadlineMs): Promise<void> {
    this.closing ??= this.doShutdown(deadlineMs);
    return this.closing;
  }

  private async doShutdown(deadlineMs: number): Promise<void> {
    this.state = 'draining';
    this.logger.info({ deadlineMs: deadlineMs === Infinity ? 'none' : deadlineMs }, 'draining');
    for (const l of this.listeners.values()) l.pause();
    await Promise.allSettled(this.sources.map((s) => s.source.close()));
    await this.cluster?.close().catch((err: Error) => this.logger.warn({ err: err.message }, 'cluster: close failed'));
    await Promise.allSettled(this.runners.map((r) => r.drain(deadlineMs)));
    await Promise.allSettled(this.buffers.map((b) => b.close())); // drained runners closed theirs; a failed start may not have
    await Promise.allSettled(this.destinations.map((d) => d.close?.()));
    await Promise.allSettled([...this.listeners.values()].map((l) => l.close()));
    this.state = 'stopped';
    this.logger.info('stopped');
  }

  close(): Promise<void> { return this.shutdown(); }
}

function tagSecret(config: ResolvedConfig, logger: Logger): Buffer {
  if (config.secret) return Buffer.from(config.secret, 'utf8');
  logger.warn('no tag secret configured (secret or UDPGW_SECRET): generated one for this process; replies by tag from other processes or after a restart will be refused');
  return randomBytes(32);
}

export async function createGateway(config: ResolvedConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const metrics = opts.metrics ?? new Metrics();
  const codec = createTagCodec({
    mac: selectTagMac(),
    secret: tagSecret(config, logger),
    previousSecrets: config.previousSecrets.map((s) => Buffer.from(s, 'utf8')),
    replyWindowMs: config.replyWindowSeconds * 1000,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const egress = new Egress({ codec, metrics, logger: logger.child({ component: 'egress' }), allow: config.egress.allow, policy: config.egress.policy, ...(opts.now ? { now: opts.now } : {}) });
  const gw = new Gateway(config, logger, metrics, codec, egress, { ...(opts.workerSlot !== undefined ? { workerSlot: opts.workerSlot } : {}), ...(opts.now ? { now: opts.now } : {}) });
  try {
    gw.build.transport = opts.transport ?? selectTransport(transportPreferenceFromEnv() ?? config.transport, logger);
    await start(gw);
  } catch (err) {
    await gw.shutdown(0);
    throw err;
  }
  gw.state = 'ready';
  return gw;
}

async function start(gw: Gateway): Promise<void> {
  const { config, logger, egress, metrics } = gw;
  if (config.cluster) {
    const { startClusterNode } = await import('./cluster-bus/node.js');
    gw.cluster = await startClusterNode(config, {
      egress, codec: gw.codec, metrics, logger, endSessions: (sel, destination) => gw.endSessions(sel, destination),
      ...(gw.build.workerSlot !== undefined ? { workerSlot: gw.build.workerSlot } : {}),
    });
  }
  for (const lc of config.listeners) {
    const listener = createListener(gw, lc);
    if (lc.protocol) await useProtocol(gw, listener, lc.protocol, listener.logger);
    const parts: DestinationParts[] = [];
    gw.lanes.set(lc.name, parts);
    for (const dc of lc.destinations) parts.push(adoptDestination(gw, await buildDestination(gw, lc.name, dc)));
    gw.listeners.set(lc.name, listener);
    await listener.start(parts.map((p) => p.lane));
    egress.attach(listener);
    listener.logger.info({ address: listener.local, transport: listener.transportKind, destinations: parts.map((p) => p.config.name) }, 'listening');
  }
  for (const pc of config.packetSources) {
    const kind = packetSourceKinds.get(pc.type)!;
    const listener = pc.listener ?? config.listeners[0]!.name;
    const source = (await kind.load())(pc.name, pc.options, { logger: logger.child({ packetSource: pc.name }), egress: gw.outOfBand, listener, baseDir: config.baseDir, metrics });
    gw.sources.push({ name: pc.name, source });
    await source.start();
  }
}

/** A listener from its config (not bound yet); `recentClients` carries a reloaded listener's memory over. */
export function createListener(gw: Gateway, lc: ResolvedListener, recentClients?: RecentClients): Listener {
  const { config, metrics } = gw;
  const listener = new Listener(lc, {
    codec: gw.codec, metrics, logger: gw.logger.child({ listener: lc.name }), transport: gw.build.transport!, formatter: config.formatter ?? 'base64',
    recentClientMs: config.egress.recentClientSeconds * 1000, maxRecentClients: config.egress.maxRecentClients,
    recentClientPorts: config.egress.policy === 'address-port',
    ...(gw.build.now ? { now: gw.build.now } : {}),
    ...(recentClients ? { recentClients } : {}),
  });
  // Cluster mode: the flow directory hears of every plain client datagram (a Map write, flushed in batches).
  if (gw.cluster && !lc.protocol && config.egress.recentClientSeconds > 0) listener.onClient = gw.cluster.directory.seenOn(lc.name);
  return listener;
}

/** A listener protocol (WireGuard) from its kind's manifest; its counters read into /metrics at scrape. */
export async function useProtocol(gw: Gateway, listener: Listener, pc: { type: string; options: Record<string, unknown> }, logger: Logger): Promise<void> {
  const kind = listenerProtocolKinds.get(pc.type)!;
  const protocol = await (await kind.load())(pc.options, {
    listener: listener.name, logger: logger.child({ protocol: pc.type }), baseDir: gw.config.baseDir,
    sendOuter: (datagrams) => listener.sendOuter(datagrams),
  });
  listener.useProtocol(protocol);
  listener.onClose(gw.metrics.readProtocolCounters(pc.type, listener.name, () => protocol.counters()));
}

/**
 * One destination of a listener: the destination, its dead-letter target, disk buffer, runner and
 * lane, registered nowhere yet (adoptDestination does), so that a reload can build every new one
 * before it touches anything running. What it made is closed again when a part fails.
 */
export async function buildDestination(gw: Gateway, listener: string, dc: DestinationConfig): Promise<DestinationParts> {
  const dlog = gw.logger.child({ listener, destination: dc.name });
  const owned: Destination[] = [];
  let buffer: DiskBuffer | undefined;
  try {
    const destination = await createDestination(gw, listener, dc, dlog);
    owned.push(destination);
    let deadLetter: DeadLetter | undefined;
    if (dc.deadLetter) {
      const target = await createDestination(gw, listener, { ...dc.deadLetter, name: `${dc.name}.dead-letter` }, dlog.child({ deadLetter: dc.deadLetter.type }));
      owned.push(target);
      deadLetter = createDeadLetter(target, `${listener}/${dc.name}`, dc.deadLetter.retry);
    }
    const disk = dc.buffer?.disk;
    const slot = gw.build.workerSlot;
    if (disk) buffer = DiskBuffer.open({ ...disk, path: resolvePath(gw.config.baseDir, disk.path, slot === undefined ? '.' : `worker-${slot}`) });
    const runner = new DestinationRunner(listener, destination, dc, {
      metrics: gw.metrics, logger: dlog, ...(buffer ? { buffer } : {}),
      onReplies: (replies) => gw.egress.replies(replies),
      ...(deadLetter ? { deadLetter } : {}),
    });
    const lane = dc.sample ? withSampling(runner, dc.sample.every, gw.metrics.drops.hot({ where: runner.id, reason: 'sampled-out' })) : runner;
    return { config: dc, runner, lane, owned, ...(buffer ? { buffer } : {}) };
  } catch (err) {
    await buffer?.close().catch(() => undefined);
    await Promise.allSettled(owned.map((d) => d.close?.()));
    throw err;
  }
}

/** Registers built parts with the gateway: drained and closed at shutdown. */
export function adoptDestination(gw: Gateway, parts: DestinationParts): DestinationParts {
  gw.runners.push(parts.runner);
  gw.destinations.push(...parts.owned);
  if (parts.buffer) gw.buffers.push(parts.buffer);
  return parts;
}

/** A destination through its kind's manifest. */
async function createDestination(gw: Gateway, listener: string, dc: DestinationConfig, logger: Logger): Promise<Destination> {
  const kind = destinationKinds.get(dc.type)!;
  try {
    const where = `${listener}/${dc.name}`;
    const countDrop = (reason: string, n = 1): void => gw.metrics.drops.inc({ where, reason }, n);
    const countEvent = (event: string, n = 1): void => gw.metrics.events.inc({ destination: where, event }, n);
    return await createFromKind(kind, dc.name, dc.options, { logger, clients: gw.egress, baseDir: gw.config.baseDir, countDrop, countEvent });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${dc.name}" (${dc.type}) on listener "${listener}": ${(err as Error).message}`, { cause: err });
  }
}
