/**
 * New sessions per second through the udp destination, by router: `static` (the answer at once),
 * `rules`, and `redis` (one GET per new client against the Redis on 127.0.0.1:6379, under a key
 * unique to the run, removed after). Each new client sends one datagram; a session counts when it
 * is open (its backend decided and its upstream socket opened); the sessions are closed between
 * routers. Wall time, one process, native session sockets where the addon loads.
 *   node --import tsx bench/router-sessions.ts [--sessions=5000] [--rounds=3]
 * Loopback only; bounded in count (at most 20,000 sessions a round) and time (60 s a round).
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import '../app/builtin-kinds.js';
import { createUdpDestination, type UdpOptions } from '../destinations/udp/index.js';
import type { Packet } from '../gateway/packet.js';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const SESSIONS = Math.min(Number(arg('sessions', '5000')), 20_000);
const ROUNDS = Math.min(Number(arg('rounds', '3')), 10);
const logger = pino({ level: 'silent' });

async function round(options: UdpOptions): Promise<number> {
  const d = await createUdpDestination('bench', { ...options, maxSessions: SESSIONS + 10 }, { logger, clients: { replyByTag: () => true, sendToClient: () => {} }, baseDir: '/' });
  const data = Buffer.from('x');
  const packets: Packet[] = Array.from({ length: SESSIONS }, (_, i) => {
    const remote = { address: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 10_000 + (i % 50_000) };
    return { tag: 't', listener: 'bench', remote, local: { address: '127.0.0.1', port: 5555 }, receivedAt: 0, data, formatter: 'base64' };
  });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < packets.length; i += 100) await d.sendBatch(packets.slice(i, i + 100), new AbortController().signal);
  const deadline = Date.now() + 60_000;
  while (d.sessions.list().filter((s) => s.state === 'open').length < SESSIONS) {
    if (Date.now() > deadline) throw new Error(`only ${d.sessions.list().filter((s) => s.state === 'open').length} of ${SESSIONS} sessions open after 60 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await d.close?.();
  return SESSIONS / seconds;
}

async function main(): Promise<void> {
  const sink = createSocket('udp4');
  sink.bind(0, '127.0.0.1');
  await once(sink, 'listening');
  const backend = `127.0.0.1:${sink.address().port}`;
  const key = `udpgw-bench:${randomUUID()}`;
  const admin = new Redis('redis://127.0.0.1:6379');
  await admin.set(`${key}:backend`, backend);
  const routers: [string, UdpOptions][] = [
    ['static', { backends: [backend] }],
    ['rules', { router: { type: 'rules', pools: { a: { backends: [backend] } }, rules: [{ expression: '${data[0:1]:hex}', equals: '78', pool: 'a' }] } }],
    ['redis', { router: { type: 'redis', backendKey: `${key}:backend`, disconnectChannel: `${key}:disconnect` } }],
  ];
  const results = new Map<string, number[]>(routers.map(([n]) => [n, []]));
  try {
    for (let r = 0; r < ROUNDS; r++) for (const [name, o] of routers) results.get(name)!.push(await round(o)); // interleaved
  } finally {
    await admin.del(`${key}:backend`);
    admin.disconnect();
    sink.close();
  }
  console.log(`new sessions per second, ${SESSIONS} new clients a round, ${ROUNDS} rounds interleaved (median, min-max)`);
  console.log('| router | sessions/s |\n| --- | ---: |');
  for (const [name, v] of results) {
    const s = [...v].sort((a, b) => a - b);
    console.log(`| ${name} | ${Math.round(s[s.length >> 1]!)} (${Math.round(s[0]!)}–${Math.round(s[s.length - 1]!)}) |`);
  }
}

await main();
