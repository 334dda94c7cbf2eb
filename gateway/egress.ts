/**
 * Egress: the only way packets leave toward clients. Replies are checked against their tag,
 * out-of-band packets against the address policy; both leave from the listener's own socket so
 * NATs and firewalls accept them.
 */
import type { Logger } from 'pino';
import type { ClientSender } from './extension/destination.js';
import type { Datagram, Endpoint, Formatter, Reply } from './packet.js';
import type { OffloadedFlow } from './extension/transport.js';
import type { TagCodec } from './tag.js';
import type { Metrics } from './metrics.js';
import type { OutOfBandPacket } from './wire/egress-message.js';
import type { RecentClients } from './recent-clients.js';
import { createCidrMatcher } from './cidr.js';
import { clientKey } from './recent-clients.js';

export type EgressRefusal =
  | 'tag-malformed' | 'tag-forged' | 'tag-expired'
  | 'unknown-listener' | 'address-refused' | 'expired' | 'family-mismatch' | 'transport-refused'
  /** PeerKey given for a listener without a tunnel protocol. */
  | 'peer-key-not-tunnelled'
  /** A listener protocol's own refusal (WireGuard: unknown-peer, no-session, no-endpoint, allowed-ips-outbound, …). */
  | (string & {});

/** forwardedTo: another node of the cluster sends it, from the socket of the client's flow (docs/cluster.md). */
export type EgressResult = { ok: true; readonly forwardedTo?: string } | { ok: false; reason: EgressRefusal };

/** What the egress needs of a listener. */
export interface EgressPort {
  readonly name: string;
  readonly formatter: Formatter;
  readonly recentClients: RecentClients;
  /** IPv4 or IPv6 socket: a client of the other family cannot be reached from it. */
  readonly family: 4 | 6;
  /** True when a listener protocol (WireGuard) carries the datagrams: clients are addressed inside the tunnel. */
  readonly tunnelled?: boolean;
  /** Send toward a client from the listener's socket (or through its protocol). Undefined when it
   *  left; otherwise the refusal reason (transport-refused, or the protocol's: no-session, …): not sent. */
  transmit(remote: Endpoint & { readonly peerKey?: string }, data: Buffer): string | undefined;
  /** Many toward clients from the socket in one send (not tunnelled ports); `refused` is told the
   *  index of each that did not leave. */
  transmitMany?(datagrams: readonly Datagram[], refused: (index: number) => void): void;
  /** Flow offload (ClientSender.offload), where the listener's transport can. */
  offload?(remote: Endpoint, destination: string, upstream: object): OffloadedFlow | undefined;
}

export interface EgressOptions {
  readonly codec: TagCodec;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Networks out-of-band sends may reach besides recently seen clients. */
  readonly allow: readonly string[];
  /** 'address-port': a recently seen client may receive only on the port it sent from. */
  readonly policy?: 'address' | 'address-port';
  readonly now?: () => number;
}

type CounterChild = ReturnType<Metrics['packetsOut']['labels']>;
interface SentCounters { packets: CounterChild; bytes: CounterChild }

const OK: EgressResult = Object.freeze({ ok: true });

export class Egress implements ClientSender {
  private readonly ports = new Map<string, EgressPort>();
  private readonly allowed: (address: string) => boolean;
  private readonly now: () => number;

  constructor(private readonly opts: EgressOptions) {
    this.allowed = createCidrMatcher(opts.allow);
    this.now = opts.now ?? Date.now;
  }

  attach(port: EgressPort): void { this.ports.set(port.name, port); }
  detach(name: string): void { this.ports.delete(name); }
  listeners(): string[] { return [...this.ports.keys()]; }
  formatterOf(listener: string): Formatter | undefined { return this.ports.get(listener)?.formatter; }

  /** Formatter of the listener a tag names (for decoding reply Data); undefined for a bad tag. */
  readonly formatterOfTag = (tag: string): Formatter | undefined => {
    const t = this.opts.codec.decode(tag);
    return t.ok ? this.formatterOf(t.claims.listener) : undefined;
  };

  /** A reply addressed by tag (from a destination result, or an async reply from outside). */
  reply(tag: string, data: Buffer, path = 'reply'): EgressResult {
    const t = this.opts.codec.decode(tag);
    if (!t.ok) return this.refuse(path, `tag-${t.reason}`);
    const port = this.ports.get(t.claims.listener);
    if (!port) return this.refuse(path, 'unknown-listener');
    return this.emit(port, t.claims.remote, data, path);
  }

  replyByTag(tag: string, data: Buffer): boolean { return this.reply(tag, data).ok; }

  /**
   * The replies of one destination batch, each checked as reply() checks it; those for one listener
   * leave in one transport send (one sendmmsg for the batch, not one per reply), in their order.
   * Counted as reply() counts them: sent, or refused by reason.
   */
  replies(replies: readonly Reply[], path = 'reply'): void {
    if (replies.length === 1) { this.reply(replies[0]!.tag, replies[0]!.data, path); return; }
    let batches: Map<EgressPort, Datagram[]> | undefined;
    for (const r of replies) {
      const t = this.opts.codec.decode(r.tag);
      if (!t.ok) { this.refuse(path, `tag-${t.reason}`); continue; }
      const port = this.ports.get(t.claims.listener);
      if (!port) { this.refuse(path, 'unknown-listener'); continue; }
      if (port.transmitMany === undefined || port.tunnelled) { this.emit(port, t.claims.remote, r.data, path); continue; }
      batches ??= new Map();
      let list = batches.get(port);
      if (list === undefined) batches.set(port, (list = []));
      list.push({ data: r.data, address: t.claims.remote.address, port: t.claims.remote.port });
    }
    if (batches) for (const [port, list] of batches) this.emitMany(port, list, path);
  }

  /**
   * Trusted: the gateway has a flow with this client (udp proxy session). Sent at the end of the
   * current synchronous pass, with the others of that pass for the same listener in one transport
   * send (a session socket's read of many replies: one sendmmsg, not one per reply), in order.
   */
  sendToClient(listener: string, remote: Endpoint, data: Buffer): void {
    const port = this.ports.get(listener);
    if (!port) { this.refuse('proxy', 'unknown-listener'); return; }
    if (port.transmitMany === undefined || port.tunnelled) { this.emit(port, remote, data, 'proxy'); return; }
    if (this.pending === undefined) { this.pending = new Map(); queueMicrotask(this.flushPending); }
    let list = this.pending.get(port);
    if (list === undefined) this.pending.set(port, (list = []));
    list.push({ data, address: remote.address, port: remote.port });
  }

  /** Proxy replies of this pass, by listener (sendToClient). */
  private pending: Map<EgressPort, Datagram[]> | undefined;
  private readonly flushPending = (): void => {
    const pending = this.pending!;
    this.pending = undefined;
    for (const [port, list] of pending) this.emitMany(port, list, 'proxy');
  };

  /** Trusted, like sendToClient: the destination has a flow with this client (udp proxy session). */
  offload(listener: string, remote: Endpoint, destination: string, upstream: object): OffloadedFlow | undefined {
    return this.ports.get(listener)?.offload?.(remote, destination, upstream);
  }

  /** An out-of-band packet: checked against expiry and the address policy. */
  sendOutOfBand(p: OutOfBandPacket, defaultListener: string): EgressResult {
    const port = this.ports.get(p.listener ?? defaultListener);
    if (!port) return this.refuse('out_of_band', 'unknown-listener');
    const now = this.now();
    if (p.expiresAt !== undefined && p.expiresAt < now) return this.refuse('out_of_band', 'expired');
    if (p.peerKey !== undefined || port.tunnelled) return this.tunnelOutOfBand(port, p);
    const v6 = p.remote.address.includes(':');
    if (v6 && port.family === 4 && !p.remote.address.startsWith('::ffff:')) return this.refuse('out_of_band', 'family-mismatch');
    // A dual-stack (IPv6) socket sees IPv4 clients as ::ffff:a.b.c.d; an IPv4 socket as a.b.c.d.
    const address = !v6 && port.family === 6 ? `::ffff:${p.remote.address}` : v6 && port.family === 4 ? p.remote.address.slice(7) : p.remote.address;
    const seenKey = this.opts.policy === 'address-port' ? clientKey(address, p.remote.port) : address;
    if (!port.recentClients.has(seenKey, now) && !this.allowed(address)) {
      this.opts.logger.warn({ listener: port.name, reason: 'address-refused' }, 'out-of-band send refused by the egress policy');
      return this.refuse('out_of_band', 'address-refused');
    }
    return this.emit(port, { address, port: p.remote.port }, p.data, 'out_of_band');
  }

  /** Through a tunnel: the protocol authenticates the peer and refuses without a session. A PeerKey
   *  names the peer; without one, the inner address must belong to a peer (its allowed IPs). */
  private tunnelOutOfBand(port: EgressPort, p: OutOfBandPacket): EgressResult {
    if (!port.tunnelled) return this.refuse('out_of_band', 'peer-key-not-tunnelled');
    return this.emit(port, { address: p.remote.address, port: p.remote.port, ...(p.peerKey !== undefined ? { peerKey: p.peerKey } : {}) }, p.data, 'out_of_band');
  }

  /** Counted as sent only when the socket (or the listener's protocol) took it; a refusal is counted as one, by its path. */
  private emit(port: EgressPort, remote: Endpoint & { readonly peerKey?: string }, data: Buffer, path: string): EgressResult {
    const refused = port.transmit(remote, data);
    if (refused !== undefined) return this.refuse(path, refused);
    const c = this.countersFor(port, path);
    c.packets.inc();
    c.bytes.inc(data.length);
    return OK;
  }

  /** emit() for many: one transport send; each refused one counted as a refusal, the rest as sent. */
  private emitMany(port: EgressPort, list: readonly Datagram[], path: string): void {
    let packets = list.length, bytes = 0;
    for (const d of list) bytes += d.data.length;
    port.transmitMany!(list, (i) => {
      const d = list[i];
      if (d === undefined) return; // not one of ours: a transport's bug, not worth a crash (this may run in a microtask)
      packets--;
      bytes -= d.data.length;
      this.refuse(path, 'transport-refused');
    });
    const c = this.countersFor(port, path);
    if (packets > 0) { c.packets.inc(packets); c.bytes.inc(bytes); }
  }

  /** Labelled counter children, cached per listener and path (this runs once per packet sent). */
  private readonly counters = new WeakMap<EgressPort, Map<string, SentCounters>>(); // a detached port takes its entry with it
  private countersFor(port: EgressPort, path: string): SentCounters {
    let byPath = this.counters.get(port);
    // Stryker disable next-line ConditionalExpression: a cache; refilled on every call it yields the same counter children, only slower
    if (!byPath) this.counters.set(port, (byPath = new Map()));
    let c = byPath.get(path);
    // Stryker disable next-line ConditionalExpression: a cache (see above)
    if (!c) {
      c = { packets: this.opts.metrics.packetsOut.hot({ listener: port.name, path }), bytes: this.opts.metrics.bytesOut.hot({ listener: port.name, path }) };
      byPath.set(path, c);
    }
    return c;
  }

  private refuse(path: string, reason: EgressRefusal): EgressResult {
    this.opts.metrics.egressRefused.inc({ path, reason });
    return { ok: false, reason };
  }
}
