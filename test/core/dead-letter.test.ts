/** A dead-letter target is a destination of any kind, configured, limited, retried and closed like one. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { recorded } from '../support/memory-destination.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { createDeadLetter, DeadLetterError, writeCounted } from '../../gateway/fanout/dead-letter.js';
import { createFileDestination } from '../../destinations/file/index.js';
import { ConfigError } from '../../gateway/errors.js';
import { delivered, failed, type DeliveryOutcome, type Destination } from '../../gateway/extension/destination.js';
import type { Packet } from '../../gateway/packet.js';
import { makePacket } from '../contract/packets.js';

const log = pino({ level: 'silent' });
const once = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
let open: { close(): Promise<void> }[] = [];
afterEach(async () => { await Promise.all(open.map((o) => o.close())); open = []; });

let seq = 0;
async function gateway(deadLetter: Record<string, unknown>): Promise<{ gw: Gateway; prefix: string }> {
  const prefix = `dl${++seq}-`;
  const cfg = resolveConfig({
    secret: 'test-secret-0123456789abcdef',
    listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: [
      { name: 'down', type: 'memory', prefix, mode: 'fail', retry: { maxAttempts: 1 }, batch: { lingerMs: 0 }, deadLetter },
    ] }],
  }, '/tmp');
  const gw = await createGateway(cfg, { logger: log });
  open.push(gw);
  return { gw, prefix };
}

const counter = async (gw: Gateway, name: string, labels: Record<string, string> = {}) =>
  (await gw.metrics.registry.getSingleMetric(name)!.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);

describe('dead-letter targets', () => {
  it('any destination kind serves: a failed packet reaches a memory destination with Destination and Reason', async () => {
    const { gw, prefix } = await gateway({ type: 'memory', prefix: 'target-' });
    const c = await UdpClient.open(); open.push(c);
    await c.send('lost-1', gw.address().port);
    await eventually(() => (recorded.get(`target-down.dead-letter`)?.flat().length ?? 0) === 1);
    const [p] = recorded.get('target-down.dead-letter')!.flat();
    expect(p!.data.toString()).toBe('lost-1');
    expect(p!.annotations).toMatchObject({ Destination: 'edge/down', Reason: expect.stringMatching(/destination is down/) });
    expect(recorded.get(`${prefix}down`)!.flat().map((x) => x.data.toString())).toEqual(['lost-1']);
    expect(await counter(gw, 'udpgw_destination_dead_lettered_total')).toBe(1);
  });

  it('the file shorthand and the typed form write the same NDJSON line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-dl-'));
    for (const deadLetter of [{ file: join(dir, 'a.ndjson') }, { type: 'file', path: join(dir, 'b.ndjson') }]) {
      const { gw } = await gateway(deadLetter);
      const c = await UdpClient.open(); open.push(c);
      await c.send('x', gw.address().port);
      await eventually(() => { try { return readFileSync(Object.values(deadLetter).at(-1) as string, 'utf8').length > 0; } catch { return false; } });
    }
    const [a, b] = ['a', 'b'].map((f) => JSON.parse(readFileSync(join(dir, `${f}.ndjson`), 'utf8')) as Record<string, unknown>);
    expect(Object.keys(a!).sort()).toEqual(Object.keys(b!).sort());
    expect([a!.Destination, b!.Destination, a!.Data]).toEqual(['edge/down', 'edge/down', Buffer.from('x').toString('base64')]);
  });

  it('refuses keys a dead-letter does not use, and a dead-letter of an unknown kind, naming the path', () => {
    const problems = (deadLetter: unknown) => {
      try {
        resolveConfig({ listeners: [{ name: 'e', port: 0, destinations: [{ type: 'memory', deadLetter }] }] }, '/tmp');
        return [];
      } catch (e) { return (e as ConfigError).problems.map((p) => `${p.path} ${p.message}`); }
    };
    expect(problems({ type: 'file', path: 'x', batch: { maxPackets: 1 } })).toEqual([expect.stringMatching(/^\/listeners\/0\/destinations\/0\/deadLetter\/batch not used by a dead-letter/)]);
    expect(problems({ type: 'nope' })).toEqual([expect.stringMatching(/^\/listeners\/0\/destinations\/0\/deadLetter\/type unknown destination type "nope"/)]);
    expect(problems({ type: 'file' })).toEqual([expect.stringMatching(/^\/listeners\/0\/destinations\/0\/deadLetter\/path is required/)]);
  });

  it('writes a packet the target refuses as oversize again without its data, and counts what is still lost', async () => {
    const written: Record<string, unknown>[] = [];
    const target: Destination = {
      kind: 't', name: 't', limits: { maxPacketBytes: 10 },
      sendBatch: async (batch) => ({ outcomes: batch.map((p) => { written.push({ ...p.annotations, bytes: p.data.length }); return p.data.toString() === 'x' ? failed('AccessDenied') : delivered; }) }),
    };
    const dl = createDeadLetter(target, 'edge/d', once, () => Date.UTC(2026, 0, 1));
    await dl.write([makePacket(Buffer.from('ok')), makePacket(Buffer.alloc(50))], 'why');
    expect(written).toEqual([
      { Destination: 'edge/d', Reason: 'why', FailedAt: '2026-01-01T00:00:00.000Z', bytes: 2 },
      { Destination: 'edge/d', Reason: 'why', FailedAt: '2026-01-01T00:00:00.000Z', DataOmitted: true, DataBytes: 50, bytes: 0 },
    ]);
    const err = await dl.write([makePacket(Buffer.from('x')), makePacket(Buffer.from('y'))], 'why').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadLetterError);
    expect([(err as DeadLetterError).failed, (err as DeadLetterError).total]).toEqual([1, 2]);
  });

  it('concurrent dead-letter writes to a file never interleave inside a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-dl-'));
    const file = createFileDestination('dl', { path: join(dir, 'dl.ndjson') }, { logger: log, clients: { replyByTag: () => true, sendToClient: () => {} }, baseDir: dir });
    const dl = createDeadLetter(file, 'edge/d', once);
    const big = (i: number) => makePacket(Buffer.alloc(200_000, i));
    await Promise.all(Array.from({ length: 40 }, (_, i) => dl.write([big(i), big(i + 100)], `r${i}`)));
    await file.close!();
    const lines = readFileSync(join(dir, 'dl.ndjson'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(80);
    const parsed = lines.map((l) => JSON.parse(l) as { Reason: string; Data: string });
    expect(new Set(parsed.map((p) => `${p.Reason}:${Buffer.from(p.Data, 'base64')[0]}`)).size).toBe(80);
  });

  it('at shutdown, packets never sent are dead-lettered and counted once (not also as failed or shutdown drops)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-dl-'));
    const prefix = `dl${++seq}-`;
    const cfg = resolveConfig({ secret: 'test-secret-0123456789abcdef', listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: [
      { name: 'stuck', type: 'memory', prefix, mode: 'stall', inFlight: 1, batch: { maxPackets: 1, lingerMs: 0 }, deadLetter: { file: join(dir, 'dl.ndjson') } },
      { name: 'bare', type: 'memory', prefix, mode: 'stall', inFlight: 1, batch: { maxPackets: 1, lingerMs: 0 } },
    ] }] }, '/tmp');
    const gw = await createGateway(cfg, { logger: log });
    const c = await UdpClient.open(); open.push(c);
    for (let i = 0; i < 3; i++) await c.send(`p${i}`, gw.address().port);
    await eventually(() => gw.runners.every((r) => r.queued === 2));
    await gw.shutdown(100);
    expect(await counter(gw, 'udpgw_destination_dead_lettered_total', { destination: 'edge/stuck' })).toBe(2);
    expect(await counter(gw, 'udpgw_destination_failed_total', { destination: 'edge/stuck' })).toBe(0);
    expect(await counter(gw, 'udpgw_drops_total', { where: 'edge/stuck', reason: 'shutdown' })).toBe(0);
    expect(await counter(gw, 'udpgw_drops_total', { where: 'edge/bare', reason: 'shutdown' })).toBe(2);
    expect(await counter(gw, 'udpgw_destination_failed_total', { destination: 'edge/bare' })).toBe(0);
  });
});

describe('dead-letter writes, counted', () => {
  const sink = (answer: (p: Packet) => DeliveryOutcome) => {
    const written: Record<string, unknown>[] = [];
    const target: Destination = {
      kind: 't', name: 't', limits: { maxPacketBytes: 10 },
      sendBatch: async (batch) => ({ outcomes: batch.map((p) => { written.push({ ...p.annotations, bytes: p.data.length }); return answer(p); }) }),
    };
    return { target, written };
  };

  it('names what it could not write: how many of how many, and the first reason', () => {
    const e = new DeadLetterError(2, 5, 'AccessDenied');
    expect([e.name, e.message, e.failed, e.total]).toEqual(['DeadLetterError', 'dead-letter: 2 of 5 not written (AccessDenied)', 2, 5]);
  });

  it('retries without data only the packets refused as oversize; another refusal is lost at once', async () => {
    const { target, written } = sink((p) => (p.data.toString() === 'denied' ? { status: 'failed', reason: 'AccessDenied' } : { status: 'delivered' }));
    const dl = createDeadLetter(target, 'edge/d', once, () => Date.UTC(2026, 0, 1));
    const err = await dl.write([makePacket(Buffer.from('denied')), makePacket(Buffer.alloc(50))], 'why').catch((e: unknown) => e);
    expect([(err as DeadLetterError).failed, (err as DeadLetterError).total, (err as Error).message]).toEqual([1, 2, 'dead-letter: 1 of 2 not written (AccessDenied)']);
    expect(written.map((w) => [w.bytes, w.DataOmitted])).toEqual([[6, undefined], [0, true]]);
  });

  it('a packet still refused without its data is lost too; a long reason is cut to 1000 characters in the data-less line', async () => {
    const { target, written } = sink(() => ({ status: 'failed', reason: 'oversize' }));
    const dl = createDeadLetter(target, 'edge/d', once, () => Date.UTC(2026, 0, 1));
    const reason = 'r'.repeat(1500);
    const err = await dl.write([makePacket(Buffer.alloc(50))], reason).catch((e: unknown) => e);
    expect([(err as DeadLetterError).failed, (err as DeadLetterError).total]).toEqual([1, 1]);
    expect(written.map((w) => (w.Reason as string).length)).toEqual([1000]); // the 50 bytes never reach the target: withLimits refuses them as oversize
  });

  it('writeCounted: counts written and lost, and logs what was lost once', async () => {
    const counts = { written: 0, lost: 0 };
    const c = { written: { inc: (n: number) => { counts.written += n; } }, lost: { inc: (n: number) => { counts.lost += n; } } };
    const errors: unknown[] = [];
    const logger = { error: (o: unknown, msg: string) => { errors.push([o, msg]); } } as unknown as typeof log;
    const partial = new DeadLetterError(1, 3, 'AccessDenied');
    await writeCounted({ write: async () => { throw partial; } }, [makePacket(Buffer.from('a')), makePacket(Buffer.from('b')), makePacket(Buffer.from('c'))], 'why', c, logger);
    expect(counts).toEqual({ written: 2, lost: 1 });
    expect(errors).toEqual([[{ packets: 1, err: partial }, 'dead-letter write failed; packets lost']]);
    await writeCounted({ write: async () => {} }, [makePacket(Buffer.from('d'))], 'why', c, logger);
    expect(counts).toEqual({ written: 3, lost: 1 });
  });
});
