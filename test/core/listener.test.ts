/**
 * The listener's stages on values (gateway/listener.ts), driven through the one transport interface
 * the core takes (in memory, as aedes' core takes an abstract transport): what is counted, dropped,
 * remembered and handed to the fan-out for each received batch, with and without a listener protocol.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Listener, type ListenerDeps } from '../../gateway/listener.js';
import { Metrics } from '../../gateway/metrics.js';
import { createTagCodec } from '../../gateway/tag.js';
import { GatewayError } from '../../gateway/errors.js';
import type { BatchHandler, BindOptions, TransportFactory } from '../../gateway/extension/transport.js';
import type { ListenerProtocol, ProtocolDatagram } from '../../gateway/extension/listener-protocol.js';
import type { FanoutLane } from '../../gateway/fanout/sample.js';
import type { Datagram, Packet } from '../../gateway/packet.js';
import type { Destination } from '../../gateway/extension/destination.js';
import type { ResolvedListener } from '../../gateway/config/resolved.js';
import { registerDataFormatter } from '../../gateway/extension/data-formatter.js';
import { coapFormatter } from '../../formatters/coap/manifest.js';

registerDataFormatter(coapFormatter); // as app/builtin-kinds.ts does

const t0 = Date.UTC(2026, 10, 29);

/** A transport in memory: the test delivers batches and reads what was sent. */
function memoryTransport(opts: { refuse?: number; fail?: string } = {}) {
  const state: { onBatch?: BatchHandler; onError?: (e: Error) => void; bound?: BindOptions; sent: Datagram[] } = { sent: [] };
  const factory: TransportFactory = {
    kind: 'memory',
    bind: async (o, onBatch, onError) => {
      if (opts.fail) throw new Error(opts.fail);
      Object.assign(state, { onBatch, onError, bound: o });
      return {
        kind: 'memory', local: { address: o.host, port: 4242 },
        sendDatagrams: (ds) => { state.sent.push(...ds); return opts.refuse ?? 0; },
        pause: () => {}, close: async () => {},
      };
    },
  };
  return { factory, state };
}

/** A fan-out lane recording the calls the listener makes. */
function lane(accept = true): FanoutLane & { calls: string[]; packets: Packet[] } {
  const calls: string[] = [], packets: Packet[] = [];
  return {
    destination: { kind: 't', name: 't' } as unknown as Destination, calls, packets,
    enqueue: (p) => { calls.push(`enqueue ${p.data.toString()}`); packets.push(p); return accept; },
    hold: () => { calls.push('hold'); }, flush: () => { calls.push('flush'); },
  };
}

function listener(cfg: Partial<ResolvedListener> = {}, deps: Partial<ListenerDeps> & { warnings?: unknown[] } = {}) {
  const metrics = new Metrics();
  const codec = createTagCodec({ secret: randomBytes(32), replyWindowMs: 60_000, now: () => t0 });
  const warnings: unknown[] = deps.warnings ?? [];
  const logger = { warn: (o: unknown, msg: string) => { warnings.push([o, msg]); } } as unknown as ListenerDeps['logger'];
  const t = memoryTransport();
  const l = new Listener({ name: 'edge', host: '127.0.0.1', port: 0, maxDatagramBytes: 65_507, destinations: [], ...cfg } as ResolvedListener, {
    codec, metrics, logger, transport: t.factory, formatter: 'base64', recentClientMs: 60_000, maxRecentClients: 100, now: () => t0, ...deps,
  });
  const value = async (name: string, labels: Record<string, string>) =>
    (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
  const drops = async (reason: string) => value('udpgw_drops_total', { where: 'edge', reason });
  return { l, t, codec, metrics, value, drops, warnings };
}

const dg = (data: string, address = '127.0.0.1', port = 5000): Datagram => ({ data: Buffer.from(data), address, port });

describe('listener', () => {
  it('binds with its configured options (socket buffers and receive coalescing only when set), and names a bind failure', async () => {
    const { l, t } = listener({ host: '::', port: 5555, maxDatagramBytes: 1200, receiveBufferBytes: 8192 });
    await l.start([]);
    expect(t.state.bound).toEqual({ host: '::', port: 5555, maxDatagramBytes: 1200, receiveBufferBytes: 8192 });
    expect([l.family, l.local, l.transportKind]).toEqual([6, { address: '::', port: 4242 }, 'memory']);
    const { l: l2, t: t2 } = listener({ sendBufferBytes: 8192 });
    await l2.start([]);
    expect(t2.state.bound).toEqual({ host: '127.0.0.1', port: 0, maxDatagramBytes: 65_507, sendBufferBytes: 8192 });
    expect(l2.family).toBe(4);
    const { l: l4, t: t4 } = listener({ receiveCoalesceMicros: 250 });
    await l4.start([]);
    expect(t4.state.bound).toEqual({ host: '127.0.0.1', port: 0, maxDatagramBytes: 65_507, receiveCoalesceMicros: 250 });
    const failing = memoryTransport({ fail: 'EADDRINUSE' });
    const { l: l3 } = listener({ port: 53 }, { transport: failing.factory });
    const err = await l3.start([]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect([(err as GatewayError).code, (err as Error).message]).toEqual(['UGW_ERR_LISTENER_BIND', 'listener "edge" cannot bind udp 127.0.0.1:53: EADDRINUSE; choose another port (config listeners[].port or UDPGW_PORT)']);
  });

  it('has no local address before it is started', () => {
    expect(() => listener().l.local).toThrow('listener edge is not started');
    expect(listener().l.transportKind).toBeUndefined();
  });

  it('hands every packet of a batch to every lane between one hold and one flush, tagged with the receive time', async () => {
    const { l, t, codec } = listener();
    const a = lane(), b = lane();
    await l.start([a, b]);
    t.state.onBatch!([dg('one'), dg('two', '127.0.0.2', 6000)]);
    expect(a.calls).toEqual(['hold', 'enqueue one', 'enqueue two', 'flush']);
    expect(b.calls).toEqual(a.calls);
    const p = a.packets[1]!;
    expect([p.listener, p.remote, p.local, p.receivedAt, p.formatter]).toEqual(['edge', { address: '127.0.0.2', port: 6000 }, { address: '127.0.0.1', port: 4242 }, t0, 'base64']);
    expect(codec.decode(p.tag)).toEqual({ ok: true, claims: { listener: 'edge', remote: { address: '127.0.0.2', port: 6000 }, issuedAt: t0 } });
  });

  it('counts packets and bytes, remembers each client seen, and counts a packet no lane accepted', async () => {
    const { l, t, value, drops } = listener();
    await l.start([lane(false), lane(false)]);
    t.state.onBatch!([dg('abc'), dg('de', '10.0.0.9')]);
    expect([await value('udpgw_packets_received_total', { listener: 'edge' }), await value('udpgw_bytes_received_total', { listener: 'edge' })]).toEqual([2, 5]);
    expect(await drops('no-destination-accepted')).toBe(2);
    expect([l.recentClients.has('127.0.0.1', t0), l.recentClients.has('10.0.0.9', t0), l.recentClients.has('10.0.0.8', t0)]).toEqual([true, true, false]);
    const { l: one, t: t1, drops: d1 } = listener();
    await one.start([lane(false), lane(true)]);
    t1.state.onBatch!([dg('x')]);
    expect(await d1('no-destination-accepted')).toBe(0);
  });

  it('remembers address and port when the egress policy is address-port', async () => {
    const { l, t } = listener({}, { recentClientPorts: true });
    await l.start([lane()]);
    t.state.onBatch!([dg('x', '10.0.0.9', 7000)]);
    expect([l.recentClients.has('10.0.0.9|7000', t0), l.recentClients.has('10.0.0.9', t0)]).toEqual([true, false]);
  });

  it('drops denied and not-allowed clients before anything else, counted by reason, not remembered', async () => {
    const { l, t, drops, value } = listener({ allow: ['10.0.0.0/8'], deny: ['10.9.0.0/16'] });
    const a = lane();
    await l.start([a]);
    t.state.onBatch!([dg('ok', '10.1.0.1'), dg('denied', '10.9.0.1'), dg('outside', '192.0.2.1'), dg('outside2', '192.0.2.2')]);
    expect(a.packets.map((p) => p.data.toString())).toEqual(['ok']);
    expect([await drops('denied'), await drops('not-allowed'), await value('udpgw_packets_received_total', { listener: 'edge' })]).toEqual([1, 2, 4]);
    expect([l.recentClients.has('10.9.0.1', t0), l.recentClients.has('192.0.2.1', t0)]).toEqual([false, false]);
  });

  it('limits each client\'s packet and byte rates, counted by reason', async () => {
    const { l, t, drops } = listener({ rateLimit: { packetsPerSecond: 2, burstSeconds: 1, maxClients: 10 } });
    const a = lane();
    await l.start([a]);
    t.state.onBatch!([dg('1'), dg('2'), dg('3'), dg('other', '127.0.0.2')]);
    expect(a.packets.map((p) => p.data.toString())).toEqual(['1', '2', 'other']);
    expect(await drops('client-packet-rate')).toBe(1);
    const { l: lb, t: tb, drops: db } = listener({ rateLimit: { bytesPerSecond: 10, burstSeconds: 1, maxClients: 10 } });
    const b = lane();
    await lb.start([b]);
    tb.state.onBatch!([dg('12345678'), dg('12345678')]);
    expect([b.packets.length, await db('client-byte-rate'), await db('client-packet-rate')]).toEqual([1, 1, 0]);
  });

  it('with a message formatter (coap), drops a datagram that is not such a message, counted by its reason', async () => {
    const { l, t, metrics } = listener({ formatter: 'coap' });
    const a = lane();
    await l.start([a]);
    const coapGet = Buffer.from([0x40, 0x01, 0x12, 0x34]); // version 1, CON, GET, message id 0x1234
    t.state.onBatch!([{ data: Buffer.from([0xff]), address: '127.0.0.5', port: 1 }, { data: coapGet, address: '127.0.0.1', port: 2 }]);
    expect(a.packets.map((p) => p.remote.port)).toEqual([2]);
    const drops = (await metrics.drops.get()).values.filter((v) => v.labels.where === 'edge' && v.value > 0);
    expect(drops.map((d) => d.value)).toEqual([1]);
    expect([l.recentClients.has('127.0.0.5', t0), l.recentClients.has('127.0.0.1', t0)]).toEqual([false, true]); // a dropped datagram does not make its sender a seen client
  });

  it('sends toward a client from its socket; a socket refusal, or no socket, is transport-refused', async () => {
    const { l } = listener();
    expect(l.transmit({ address: '127.0.0.1', port: 1 }, Buffer.from('x'))).toBe('transport-refused');
    const t = memoryTransport({ refuse: 1 });
    const { l: refusing } = listener({}, { transport: t.factory });
    await refusing.start([]);
    expect(refusing.transmit({ address: '127.0.0.1', port: 1 }, Buffer.from('x'))).toBe('transport-refused');
    const { l: ok, t: t2 } = listener();
    await ok.start([]);
    expect(ok.transmit({ address: '127.0.0.1', port: 9 }, Buffer.from('y'))).toBeUndefined();
    ok.sendOuter([dg('outer', '127.0.0.3', 3)]);
    expect(t2.state.sent.map((d) => [d.data.toString(), d.address, d.port])).toEqual([['y', '127.0.0.1', 9], ['outer', '127.0.0.3', 3]]);
  });

  it('logs a socket error at warn', async () => {
    const warnings: unknown[] = [];
    const { l, t } = listener({}, { warnings });
    await l.start([]);
    const err = new Error('ENOBUFS');
    t.state.onError!(err);
    expect(warnings).toEqual([[{ err }, 'socket error']]);
  });

  it('reports its status', async () => {
    const { l, t } = listener({ host: '127.0.0.1', port: 0 });
    const a = lane();
    await l.start([a]);
    t.state.onBatch!([dg('x')]);
    expect(l.status()).toEqual({ name: 'edge', host: '127.0.0.1', port: 4242, transport: 'memory', formatter: 'base64', recentClients: 1, destinations: ['t'] });
  });
});

describe('listener with a protocol (tunnel)', () => {
  function protocol(inner: (batch: readonly Datagram[]) => ProtocolDatagram[]) {
    const seen: { batch: string[]; now: number }[] = [];
    const sent: unknown[] = [];
    const p: ListenerProtocol = {
      type: 'test', receive: (batch, now) => { seen.push({ batch: batch.map((d) => d.data.toString()), now }); return inner(batch); },
      send: (to, data, now) => { sent.push([to, data.toString(), now]); return to.port === 0 ? 'no-session' : undefined; },
      counters: () => ({}), status: (now) => ({ peers: 1, now }), close: () => {},
    };
    return { p, seen, sent };
  }
  const innerOf = (d: Datagram): ProtocolDatagram => ({
    data: Buffer.from(`inner-${d.data.toString()}`), address: '10.8.0.2', port: 1000, peerKey: 'KEY', outer: { address: d.address, port: d.port },
    inner: { sourceAddress: '10.8.0.2', sourcePort: 1000, destinationAddress: '10.8.0.1', destinationPort: 53 },
  });

  it('applies allow/deny and rate limits to the outer address, then hands the inner datagrams to the lanes', async () => {
    const { l, t, drops, value } = listener({ deny: ['192.0.2.0/24'], rateLimit: { packetsPerSecond: 1, burstSeconds: 1, maxClients: 10 } });
    const { p, seen } = protocol((batch) => batch.map(innerOf));
    l.useProtocol(p);
    const a = lane();
    await l.start([a]);
    expect(l.tunnelled).toBe(true);
    t.state.onBatch!([dg('a', '198.51.100.1'), dg('b', '192.0.2.1'), dg('c', '198.51.100.1')]);
    expect(seen).toEqual([{ batch: ['a'], now: t0 }]);
    expect([await drops('denied'), await drops('client-packet-rate'), await value('udpgw_packets_received_total', { listener: 'edge' }), await value('udpgw_bytes_received_total', { listener: 'edge' })]).toEqual([1, 1, 3, 3]);
    expect(a.calls).toEqual(['hold', 'enqueue inner-a', 'flush']);
    const pkt = a.packets[0] as Packet & { peerKey: string; outer: unknown; inner: object };
    expect([pkt.remote, pkt.peerKey, pkt.outer, pkt.inner]).toEqual([{ address: '10.8.0.2', port: 1000 }, 'KEY', { address: '198.51.100.1', port: 5000 }, { sourceAddress: '10.8.0.2', sourcePort: 1000, destinationAddress: '10.8.0.1', destinationPort: 53 }]);
    expect(l.recentClients.has('10.8.0.2', t0)).toBe(true); // the inner address: what replies and out-of-band packets address
  });

  it('asks the lanes for nothing when the protocol yields no inner datagram (a handshake); outer not-allowed and byte-rate drops counted', async () => {
    const { l, t, drops } = listener({ allow: ['198.51.100.0/24'], rateLimit: { bytesPerSecond: 10, burstSeconds: 1, maxClients: 10 } });
    const { p, seen } = protocol(() => []);
    l.useProtocol(p);
    const a = lane();
    await l.start([a]);
    t.state.onBatch!([dg('handshake', '198.51.100.1'), dg('outside', '203.0.113.1'), dg('0123456789', '198.51.100.1')]);
    expect(a.calls).toEqual([]);
    expect(seen.map((s) => s.batch)).toEqual([['handshake']]);
    expect([await drops('not-allowed'), await drops('denied'), await drops('client-byte-rate'), await drops('client-packet-rate')]).toEqual([1, 0, 1, 0]);
  });

  it('pause stops its socket reading; close closes the protocol and the socket', async () => {
    const calls: string[] = [];
    const { l } = listener({}, { transport: { kind: 'memory', bind: async (o) => ({ kind: 'memory', local: { address: o.host, port: 1 }, sendDatagrams: () => 0, pause: () => { calls.push('pause'); }, close: async () => { calls.push('close'); } }) } });
    const { p } = protocol(() => []);
    l.useProtocol({ ...p, close: () => { calls.push('protocol close'); } });
    l.pause(); // before start: nothing to pause
    await l.start([]);
    l.pause();
    await l.close();
    expect(calls).toEqual(['pause', 'protocol close', 'close']);
  });

  it('sends toward a client through the protocol, with its refusal as the answer, and shows the tunnel in status', async () => {
    const { l } = listener();
    const { p, sent } = protocol(() => []);
    l.useProtocol(p);
    await l.start([]);
    expect(l.transmit({ address: '10.8.0.2', port: 1000, peerKey: 'KEY' }, Buffer.from('r'))).toBeUndefined();
    expect(l.transmit({ address: '10.8.0.3', port: 0 }, Buffer.from('s'))).toBe('no-session');
    expect(sent).toEqual([[{ address: '10.8.0.2', port: 1000, peerKey: 'KEY' }, 'r', t0], [{ address: '10.8.0.3', port: 0 }, 's', t0]]);
    expect(l.status()).toMatchObject({ protocol: 'test', tunnel: { peers: 1, now: t0 } });
  });
});
