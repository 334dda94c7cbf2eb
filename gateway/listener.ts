/**
 * A listener owns one UDP socket (through a transport), runs the stages over each received batch
 * (allow/deny, tagging) and hands every packet to each of its destination runners. Never awaits.
 */
import type { Logger } from 'pino';
import { isIPv6 } from 'node:net';
import type { Datagram, Endpoint, Formatter, Packet } from './packet.js';
import type { TagCodec } from './tag.js';
import type { Metrics } from './metrics.js';
import type { TransportFactory, UdpTransport } from './extension/transport.js';
import type { EgressPort } from './egress.js';
import type { FanoutLane } from './fanout/sample.js';
import type { ResolvedListener } from './config/resolved.js';
import { RecentClients } from './recent-clients.js';
import { createCidrMatcher } from './cidr.js';
import { GatewayError } from './errors.js';

export interface ListenerDeps {
  readonly codec: TagCodec;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly transport: TransportFactory;
  readonly formatter: Formatter;
  readonly recentClientMs: number;
  readonly maxRecentClients: number;
  readonly now?: () => number;
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

export class Listener implements EgressPort {
  readonly name: string;
  readonly formatter: Formatter;
  readonly family: 4 | 6;
  readonly recentClients: RecentClients;
  private transport: UdpTransport | undefined;
  private runners: readonly FanoutLane[] = [];
  private readonly stage: AddressStage;
  private readonly now: () => number;
  private readonly m;

  constructor(readonly cfg: ResolvedListener, private readonly deps: ListenerDeps) {
    this.name = cfg.name;
    this.formatter = cfg.formatter ?? deps.formatter;
    this.family = isIPv6(cfg.host) ? 6 : 4;
    this.recentClients = new RecentClients(deps.recentClientMs, deps.maxRecentClients);
    this.stage = createAddressStage(cfg.allow, cfg.deny);
    this.now = deps.now ?? Date.now;
    const l = { listener: cfg.name };
    this.m = {
      packets: deps.metrics.packetsIn.hot(l), bytes: deps.metrics.bytesIn.hot(l),
      denied: deps.metrics.drops.labels({ where: cfg.name, reason: 'denied' }),
      notAllowed: deps.metrics.drops.labels({ where: cfg.name, reason: 'not-allowed' }),
      noDestination: deps.metrics.drops.labels({ where: cfg.name, reason: 'no-destination-accepted' }),
    };
  }

  get local(): Endpoint {
    if (!this.transport) throw new Error(`listener ${this.name} is not started`);
    return this.transport.local;
  }

  get transportKind(): string | undefined { return this.transport?.kind; }

  async start(runners: readonly FanoutLane[]): Promise<void> {
    this.runners = runners;
    try {
      this.transport = await this.deps.transport.bind({
        host: this.cfg.host, port: this.cfg.port, maxDatagramBytes: this.cfg.maxDatagramBytes,
        ...(this.cfg.receiveBufferBytes ? { receiveBufferBytes: this.cfg.receiveBufferBytes } : {}),
        ...(this.cfg.sendBufferBytes ? { sendBufferBytes: this.cfg.sendBufferBytes } : {}),
      }, this.onBatch, (err) => this.deps.logger.warn({ err }, 'socket error'));
    } catch (err) {
      throw new GatewayError('UGW_ERR_LISTENER_BIND',
        `listener "${this.name}" cannot bind udp ${this.cfg.host}:${this.cfg.port}: ${(err as Error).message}; choose another port (config listeners[].port or UDPGW_PORT)`, { cause: err });
    }
  }

  /** Hot path: one call per received batch. */
  private readonly onBatch = (batch: Datagram[]): void => {
    const receivedAt = this.now();
    const local = this.transport!.local;
    let bytes = 0, denied = 0, notAllowed = 0;
    for (const r of this.runners) r.hold();
    try {
      for (const d of batch) {
        bytes += d.data.length;
        const drop = this.stage(d.address);
        if (drop) { if (drop === 'denied') denied++; else notAllowed++; continue; }
        const packet = new ReceivedPacket(this.deps.codec, this.name, { address: d.address, port: d.port }, local, receivedAt, d.data, this.formatter);
        this.recentClients.touch(d.address, receivedAt);
        let accepted = false;
        for (const r of this.runners) accepted = r.enqueue(packet) || accepted;
        if (!accepted) this.m.noDestination.inc();
      }
    } finally {
      for (const r of this.runners) r.flush();
    }
    this.m.packets.inc(batch.length);
    this.m.bytes.inc(bytes);
    if (denied) this.m.denied.inc(denied);
    if (notAllowed) this.m.notAllowed.inc(notAllowed);
  };

  transmit(remote: Endpoint, data: Buffer): void {
    this.transport?.sendDatagrams([{ data, address: remote.address, port: remote.port }]);
  }

  /** Stop reading (drain); sending stays possible for late replies. */
  pause(): void { this.transport?.pause(); }

  async close(): Promise<void> { await this.transport?.close(); }

  status(): Record<string, unknown> {
    return {
      name: this.name, host: this.cfg.host, port: this.transport?.local.port ?? this.cfg.port, transport: this.transport?.kind,
      formatter: this.formatter, recentClients: this.recentClients.size,
      destinations: this.runners.map((r) => r.destination.name),
    };
  }
}
