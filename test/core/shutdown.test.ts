/**
 * Shutdown and signals: a gateway stops reading and closes its packet sources before it drains, and
 * the process's signal handlers pass the configured deadline and exit at once on a second signal.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DestinationRunner } from '../../gateway/fanout/runner.js';
import { pino } from 'pino';
import { Type } from '@sinclair/typebox';
import { closed, release } from '../support/memory-destination.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { handleSignals, type RunningGateway } from '../../app/run.js';
import { definePacketSourceKind } from '../../gateway/extension/packet-source.js';
import { registerDestinationKind, registerPacketSourceKind } from '../../gateway/extension/registry.js';
import { defineDestinationKind } from '../../gateway/extension/destination.js';
import { dgramTransport } from '../../net/dgram.js';
import { nativeTransport } from '../../net/native.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import type { TransportFactory } from '../../gateway/extension/transport.js';

const log = pino({ level: 'silent' });
/** A logger whose lines (level, message, fields) the test reads. */
function capture(): { logger: import('pino').Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: pino({ level: 'info' }, { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } }), lines };
}
/** What the test packet sources were asked to do, in order, with the gateway's state at the time. */
const sourceLog: string[] = [];
registerPacketSourceKind(definePacketSourceKind({
  type: 'test-recording-source',
  options: Type.Object({}),
  load: async () => (name) => ({
    start: async () => { sourceLog.push(`start ${name}`); },
    close: async () => { sourceLog.push(`close ${name}`); },
  }),
}));

// A destination without close() (it is optional): shutdown must not need one.
registerDestinationKind(defineDestinationKind({
  type: 'test-no-close',
  options: Type.Object({}),
  load: async () => (name) => ({ kind: 'test-no-close', name, sendBatch: (batch) => ({ outcomes: batch.map(() => ({ status: 'delivered' as const })) }) }),
}));

const transports: [string, TransportFactory][] = [['dgram', dgramTransport]];
if (loadNativeAddon().addon) transports.push(['native', nativeTransport]);

let open: { close(): Promise<void> }[] = [];
const stalled: string[] = [];
afterEach(async () => { stalled.splice(0).forEach(release); await Promise.all(open.map((o) => o.close())); open = []; sourceLog.length = 0; });

let seq = 0;
async function stalledGateway(transport: TransportFactory, logger = log): Promise<{ gw: Gateway; prefix: string }> {
  const prefix = `shutdown${++seq}-`;
  const cfg = resolveConfig({
    secret: 'test-secret-0123456789abcdef', shutdownDeadlineMs: 10_000,
    listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: [{ type: 'memory', name: 'slow', prefix, mode: 'stall', batch: { lingerMs: 0 } }, { type: 'test-no-close', name: 'plain' }] }],
    packetSources: [{ type: 'test-recording-source', name: 's1' }, { type: 'test-recording-source', name: 's2' }],
  }, '/tmp');
  const gw = await createGateway(cfg, { logger, transport });
  open.push(gw);
  stalled.push(`${prefix}slow`);
  return { gw, prefix };
}

const metric = async (gw: Gateway, name: string, labels: Record<string, string>) => {
  const m = (await gw.metrics.registry.getSingleMetric(name)!.get()).values;
  return m.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
};

/** One full turn of the event loop (timers, poll, check): a socket still reading has read a datagram already queued on loopback. */
const loopTurn = () => new Promise((r) => setTimeout(() => setImmediate(r), 0));

describe.each(transports)('gateway shutdown (%s transport)', (_name, transport) => {
  it('stops reading and closes every packet source before it drains, then sends what was in flight', async () => {
    const { logger, lines } = capture();
    const { gw, prefix } = await stalledGateway(transport, logger);
    expect(sourceLog).toEqual(['start s1', 'start s2']);
    const c = await UdpClient.open(); open.push(c);
    await c.send('in-flight', gw.address().port);
    await eventually(async () => (await metric(gw, 'udpgw_packets_received_total', { listener: 'edge' })) === 1);
    const stopped = gw.shutdown();
    await loopTurn();
    expect(sourceLog).toEqual(['start s1', 'start s2', 'close s1', 'close s2']); // closed while the drain waits
    await c.send('while-draining', gw.address().port); // on loopback: queued on the listener's socket at once
    await loopTurn(); await loopTurn();
    expect(await metric(gw, 'udpgw_packets_received_total', { listener: 'edge' })).toBe(1);
    expect(await metric(gw, 'udpgw_drops_total', { where: 'edge', reason: 'no-destination-accepted' })).toBe(0);
    // Still draining: the stalled batch holds the drain, so destinations stay open and the socket bound.
    expect([gw.state, closed.has(`${prefix}slow`), gw.address().port > 0]).toEqual(['draining', false, true]);
    release(`${prefix}slow`);
    await stopped;
    expect([gw.state, closed.has(`${prefix}slow`)]).toEqual(['stopped', true]);
    expect(await metric(gw, 'udpgw_destination_delivered_total', { destination: 'edge/slow' })).toBe(1); // the in-flight packet, delivered before the stop
    const said = lines.filter((l) => l.msg === 'draining' || l.msg === 'stopped').map((l) => [l.level, l.msg, l.deadlineMs]);
    expect(said).toEqual([[30, 'draining', 10_000], [30, 'stopped', undefined]]);
  });

  it('logs "no" deadline when it waits for all in-flight work', async () => {
    const { logger, lines } = capture();
    const { gw } = await stalledGateway(transport, logger);
    await gw.shutdown(Infinity);
    expect(lines.find((l) => l.msg === 'draining')).toMatchObject({ deadlineMs: 'none' });
  });
});

describe('cluster', () => {
  it('a cluster node whose close fails is logged at warn, and the shutdown goes on to stopped', async () => {
    const { logger, lines } = capture();
    const { gw, prefix } = await stalledGateway(dgramTransport, logger);
    release(`${prefix}slow`);
    const order: string[] = [];
    // What a node whose Redis went away does on close (the real one: app/cluster-bus/node.ts).
    gw.cluster = { close: () => { order.push(`cluster close after ${sourceLog.at(-1)}`); return Promise.reject(new Error('redis gone')); } } as unknown as Gateway['cluster'];
    await gw.shutdown();
    expect(gw.state).toBe('stopped');
    expect(order).toEqual(['cluster close after close s2']);
    const said = lines.filter((l) => ['draining', 'cluster: close failed', 'stopped'].includes(l.msg as string)).map((l) => [l.level, l.msg, l.err]);
    expect(said).toEqual([[30, 'draining', undefined], [40, 'cluster: close failed', 'redis gone'], [30, 'stopped', undefined]]);
  });
});

describe('a failed start', () => {
  // A runner's drain closes its disk buffer; when a drain fails, the shutdown of a failed start
  // closes the buffers itself, so the lock is released and the next start (a retry, a reload)
  // can take the directory.
  it('closes the disk buffers it opened even when a runner\'s drain fails: the next start can take the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-failed-start-'));
    const taken = createSocket('udp4');
    taken.bind(0, '127.0.0.1');
    await once(taken, 'listening');
    const cfg = (secondPort: number) => resolveConfig({
      secret: 'test-secret-0123456789abcdef',
      listeners: [
        { name: 'edge', host: '127.0.0.1', port: 0, destinations: [{ type: 'test-no-close', name: 'kept', buffer: { disk: { path: join(dir, 'buffer') } } }] },
        { name: 'second', host: '127.0.0.1', port: secondPort, destinations: [{ type: 'test-no-close', name: 'plain' }] },
      ],
    }, dir);
    const drain = vi.spyOn(DestinationRunner.prototype, 'drain').mockRejectedValueOnce(new Error('drain failed'));
    try {
      const err = await createGateway(cfg(taken.address().port), { logger: log, transport: dgramTransport }).catch((e: Error) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('UGW_ERR_LISTENER_BIND');
      expect(drain).toHaveBeenCalledTimes(2); // both listeners' runners; the first (with the buffer) fails
    } finally { drain.mockRestore(); taken.close(); }
    expect(existsSync(join(dir, 'buffer', 'lock'))).toBe(false);
    const gw = await createGateway(cfg(0), { logger: log, transport: dgramTransport });
    open.push(gw);
    expect(gw.state).toBe('ready');
    expect(existsSync(join(dir, 'buffer', 'lock'))).toBe(true);
  });
});

describe('signal handling', () => {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'];
  let saved: Map<NodeJS.Signals, ((...a: unknown[]) => void)[]>;
  let lines: Record<string, unknown>[] = [];
  const said = () => lines.map((l) => [l.level, l.msg, l.signal, (l.err as { message?: string } | undefined)?.message]);
  // The handlers are process-wide: the test's own replace whatever the runner installed, and are removed after.
  function install(deadlineMs: number, stop: (deadline?: number) => Promise<void>, reloads: string[] = []) {
    saved = new Map(signals.map((s) => [s, process.rawListeners(s) as ((...a: unknown[]) => void)[]]));
    for (const s of signals) process.removeAllListeners(s);
    const exits: number[] = [];
    const reload = async (reason: string) => { reloads.push(reason); };
    const running = { gateway: { config: { shutdownDeadlineMs: deadlineMs } }, stop, reload } as unknown as RunningGateway;
    lines = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } });
    handleSignals(running, logger, (code) => { exits.push(code); });
    return exits;
  }
  afterEach(() => {
    for (const s of signals) { process.removeAllListeners(s); for (const f of saved.get(s) ?? []) process.on(s, f); }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s drains within shutdownDeadlineMs, then exits 0', async (signal) => {
    const deadlines: (number | undefined)[] = [];
    const exits = install(4321, async (d) => { deadlines.push(d); });
    process.emit(signal);
    await eventually(() => exits.length === 1);
    expect([deadlines, exits]).toEqual([[4321], [0]]);
    expect(said()).toEqual([[30, 'shutting down', signal, undefined]]);
  });

  it('SIGQUIT waits for all in-flight work (no deadline)', async () => {
    const deadlines: (number | undefined)[] = [];
    const exits = install(4321, async (d) => { deadlines.push(d); });
    process.emit('SIGQUIT');
    await eventually(() => exits.length === 1);
    expect([deadlines, exits]).toEqual([[Infinity], [0]]);
  });

  it('a second signal during the drain exits 1 at once; the drain is started once', async () => {
    const deadlines: (number | undefined)[] = [];
    let finish!: () => void;
    const exits = install(4321, (d) => { deadlines.push(d); return new Promise<void>((r) => { finish = r; }); });
    process.emit('SIGTERM');
    process.emit('SIGINT');
    expect([deadlines, exits]).toEqual([[4321], [1]]);
    finish();
    await eventually(() => exits.length === 2);
    expect(exits).toEqual([1, 0]);
    expect(said()).toEqual([[30, 'shutting down', 'SIGTERM', undefined], [40, 'second signal: exiting now', 'SIGINT', undefined]]);
  });

  it('a failed shutdown exits 1', async () => {
    const exits = install(10, async () => { throw new Error('stuck'); });
    process.emit('SIGTERM');
    await eventually(() => exits.length === 1);
    expect(exits).toEqual([1]);
    expect(said()).toEqual([[30, 'shutting down', 'SIGTERM', undefined], [50, 'shutdown failed', undefined, 'stuck']]);
  });

  it('SIGHUP reloads (the reason says so), as often as it comes, until a stop signal; never after one', async () => {
    const reloads: string[] = [];
    let finish!: () => void;
    const exits = install(4321, () => new Promise<void>((r) => { finish = r; }), reloads);
    process.emit('SIGHUP');
    process.emit('SIGHUP');
    expect([reloads, exits]).toEqual([['SIGHUP', 'SIGHUP'], []]);
    process.emit('SIGTERM');
    process.emit('SIGHUP'); // while draining: no reload, and not a second stop signal either
    expect([reloads, exits]).toEqual([['SIGHUP', 'SIGHUP'], []]);
    finish();
    await eventually(() => exits.length === 1);
    expect(exits).toEqual([0]);
  });

  it('installs no SIGHUP handler on Windows (no such signal there: POST /v1/reload)', () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { ...platform, value: 'win32' });
    try {
      install(4321, async () => {});
    } finally { Object.defineProperty(process, 'platform', platform); }
    expect([process.listenerCount('SIGHUP'), process.listenerCount('SIGTERM')]).toEqual([0, 1]);
  });
});
