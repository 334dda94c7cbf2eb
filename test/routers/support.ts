/** Real UDP backends on 127.0.0.1 / ::1 and a udp destination with a router, for the router tests. */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import '../../app/builtin-kinds.js';
import { createUdpDestination, type UdpDestination, type UdpOptions } from '../../destinations/udp/index.js';
import { RecordingClients } from '../destinations-local/helpers.js';

export { packet, never, until, RecordingClients } from '../destinations-local/helpers.js';

export interface Seen { data: Buffer; port: number }
export interface Backend { socket: Socket; label: string; port: number; seen: Seen[]; close(): void }

const open: { close(): unknown }[] = [];

/** Closes every backend and destination opened since the last call (afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).reverse().map((o) => o.close()));
}

/** A UDP backend that records what it sees and, unless `silent`, answers "<id>:<data>". */
export async function backend(id: string, opts: { host?: string; silent?: boolean } = {}): Promise<Backend> {
  const host = opts.host ?? '127.0.0.1';
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.bind(0, host);
  await once(socket, 'listening');
  const seen: Seen[] = [];
  socket.on('message', (msg, rinfo) => {
    seen.push({ data: msg, port: rinfo.port });
    if (!opts.silent) socket.send(Buffer.concat([Buffer.from(`${id}:`), msg]), rinfo.port, rinfo.address);
  });
  const port = socket.address().port;
  let closed = false;
  const b = { socket, seen, port, label: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, close: () => { if (!closed) { closed = true; socket.close(); } } };
  open.push(b);
  return b;
}

/** A port nobody listens on (bound, then closed): datagrams to it draw ICMP port unreachable. */
export async function deadPort(): Promise<string> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  s.close();
  return `127.0.0.1:${port}`;
}

export interface Counted { drops: Record<string, number>; events: Record<string, number> }

export async function proxy(options: UdpOptions, clients = new RecordingClients(), upstream: 'auto' | 'native' | 'dgram' = 'auto'): Promise<{ d: UdpDestination; clients: RecordingClients; counted: Counted }> {
  const counted: Counted = { drops: {}, events: {} };
  const d = await createUdpDestination('udp1', options, {
    logger: pino({ level: 'silent' }), clients, baseDir: '/',
    countDrop: (r, n = 1) => { counted.drops[r] = (counted.drops[r] ?? 0) + n; },
    countEvent: (e, n = 1) => { counted.events[e] = (counted.events[e] ?? 0) + n; },
  }, upstream);
  open.push({ close: () => d.close?.() });
  return { d, clients, counted };
}

/** Writes a router module into a fresh directory; returns its path. */
export function routerModule(source: string, ext = 'mjs'): string {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-router-'));
  const file = join(dir, `router.${ext}`);
  writeFileSync(file, source);
  return file;
}
