/**
 * A listener owns one UDP socket (through a transport), runs the stages over each received batch
 * (allow/deny, tagging) and hands every packet to each of its destination runners. Never awaits.
 */
import type { Logger } from 'pino';
import { isIPv6 } from 'node:net';
import type { Datagram, Endpoint, Formatter, InnerAddresses, Packet } from './packet.js';
import type { TagCodec } from './tag.js';
import type { Metrics } from './metrics.js';
import type { OffloadTotals, OffloadedFlow, TransportFactory, UdpTransport } from './extension/transport.js';
import type { ListenerProtocol, ProtocolDatagram } from './extension/listener-protocol.js';
import type { EgressPort } from './egress.js';
import type { FanoutLane } from './fanout/sample.js';
import type { ResolvedListener } from './config/resolved.js';
import { RecentClients, clientKey } from './recent-clients.js';
import { ClientRateLimiter } from './client-rate-limit.js';
import { createCidrMatcher } from './cidr.js';
import { GatewayError } from './errors.js';
import { dataFormatter } from './extension/data-formatter.js';

export interface ListenerDeps {
  readonly codec: TagCodec;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly transport: TransportFactory;
  readonly formatter: Formatter;
  readonly recentClientMs: number;
  readonly maxRecentClients: number;
  /** Remember each client's port too (egress policy address-port). */
  readonly recentClientPorts?: boolean;
  readonly now?: () => number;
  /** The clients a listener this one replaces (a reload) had seen, so the egress policy keeps them. */
  readonly recentClients?: RecentClients;
}

/** Stage: a pure check over the client address; returns a drop reason or undefined. */
export type AddressStage = (address: string) => string | undefined;

export function createAddressStage(allow: readonly string[] | undefined, deny: readonly string[] | undefined): AddressStage {
  const denied = createCidrMatcher(deny ?? []);
  const allowed = allow && allow.length ? createCidrMatcher(allow) : undefined;
  return (address) => (denied(address) ? 'denied' : allowed && !allowed(address) ? 'not-allowed' : undefined);
}

/**
 * A received packet whose tag is computed on first read: an HMAC costs about 2-3 µs in Node's
 * crypto, as much as the rest of the udp proxy path, and a plain proxy never reads the tag.
 * The tag still carries the receive time, so its reply window starts when the packet arrived.
 */
class ReceivedPacket implements Packet {
  private cachedTag: string | undefined;
  constructor(
    private readonly codec: TagCodec,
    readonly listener: string,
    readonly remote: Endpoint,
    readonly local: Endpoint,
    readonly receivedAt: number,
    readonly data: Buffer,
    readonly formatter: Formatter,
  ) {}

  get tag(): string {
    return (this.cachedTag ??= this.codec.encode(this.listener, this.remote, this.receivedAt));
  }
}

/** A packet a listener protocol decapsulated: `remote` is the inner source (what the tag carries). */
class TunnelledPacket extends ReceivedPacket {
  readonly peerKey: string;
  readonly outer: Endpoint;
  readonly inner: InnerAddresses;
  constructor(codec: TagCodec, listener: string, d: ProtocolDatagram, local: Endpoint, receivedAt: number, formatter: Formatter) {
    super(codec, listener, { address: d.address, port: d.port }, local, receivedAt, d.data, formatter);
    this.peerKey = d.peerKey; this.outer = d.outer; this.inner = d.inner;
  }
}

export class Listener implements EgressPort {
  readonly name: string;
  readonly formatter: Formatter;
  readonly family: 4 | 6;
  readonly recentClients: RecentClients;
  private transport: UdpTransport | undefined;
  private protocol: ListenerProtocol | undefined;
  private runners: readonly FanoutLane[] = [];
  private readonly stage: AddressStage;
  /** A message formatter's check (coap): a datagram that is not such a message is a counted drop. */
  private readonly formatCheck: ((data: Buffer) => string | undefined) | undefined;
  private readonly limiter: ClientRateLimiter | undefined;
  private readonly clientPorts: boolean;
  private readonly now: () => number;
  private readonly m;
  private readonly closers: (() => void)[] = [];
  /** Cluster mode: told of every plain (not tunnelled) client datagram; a Map lookup (gateway/cluster/flow-directory.ts). */
  onClient: ((address: string, port: number, at: number) => void) | undefined;
  /** Flows this listener let a destination offload (by client key), read for the recent clients. */
  private readonly offloaded = new Map<OffloadedFlow, string>();
  private offloadTimer: NodeJS.Timeout | undefined;
  /** The transport's offload totals already added to the counters, and the removal of that sync. */
  private offloadCounted: OffloadTotals | undefined;
  private stopOffloadSync: (() => void) | undefined;

  constructor(readonly cfg: ResolvedListener, private readonly deps: ListenerDeps) {
    this.name = cfg.name;
    this.formatter = cfg.formatter ?? deps.formatter;
    this.family = isIPv6(cfg.host) ? 6 : 4;
    this.recentClients = deps.recentClients ?? new RecentClients(deps.recentClientMs, deps.maxRecentClients);
    this.stage = createAddressStage(cfg.allow, cfg.deny);
    const mf = dataFormatter(this.formatter);
    this.formatCheck = mf ? (data) => mf.check(data) : undefined;
    this.limiter = cfg.rateLimit && (cfg.rateLimit.packetsPerSecond || cfg.rateLimit.bytesPerSecond) ? new ClientRateLimiter(cfg.rateLimit) : undefined;
    this.clientPorts = deps.recentClientPorts ?? false;
    this.now = deps.now ?? Date.now;
    const l = { listener: cfg.name };
    this.m = {
      packets: deps.metrics.packetsIn.hot(l), bytes: deps.metrics.bytesIn.hot(l),
      denied: deps.metrics.drops.labels({ where: cfg.name, reason: 'denied' }),
      notAllowed: deps.metrics.drops.labels({ where: cfg.name, reason: 'not-allowed' }),
      noDestination: deps.metrics.drops.labels({ where: cfg.name, reason: 'no-destination-accepted' }),
      packetRate: deps.metrics.drops.labels({ where: cfg.name, reason: 'client-packet-rate' }),
      byteRate: deps.metrics.drops.labels({ where: cfg.name, reason: 'client-byte-rate' }),
      // What offloaded flows forwarded (countOffloaded), as the bypassed egress would have counted it.
      proxyOut: deps.metrics.packetsOut.hot({ listener: cfg.name, path: 'proxy' }),
      proxyBytesOut: deps.metrics.bytesOut.hot({ listener: cfg.name, path: 'proxy' }),
      proxyRefused: deps.metrics.egressRefused.hot({ path: 'proxy', reason: 'transport-refused' }),
    };
  }

  get local(): Endpoint {
    if (!this.transport) throw new Error(`listener ${this.name} is not started`);
    return this.transport.local;
  }

  get transportKind(): string | undefined { return this.transport?.kind; }

  get logger(): Logger { return this.deps.logger; }

  /** Run when the listener closes (e.g. stop reading its protocol's counters into /metrics). */
  onClose(fn: () => void): void { this.closers.push(fn); }

  /** A reload's fan-out (destinations added, removed or changed): in effect from the next received batch.
   *  Offloaded flows end (their destination's sessions may offload again if the new fan-out allows). */
  replaceLanes(lanes: readonly FanoutLane[]): void {
    this.endOffload();
    this.runners = lanes;
  }

  /**
   * Flow offload (ClientSender.offload): this client's datagrams go straight to `upstream` and its
   * datagrams straight back, bypassing the stages, fan-out and egress. Granted only where bypassing
   * them changes nothing the client or the metrics could tell: one lane, the asking destination's,
   * offering it every packet; no rate limit, format check, listener protocol or cluster directory
   * (each looks at every packet); a transport that can. The counters the bypassed path would have
   * kept (packets and bytes in and out, the destination's delivered) are added from the
   * transport's totals when read; the recent clients are refreshed from the flows every quarter of
   * their window.
   */
  offload(remote: Endpoint, destination: string, upstream: object): OffloadedFlow | undefined {
    const lane = this.runners.length === 1 ? this.runners[0] : undefined;
    if (lane === undefined || lane.direct !== true || lane.destination.name !== destination) return undefined;
    if (this.protocol !== undefined || this.limiter !== undefined || this.formatCheck !== undefined || this.onClient !== undefined) return undefined;
    const flow = this.transport?.offload?.(remote, upstream);
    if (flow === undefined) return undefined;
    this.offloaded.set(flow, this.clientPorts ? clientKey(remote.address, remote.port) : remote.address);
    this.offloadCounted ??= this.transport!.offloadTotals!();
    this.stopOffloadSync ??= this.deps.metrics.syncOnRead(() => this.countOffloaded());
    // A quarter of the recent-clients window (an hour by default), so a client that keeps sending
    // stays recent; between 100 ms and 60 s (each look reads every flow: ~355 ns each, bench/flow-reads.ts).
    this.offloadTimer ??= setInterval(() => this.touchOffloaded(), Math.max(100, Math.min(60_000, this.deps.recentClientMs / 4)));
    this.offloadTimer.unref();
    return flow;
  }

  /** Adds what offloaded flows forwarded since the last call to the counters of the bypassed path. */
  private countOffloaded(): void {
    const before = this.offloadCounted;
    const t = this.transport?.offloadTotals?.();
    if (before === undefined || t === undefined) return;
    this.offloadCounted = t;
    const packetsIn = t.packetsIn - before.packetsIn, packetsOut = t.packetsOut - before.packetsOut;
    if (packetsIn > 0) {
      this.m.packets.inc(packetsIn);
      this.m.bytes.inc(t.bytesIn - before.bytesIn);
      const id = this.runners[0]?.id;
      if (id !== undefined) this.deps.metrics.delivered.hot({ destination: id }).inc(packetsIn);
    }
    if (packetsOut > 0) {
      this.m.proxyOut.inc(packetsOut);
      this.m.proxyBytesOut.inc(t.bytesOut - before.bytesOut);
    }
    if (t.outRefused > before.outRefused) this.m.proxyRefused.inc(t.outRefused - before.outRefused);
  }

  /** Offloaded clients stay among the recent clients (the egress policy) while they send. */
  private touchOffloaded(): void {
    const now = this.now();
    for (const [flow, client] of this.offloaded) {
      const r = flow.read();
      if (!r.active) { this.offloaded.delete(flow); continue; }
      if (r.idleInMs !== Infinity) this.recentClients.touch(client, now - r.idleInMs);
    }
    if (this.offloaded.size === 0) { clearInterval(this.offloadTimer); this.offloadTimer = undefined; }
  }

  /** Ends every offloaded flow, its counts added first. */
  private endOffload(): void {
    if (this.offloadCounted === undefined) return;
    this.countOffloaded();
    this.transport?.endOffload?.();
    this.offloaded.clear();
    clearInterval(this.offloadTimer);
    this.offloadTimer = undefined;
  }

  /** A listener protocol (WireGuard) between the socket and the pipeline; set before start(). */
  useProtocol(protocol: ListenerProtocol): void { this.protocol = protocol; }

  get tunnelled(): boolean { return this.protocol !== undefined; }

  /** Outer datagrams from this listener's socket (a protocol's handshakes and encrypted data). */
  sendOuter(datagrams: readonly Datagram[]): void { this.transport?.sendDatagrams(datagrams); }

  async start(runners: readonly FanoutLane[]): Promise<void> {
    this.runners = runners;
    try {
      this.transport = await this.deps.transport.bind({
        host: this.cfg.host, port: this.cfg.port, maxDatagramBytes: this.cfg.maxDatagramBytes,
        ...(this.cfg.receiveBufferBytes ? { receiveBufferBytes: this.cfg.receiveBufferBytes } : {}),
        ...(this.cfg.sendBufferBytes ? { sendBufferBytes: this.cfg.sendBufferBytes } : {}),
        ...(this.cfg.receiveCoalesceMicros ? { receiveCoalesceMicros: this.cfg.receiveCoalesceMicros } : {}),
      }, this.onBatch, (err) => this.deps.logger.warn({ err }, 'socket error'));
    } catch (err) {
      throw new GatewayError('UGW_ERR_LISTENER_BIND',
        `listener "${this.name}" cannot bind udp ${this.cfg.host}:${this.cfg.port}: ${(err as Error).message}; choose another port (config listeners[].port or UDPGW_PORT)`, { cause: err });
    }
  }

  /** Hot path: one call per received batch. */
  private readonly onBatch = (batch: Datagram[]): void => {
    if (this.protocol) return this.onOuterBatch(batch);
    const receivedAt = this.now();
    const local = this.transport!.local;
    let bytes = 0, denied = 0, notAllowed = 0, packetRate = 0, byteRate = 0;
    const limiter = this.limiter;
    for (const r of this.runners) r.hold();
    try {
      for (const d of batch) {
        bytes += d.data.length;
        const drop = this.stage(d.address);
        if (drop) { if (drop === 'denied') denied++; else notAllowed++; continue; }
        if (limiter !== undefined) {
          const over = limiter.take(d.address, d.data.length, receivedAt);
          if (over !== undefined) { if (over === 'client-packet-rate') packetRate++; else byteRate++; continue; }
        }
        this.fanOut(new ReceivedPacket(this.deps.codec, this.name, { address: d.address, port: d.port }, local, receivedAt, d.data, this.formatter), this.clientPorts ? clientKey(d.address, d.port) : d.address, receivedAt);
      }
    } finally {
      for (const r of this.runners) r.flush(receivedAt);
    }
    this.count(batch.length, bytes, denied, notAllowed, packetRate, byteRate);
  };

  /** Through a listener protocol: allow/deny on the outer address, then decapsulate, then fan out. */
  private onOuterBatch(batch: Datagram[]): void {
    const receivedAt = this.now();
    const local = this.transport!.local;
    let bytes = 0, denied = 0, notAllowed = 0, packetRate = 0, byteRate = 0;
    const admitted: Datagram[] = [];
    for (const d of batch) {
      bytes += d.data.length;
      const drop = this.stage(d.address);
      if (drop) { if (drop === 'denied') denied++; else notAllowed++; continue; }
      const over = this.limiter?.take(d.address, d.data.length, receivedAt);
      if (over !== undefined) { if (over === 'client-packet-rate') packetRate++; else byteRate++; continue; }
      admitted.push(d);
    }
    this.count(batch.length, bytes, denied, notAllowed, packetRate, byteRate);
    const inner = this.protocol!.receive(admitted, receivedAt);
    if (inner.length === 0) return;
    for (const r of this.runners) r.hold();
    try {
      for (const d of inner) this.fanOut(new TunnelledPacket(this.deps.codec, this.name, d, local, receivedAt, this.formatter), d.address, receivedAt);
    } finally {
      for (const r of this.runners) r.flush(receivedAt);
    }
  }

  private fanOut(packet: Packet, client: string, receivedAt: number): void {
    if (this.formatCheck) {
      const reason = this.formatCheck(packet.data);
      if (reason) { this.deps.metrics.drops.inc({ where: this.name, reason }); return; }
    }
    this.recentClients.touch(client, receivedAt);
    if (this.onClient !== undefined && this.protocol === undefined) this.onClient(packet.remote.address, packet.remote.port, receivedAt);
    let accepted = false;
    for (const r of this.runners) accepted = r.enqueue(packet) || accepted;
    if (!accepted) this.m.noDestination.inc();
  }

  private count(packets: number, bytes: number, denied: number, notAllowed: number, packetRate: number, byteRate: number): void {
    this.m.packets.inc(packets);
    this.m.bytes.inc(bytes);
    if (denied) this.m.denied.inc(denied);
    if (notAllowed) this.m.notAllowed.inc(notAllowed);
    if (packetRate) this.m.packetRate.inc(packetRate);
    if (byteRate) this.m.byteRate.inc(byteRate);
  }

  /** Toward a client: straight from the socket, or through the listener protocol (encrypted to the
   *  peer that owns the inner address, or the peer named by key). Undefined when it left; else why not. */
  transmit(remote: Endpoint & { readonly peerKey?: string }, data: Buffer): string | undefined {
    if (this.protocol) return this.protocol.send(remote, data, this.now());
    if (this.transport === undefined) return 'transport-refused';
    return this.transport.sendDatagrams([{ data, address: remote.address, port: remote.port }]) === 0 ? undefined : 'transport-refused';
  }

  /** Many toward clients in one transport send (one sendmmsg), for a listener without a protocol;
   *  `refused` is told the index of each one that did not leave. */
  transmitMany(datagrams: readonly Datagram[], refused: (index: number) => void): void {
    if (this.transport === undefined) { for (let i = 0; i < datagrams.length; i++) refused(i); return; }
    this.transport.sendDatagrams(datagrams, refused);
  }

  /** Stop reading (drain); sending stays possible for late replies. */
  pause(): void { this.transport?.pause(); }

  async close(): Promise<void> {
    this.endOffload();
    this.stopOffloadSync?.();
    for (const c of this.closers.splice(0)) c();
    this.protocol?.close();
    await this.transport?.close();
  }

  status(): Record<string, unknown> {
    return {
      name: this.name, host: this.cfg.host, port: this.transport?.local.port ?? this.cfg.port, transport: this.transport?.kind,
      formatter: this.formatter, recentClients: this.recentClients.size,
      destinations: this.runners.map((r) => r.destination.name),
      ...(this.offloadCounted !== undefined ? { offload: this.transport?.offloadTotals?.() } : {}),
      ...(this.protocol ? { protocol: this.protocol.type, tunnel: this.protocol.status(this.now()) } : {}),
    };
  }
}
