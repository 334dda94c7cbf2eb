/**
 * Out-of-band egress across nodes. A packet (or an async reply by tag) for a client whose flow this
 * node received leaves here; one whose flow another node owns is forwarded to that node, which
 * checks its own egress policy and sends from its listener socket, the address the client's NAT
 * and the load balancer expect. A client no node owns meets the local egress policy, as on a
 * single node. Redis unreachable: everything is decided locally (counted, redis-unavailable).
 * Never a Redis call per received datagram: lookups happen per out-of-band packet only.
 */
import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { Egress, EgressResult } from '../egress.js';
import type { TagCodec } from '../tag.js';
import type { Metrics } from '../metrics.js';
import type { OutOfBandPacket } from '../wire/egress-message.js';
import type { Formatter } from '../packet.js';
import type { OutOfBandEgress } from '../extension/packet-source.js';
import { parseSessionSelector, type SessionSelector } from '../routing/session-control.js';
import { decodeClusterPayload, encodeClusterBatch, encodeClusterMessage, type ClusterBus, type ClusterMessage } from './bus.js';
import type { FlowDirectory } from './flow-directory.js';

const ASYNC_REPLY_PATH = 'async_reply';
/** One PUBLISH carries at most this much (Redis's limit on a bulk string is 512 MB; a subscriber's output buffer is the real bound). */
const MAX_BATCH_MESSAGES = 256;
const MAX_BATCH_BYTES = 256 * 1024;

export type ForwardOutcome = 'local' | 'forwarded' | 'no-owner' | 'owner-unreachable' | 'redis-unavailable'
  | 'received-sent' | 'received-refused';

export interface ClusterEgressOptions {
  readonly bus: ClusterBus;
  readonly directory: FlowDirectory;
  readonly egress: Egress;
  readonly codec: TagCodec;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Ends the udp proxy sessions a selector names on this node (optionally one destination); returns how many. */
  readonly endSessions: (sel: SessionSelector, destination?: string) => number;
}

export class ClusterEgress implements OutOfBandEgress {
  private readonly forwards: Counter<'outcome'>;
  private readonly errors: Counter<'reason'>;
  private readonly stats = { forwarded: 0, received: 0, sessionsEndedForPeers: 0 };
  readonly formatterOfTag: (tag: string) => Formatter | undefined;

  constructor(private readonly o: ClusterEgressOptions) {
    const r = o.metrics.registry;
    this.forwards = new Counter({ name: 'udpgw_cluster_forward_total', help: 'Out-of-band packets and async replies by where they were sent from: local, forwarded (to the owner node), no-owner (local egress policy), owner-unreachable, redis-unavailable (local egress policy); received-sent / received-refused on the owner.', labelNames: ['outcome'], registers: [r] });
    this.errors = new Counter({ name: 'udpgw_cluster_errors_total', help: 'Cluster bus problems, by reason (redis-down, lookup-failed, publish-failed, flush-failed, pending-overflow, bad-message).', labelNames: ['reason'], registers: [r] });
    const bus = o.bus;
    new Gauge({ name: 'udpgw_cluster_redis_up', help: '1 while this node reaches the cluster\'s Redis.', registers: [r], collect() { this.set(bus.up ? 1 : 0); } });
    this.formatterOfTag = o.egress.formatterOfTag;
    bus.onMessage((m) => this.receive(m));
    bus.onState((up, reason) => {
      if (up) o.logger.info('cluster: Redis reachable again; ownership and forwarding resumed');
      else { this.countError('redis-down'); o.logger.warn({ reason }, 'cluster: Redis unreachable; serving local clients only (reconnecting with backoff)'); }
    });
  }

  countError(reason: string, n = 1): void { this.errors.inc({ reason }, n); }

  formatterOf(listener: string): Formatter | undefined { return this.o.egress.formatterOf(listener); }

  /** Node-local, as on a single node (for callers that cannot wait). */
  sendOutOfBand(p: OutOfBandPacket, defaultListener: string): EgressResult { return this.o.egress.sendOutOfBand(p, defaultListener); }
  reply(tag: string, data: Buffer, path?: string): EgressResult { return this.o.egress.reply(tag, data, path); }

  /** An out-of-band packet from wherever its flow lives. */
  async routeOutOfBand(p: OutOfBandPacket, defaultListener: string): Promise<EgressResult> {
    const listener = p.listener ?? defaultListener;
    if (p.peerKey !== undefined || !this.o.egress.listeners().includes(listener)) return this.o.egress.sendOutOfBand(p, defaultListener);
    const where = await this.ownerElsewhere(listener, p.remote.address, p.remote.port);
    if (where.local) return this.o.egress.sendOutOfBand(p, defaultListener);
    const m: ClusterMessage = { kind: 'oob', from: this.o.bus.nodeId, listener, address: p.remote.address, port: p.remote.port,
      ...(p.expiresAt !== undefined ? { expiresAt: p.expiresAt } : {}), data: p.data };
    return this.forward(where.owner, m, listener, p.remote.address, p.remote.port);
  }

  /** An async reply by tag: the tag names the listener and client; from the owner of that flow. */
  async routeReply(tag: string, data: Buffer, path = ASYNC_REPLY_PATH): Promise<EgressResult> {
    const t = this.o.codec.decode(tag);
    if (!t.ok || !this.o.egress.listeners().includes(t.claims.listener)) return this.o.egress.reply(tag, data, path);
    const { listener, remote } = t.claims;
    const where = await this.ownerElsewhere(listener, remote.address, remote.port);
    if (where.local) return this.o.egress.reply(tag, data, path);
    return this.forward(where.owner, { kind: 'reply', from: this.o.bus.nodeId, tag, data }, listener, remote.address, remote.port);
  }

  /** Ends a client's sessions on every other node (this node ends its own itself); how many nodes heard it. */
  async endSessionsElsewhere(client: string, destination?: string): Promise<number> {
    if (!this.o.bus.up) { this.countError('redis-unavailable'); return 0; }
    try {
      const heard = await this.o.bus.broadcast(encodeClusterMessage({ kind: 'end-sessions', from: this.o.bus.nodeId, client, ...(destination !== undefined ? { destination } : {}) }));
      return Math.max(0, heard - 1); // this node hears its own broadcast and ignores it
    } catch {
      this.countError('publish-failed');
      return 0;
    }
  }

  status(): Record<string, unknown> {
    return { nodeId: this.o.bus.nodeId, ...this.stats, bus: this.o.bus.status(), directory: this.o.directory.status() };
  }

  /** Local: this node owns the flow, or nobody (else) does, or Redis cannot tell. */
  private async ownerElsewhere(listener: string, address: string, port: number): Promise<{ local: true } | { local: false; owner: string }> {
    const d = this.o.directory;
    if (d.ownsFlow(listener, address, port)) { this.forwards.inc({ outcome: 'local' }); return { local: true }; }
    if (!this.o.bus.up) { this.forwards.inc({ outcome: 'redis-unavailable' }); return { local: true }; }
    let owner: string | null;
    try {
      owner = await d.ownerOf(listener, address, port);
    } catch {
      this.countError('lookup-failed');
      this.forwards.inc({ outcome: 'redis-unavailable' });
      return { local: true };
    }
    if (owner === null) { this.forwards.inc({ outcome: 'no-owner' }); return { local: true }; }
    if (owner === this.o.bus.nodeId) { this.forwards.inc({ outcome: 'local' }); return { local: true }; }
    return { local: false, owner };
  }

  /** Forwards to one node within one event-loop turn share a PUBLISH (a document's packets, concurrent sends), bounded. */
  private readonly outbox = new Map<string, { messages: Buffer[]; bytes: number; settle: ((heard: number | Error) => void)[] }>();
  private publish(owner: string, message: Buffer): Promise<number> {
    let box = this.outbox.get(owner);
    if (!box) {
      this.outbox.set(owner, box = { messages: [], bytes: 0, settle: [] });
      setImmediate(() => this.flushOutbox(owner, box!));
    }
    box.messages.push(message);
    box.bytes += message.length;
    const heard = new Promise<number>((resolve, reject) => box.settle.push((h) => (typeof h === 'number' ? resolve(h) : reject(h))));
    if (box.messages.length >= MAX_BATCH_MESSAGES || box.bytes >= MAX_BATCH_BYTES) this.flushOutbox(owner, box);
    return heard;
  }

  private flushOutbox(owner: string, box: { messages: Buffer[]; settle: ((heard: number | Error) => void)[] }): void {
    if (this.outbox.get(owner) !== box) return; // already sent (full)
    this.outbox.delete(owner);
    this.o.bus.forward(owner, encodeClusterBatch(box.messages)).then(
      (heard) => { for (const s of box.settle) s(heard); },
      (err: Error) => { for (const s of box.settle) s(err); });
  }

  private async forward(owner: string, m: ClusterMessage, listener: string, address: string, port: number): Promise<EgressResult> {
    let heard: number;
    try {
      heard = await this.publish(owner, encodeClusterMessage(m));
    } catch {
      this.countError('publish-failed');
      return this.refuse('redis-unavailable');
    }
    if (heard === 0) {
      // The owner's subscription is gone (the node died or lost Redis): its flow is not reachable from here.
      this.o.directory.forgetOwner(listener, address, port);
      return this.refuse('owner-unreachable');
    }
    this.forwards.inc({ outcome: 'forwarded' });
    this.stats.forwarded++;
    return { ok: true, forwardedTo: owner };
  }

  private refuse(outcome: 'owner-unreachable' | 'redis-unavailable'): EgressResult {
    this.forwards.inc({ outcome });
    this.o.metrics.egressRefused.inc({ path: 'cluster', reason: outcome });
    return { ok: false, reason: outcome };
  }

  /** A message from another node: sent from this node's socket under this node's own egress policy. */
  private receive(raw: Buffer): void {
    for (const m of decodeClusterPayload(raw)) this.receiveOne(m);
  }

  private receiveOne(m: ClusterMessage | undefined): void {
    if (!m) { this.countError('bad-message'); return; }
    if (m.from === this.o.bus.nodeId) return;
    if (m.kind === 'end-sessions') {
      const sel = parseSessionSelector(m.client);
      if (sel) this.stats.sessionsEndedForPeers += this.o.endSessions(sel, m.destination);
      return;
    }
    this.stats.received++;
    const r = m.kind === 'reply'
      ? this.o.egress.reply(m.tag, m.data, ASYNC_REPLY_PATH)
      : this.o.egress.sendOutOfBand({ remote: { address: m.address, port: m.port }, data: m.data, listener: m.listener, ...(m.expiresAt !== undefined ? { expiresAt: m.expiresAt } : {}) }, m.listener);
    this.forwards.inc({ outcome: r.ok ? 'received-sent' : 'received-refused' });
  }
}
