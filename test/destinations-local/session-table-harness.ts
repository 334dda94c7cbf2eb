/** Shared by the udp session-table tests: real backends on 127.0.0.1, a router written here, tables with their clock in the test's hand. */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { pino } from 'pino';
import { vi } from 'vitest';
import { targetOf } from '../../destinations/udp/backends.js';
import { createUpstreams } from '../../destinations/udp/index.js';
import { SessionTable, type SessionTableOptions } from '../../destinations/udp/sessions.js';
import type { UpstreamKindName } from '../../destinations/udp/upstream.js';
import type { BatchResult, RouteDecision, Router, RouteRequest, RouteTarget } from '../../gateway/plugin-kit.js';
import { packet, RecordingClients } from './helpers.js';

export const nativeRequired = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
export const kinds: UpstreamKindName[] = ['native', 'dgram'];

export interface Seen { data: string; hex: string; port: number }
export interface Backend { socket: Socket; target: RouteTarget; seen: Seen[] }

const sockets: Socket[] = [];
const tables: SessionTable<unknown>[] = [];

/** After each test: real timers again, every table closed, every backend socket closed. */
export async function closeAll(): Promise<void> {
  vi.useRealTimers();
  await Promise.all(tables.splice(0).map((t) => t.close()));
  for (const s of sockets.splice(0)) s.close();
}

/** A bounded wait on a condition (no Date: the tests that fake timers fake only setInterval). */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met in time');
}

/** A UDP backend on 127.0.0.1 that records what it sees and, unless silent, answers "<id>:<data>". */
export async function backend(id: string, opts: { silent?: boolean } = {}): Promise<Backend> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const seen: Seen[] = [];
  socket.on('message', (msg, rinfo) => {
    seen.push({ data: msg.toString(), hex: msg.toString('hex'), port: rinfo.port });
    if (!opts.silent) socket.send(`${id}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  return { socket, seen, target: targetOf(`127.0.0.1:${socket.address().port}`)! };
}

/** A port nobody listens on: datagrams to it draw ICMP port unreachable. */
export async function deadTarget(): Promise<RouteTarget> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  s.close();
  return targetOf(`127.0.0.1:${port}`)!;
}

/** A router answering with the backend `pick` names (round robin over `targets` by default); records its calls. */
export function router(targets: RouteTarget[], pick?: (req: RouteRequest, n: number) => RouteDecision | Promise<RouteDecision>): Router & { calls: RouteRequest[]; started: string[]; ended: string[]; closed: number } {
  const r = {
    kind: 'test', calls: [] as RouteRequest[], started: [] as string[], ended: [] as string[], closed: 0,
    route(req: RouteRequest) {
      r.calls.push({ ...req, data: [...req.data], failed: [...req.failed] }); // the session's lists change later
      return pick ? pick(req, r.calls.length - 1) : { remote: targets[(r.calls.length - 1) % targets.length]! };
    },
    sessionStarted(s: { remote: { port: number }; backend: RouteTarget }) { r.started.push(`${s.remote.port}>${s.backend.label}`); },
    sessionEnded(s: { remote: { port: number }; backend: RouteTarget }) { r.ended.push(`${s.remote.port}>${s.backend.label}`); },
    async close() { r.closed++; },
  };
  return r;
}

export interface Made {
  t: SessionTable<unknown>;
  clients: RecordingClients;
  drops: Record<string, number>;
  events: [string, number][];
  clock: { now: number };
  upstreams: ReturnType<typeof createUpstreams>;
}

let kind: UpstreamKindName = 'dgram';
/** The upstream socket kind of the tables made from now on. */
export function useUpstream(k: UpstreamKindName): void { kind = k; }

export function table(opts: Partial<SessionTableOptions<unknown>> & { router: Router }): Made {
  const clients = new RecordingClients();
  const drops: Record<string, number> = {};
  const events: [string, number][] = [];
  const clock = { now: 1_000_000 };
  const upstreams = createUpstreams(kind);
  const t = new SessionTable<unknown>({
    upstreams, idleTimeoutMs: 60_000, maxSessions: 100, replies: true, clients, logger: pino({ level: 'silent' }),
    countDrop: (r, n = 1) => { drops[r] = (drops[r] ?? 0) + n; }, countEvent: (e, n = 1) => { events.push([e, n]); },
    hold: { maxPackets: 16, maxBytes: 65_536, timeoutMs: 5_000 }, connectTimeoutMs: 0, inactivityTimeoutMs: 0, failover: 0,
    resolve: (text) => targetOf(text)!, maxRequests: 0, maxReplies: 0, sticky: true, now: () => clock.now,
    ...opts,
  });
  tables.push(t);
  return { t, clients, drops, events, clock, upstreams };
}

export const c = (port: number, address = '127.0.0.1') => ({ address, port });

export async function relay(m: Made, items: [string, { address: string; port: number }][]): Promise<string[]> {
  const r = await (m.t.relay(items.map(([d, remote]) => packet(d, { remote })), m.clock.now) as BatchResult | Promise<BatchResult>);
  return r.outcomes.map((o) => o.status === 'delivered' ? 'delivered' : `${o.status}: ${(o as { reason?: string }).reason}`);
}

/** Whether a UDP port on 127.0.0.1 can be bound (its socket was closed). */
export async function portFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  const bound = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => resolve(true));
  });
  await new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } });
  return bound;
}
