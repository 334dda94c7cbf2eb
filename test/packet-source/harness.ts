/**
 * Minimal wiring until the gateway's createGateway is used: a dgram socket as the "listener" (it marks
 * senders as seen, as a listener does), an Egress attached to it, and a UDP client that collects packets.
 */
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Egress } from '../../gateway/egress.js';
import { Metrics } from '../../gateway/metrics.js';
import { RecentClients } from '../../gateway/recent-clients.js';
import { createTagCodec, type TagCodec } from '../../gateway/tag.js';
import type { PacketSourceContext } from '../../gateway/extension/packet-source.js';

export interface Harness {
  readonly egress: Egress;
  readonly metrics: Metrics;
  readonly codec: TagCodec;
  readonly listener: Socket;
  readonly listenerPort: number;
  readonly ctx: PacketSourceContext;
  readonly received: { data: Buffer; rinfo: RemoteInfo }[];
  close(): Promise<void>;
}

export const silent = pino({ level: 'silent' });

export async function createHarness(opts: { allow?: string[]; name?: string } = {}): Promise<Harness> {
  const name = opts.name ?? 'edge';
  const metrics = new Metrics();
  const codec = createTagCodec({ secret: randomBytes(32), replyWindowMs: 60_000 });
  const egress = new Egress({ codec, metrics, logger: silent, allow: opts.allow ?? [] });
  const recentClients = new RecentClients(3_600_000, 1000);
  const listener = createSocket('udp4');
  const received: { data: Buffer; rinfo: RemoteInfo }[] = [];
  listener.on('message', (data, rinfo) => { received.push({ data, rinfo }); recentClients.touch(rinfo.address, Date.now()); });
  listener.bind(0, '127.0.0.1');
  await once(listener, 'listening');
  egress.attach({ name, formatter: 'base64', recentClients, family: 4, transmit: (remote, data) => { listener.send(data, remote.port, remote.address); return undefined; } });
  return {
    egress, metrics, codec, listener, listenerPort: listener.address().port, received,
    ctx: { logger: silent, egress, listener: name, baseDir: process.cwd(), metrics },
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  };
}

export interface UdpClient {
  readonly socket: Socket;
  readonly port: number;
  readonly inbox: { data: Buffer; rinfo: RemoteInfo }[];
  /** Send one datagram to the listener so the client is "seen", and wait until the listener got it. */
  hello(h: Harness): Promise<void>;
  /** Wait for n packets (bounded). */
  next(n?: number, timeoutMs?: number): Promise<{ data: Buffer; rinfo: RemoteInfo }[]>;
  close(): Promise<void>;
}

export async function createUdpClient(): Promise<UdpClient> {
  const socket = createSocket('udp4');
  const inbox: { data: Buffer; rinfo: RemoteInfo }[] = [];
  socket.on('message', (data, rinfo) => inbox.push({ data, rinfo }));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const port = socket.address().port;
  return {
    socket, port, inbox,
    async hello(h) {
      const before = h.received.length;
      socket.send(Buffer.from('hello'), h.listenerPort, '127.0.0.1');
      await waitFor(() => h.received.length > before);
    },
    async next(n = 1, timeoutMs = 3000) {
      await waitFor(() => inbox.length >= n, timeoutMs);
      return inbox.slice(0, n);
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Poll a condition every 10 ms, at most timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * What the client received before a marker: the marker is sent as a reply by tag from the same
 * listener socket (a tag needs no "seen" client), so anything sent earlier on that path arrives before
 * it. Waiting for the marker, instead of a fixed sleep, proves a refused send sent nothing, however
 * slow the machine: a late send would arrive before the marker and show in the answer.
 */
export async function receivedBeforeMarker(h: Harness, client: UdpClient, listener = 'edge'): Promise<string[]> {
  const marker = `marker-${randomBytes(4).toString('hex')}`;
  const sent = h.egress.reply(h.codec.encode(listener, { address: '127.0.0.1', port: client.port }, Date.now()), Buffer.from(marker));
  if (!sent.ok) throw new Error(`marker not sent: ${sent.reason}`);
  await waitFor(() => client.inbox.some((p) => p.data.toString() === marker));
  const all = client.inbox.map((p) => p.data.toString());
  return all.slice(0, all.indexOf(marker));
}
