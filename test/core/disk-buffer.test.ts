/**
 * The disk buffer: a real HTTP destination stopped and restarted; packets compared one by one. Nothing
 * accepted is lost or dead-lettered during the outage, and it arrives in order after recovery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { HttpSink } from '../support/http-sink.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { DiskBuffer } from '../../gateway/fanout/disk-buffer.js';
import { makePacket } from '../contract/packets.js';

const log = pino({ level: 'silent' });
let open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { for (const o of open.splice(0).reverse()) await o.close(); });

const counter = async (gw: Gateway, name: string, labels: Record<string, string> = {}) =>
  (await gw.metrics.registry.getSingleMetric(name)!.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);

function config(port: number, dir: string, extra: Record<string, unknown> = {}) {
  return resolveConfig({ secret: 'disk-buffer-secret-0123456789', listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, receiveBufferBytes: 4_194_304, destinations: [{
    name: 'web', type: 'http', url: `http://127.0.0.1:${port}/`, timeoutMs: 1000, batch: { maxPackets: 20, lingerMs: 0 }, queue: { maxPackets: 50 }, inFlight: 1, // batches in flight at once may overtake each other
   
    retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 50 }, deadLetter: { file: join(dir, 'dead.ndjson') },
    buffer: { disk: { path: join(dir, 'buffer'), maxBytes: 10_000_000, fsync: 'interval', fsyncIntervalMs: 100 } }, ...extra,
  }] }] }, dir);
}

async function sendAll(c: UdpClient, port: number, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    await c.send(`p${i}`, port);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

describe('disk buffer', () => {
  it('an HTTP destination stopped and restarted: every packet delivered once, in order, none dead-lettered', async () => {
    const sink = new HttpSink(); await sink.start(); open.push(sink);
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-buf-'));
    const gw = await createGateway(config(sink.port, dir), { logger: log });
    const c = await UdpClient.open(); open.push(c, gw);
    const port = gw.address().port;
    await sendAll(c, port, 0, 200);
    await eventually(() => sink.received.length === 200);
    await sink.stop();
    await sendAll(c, port, 200, 600); // the outage: more than the memory queue holds
    await eventually(async () => (await counter(gw, 'udpgw_destination_buffered_total')) >= 350, 10_000);
    expect(gw.runners[0]!.status()).toMatchObject({ buffer: { spilling: true } });
    await sink.start();
    await sendAll(c, port, 600, 800);
    await eventually(() => sink.received.length >= 800, 20_000);
    expect(sink.received).toEqual(expected(800));
    expect(await counter(gw, 'udpgw_destination_dead_lettered_total')).toBe(0);
    expect(await counter(gw, 'udpgw_drops_total')).toBe(0);
    expect(await counter(gw, 'udpgw_destination_failed_total')).toBe(0);
    await eventually(() => gw.runners[0]!.status().buffer !== undefined && (gw.runners[0]!.status().buffer as { spilling: boolean }).spilling === false);
    expect(readdirSync(join(dir, 'buffer')).filter((f) => f.endsWith('.seg'))).toEqual([]);
  });

  it('a graceful stop mid-outage keeps the queue and the disk for the next start, which delivers them in order', async () => {
    const sink = new HttpSink(); await sink.start(); open.push(sink);
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-buf-'));
    const gw = await createGateway(config(sink.port, dir), { logger: log });
    const c = await UdpClient.open(); open.push(c);
    await sendAll(c, gw.address().port, 0, 100);
    await eventually(() => sink.received.length === 100);
    await sink.stop();
    await sendAll(c, gw.address().port, 100, 400);
    await eventually(async () => (await counter(gw, 'udpgw_packets_received_total')) === 400);
    await gw.shutdown(200);
    expect(await counter(gw, 'udpgw_destination_dead_lettered_total')).toBe(0);
    expect(await counter(gw, 'udpgw_drops_total')).toBe(0);
    await sink.start();
    const again = await createGateway(config(sink.port, dir), { logger: log });
    open.push(again);
    await eventually(() => sink.received.length >= 400, 20_000);
    expect(sink.received).toEqual(expected(400));
  });

  it('past maxBytes, packets go to the dead-letter, counted; the buffer keeps what it took', async () => {
    const sink = new HttpSink(); await sink.start(); open.push(sink);
    await sink.stop();
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-buf-'));
    const gw = await createGateway(config(sink.port, dir, { buffer: { disk: { path: join(dir, 'buffer'), maxBytes: 65_536 } } }), { logger: log });
    const c = await UdpClient.open(); open.push(c, gw);
    await sendAll(c, gw.address().port, 0, 1000);
    await eventually(async () => (await counter(gw, 'udpgw_destination_buffered_total')) + (await counter(gw, 'udpgw_destination_dead_lettered_total')) === 1000, 10_000);
    expect(await counter(gw, 'udpgw_destination_dead_lettered_total')).toBeGreaterThan(0);
    expect(await counter(gw, 'udpgw_destination_buffered_total')).toBeGreaterThan(100);
  });
});

describe('disk buffer paths', () => {
  it('a cluster worker uses <path>/worker-<slot>; two destinations on one path are refused, naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-buf-'));
    const gw = await createGateway(config(1, dir), { logger: log, workerSlot: 3 });
    open.push(gw);
    expect(readdirSync(join(dir, 'buffer'))).toEqual(['worker-3']);
    const err = await createGateway(config(1, dir), { logger: log, workerSlot: 3 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/in use by process \d+: give each destination \(and each worker\) its own buffer\.disk\.path/);
  });
});

describe('DiskBuffer', () => {
  it('reads back in order across segments and a prepended segment, at least once until commit, and after a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-buf-'));
    const cfg = { path: dir, maxBytes: 10_000_000, fsync: 'always' as const, fsyncIntervalMs: 1000, segmentBytes: 2_000 };
    const b = DiskBuffer.open(cfg);
    for (let i = 10; i < 60; i++) expect(b.append(makePacket(Buffer.from(`d${i}`)))).toBe(true);
    expect(await b.prepend(Array.from({ length: 10 }, (_, i) => makePacket(Buffer.from(`d${i}`))))).toBe(true);
    const first = await b.read(7);
    expect((await b.read(7)).map((p) => p.data.toString())).toEqual(first.map((p) => p.data.toString())); // not committed: the same again
    await b.commit();
    expect(() => DiskBuffer.open(cfg)).toThrow(/in use by process/);
    await b.close();
    const again = DiskBuffer.open(cfg);
    const got = [...first];
    for (let r = await again.read(7); r.length; r = await again.read(7)) { got.push(...r); await again.commit(); }
    expect(got.map((p) => p.data.toString())).toEqual(Array.from({ length: 60 }, (_, i) => `d${i}`));
    expect(again.empty).toBe(true);
    await again.close();
  });
});

describe('disk buffer across a kill -9', () => {
  /** Records in the buffer's segment files (headers only; a torn tail counts as nothing). */
  function recordsOnDisk(dir: string): number {
    let n = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.seg'))) {
      const b = readFileSync(join(dir, f));
      for (let at = 0; at + 8 <= b.length && at + 8 + b.readUInt32BE(at) <= b.length; at += 8 + b.readUInt32BE(at)) n++;
    }
    return n;
  }

  async function child(configFile: string): Promise<{ proc: ChildProcess; port: number }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'test/support/gateway-child.ts', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.split('\n')[0]!); });
      proc.once('exit', (code) => reject(new Error(`gateway child exited with ${code}`)));
    });
    return { proc, port: (JSON.parse(line) as { udp: number }).udp };
  }

  const kill9 = (proc: ChildProcess) => new Promise<void>((r) => { proc.once('exit', () => r()); proc.kill('SIGKILL'); });

  it('the gateway killed mid-outage and restarted: what was on disk is delivered, in order, once; only an unwritten tail may be lost', async () => {
    const sink = new HttpSink(); await sink.start(); open.push(sink);
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-kill-'));
    const configFile = join(dir, 'gateway.json');
    writeFileSync(configFile, JSON.stringify({ secret: 'disk-buffer-secret-0123456789', admin: { enabled: false }, listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, receiveBufferBytes: 4_194_304, destinations: [{
      name: 'web', type: 'http', url: `http://127.0.0.1:${sink.port}/`, timeoutMs: 1000, inFlight: 1, batch: { maxPackets: 20, lingerMs: 0 }, queue: { maxPackets: 50 },
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 50 }, buffer: { disk: { path: 'buffer', fsync: 'interval', fsyncIntervalMs: 100 } },
    }] }] }));
    const first = await child(configFile);
    const c = await UdpClient.open(); open.push(c);
    try {
      await sendAll(c, first.port, 0, 100);
      await eventually(() => sink.received.length === 100, 10_000);
      await sink.stop();
      await sendAll(c, first.port, 100, 500);
      await eventually(() => recordsOnDisk(join(dir, 'buffer')) === 400, 10_000); // written: survives the process
      await sendAll(c, first.port, 500, 600); // and kill it while these are being written
      await eventually(() => recordsOnDisk(join(dir, 'buffer')) >= 450, 10_000);
    } finally { await kill9(first.proc); }
    const onDisk = recordsOnDisk(join(dir, 'buffer'));
    await sink.start();
    const second = await child(configFile);
    try {
      await eventually(() => sink.received.length >= 100 + onDisk, 20_000);
      await sendAll(c, second.port, 600, 650); // and new packets after the buffered ones
      await eventually(() => sink.received.includes('p649'), 10_000);
    } finally { await kill9(second.proc); }
    const got = sink.received;
    const lost = expected(600).filter((p) => !got.includes(p));
    // Nothing written was lost, nothing was sent twice, order kept; at most the unwritten tail is missing.
    expect(got.slice(0, 100 + onDisk)).toEqual(expected(100 + onDisk));
    expect(new Set(got).size).toBe(got.length);
    expect(got).toEqual([...expected(600).filter((p) => !lost.includes(p)), ...Array.from({ length: 50 }, (_, i) => `p${600 + i}`)]);
    expect(lost.every((p) => Number(p.slice(1)) >= 500)).toBe(true);
  });
});
