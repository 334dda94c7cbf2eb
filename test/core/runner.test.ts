/** The fan-out runner driven directly: the synchronous-destination path and end-of-batch flush. */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DestinationRunner } from '../../gateway/fanout/runner.js';
import { Metrics } from '../../gateway/metrics.js';
import type { BatchResult, Destination } from '../../gateway/extension/destination.js';
import type { CommonDestinationConfig } from '../../gateway/config/schema.js';
import type { Packet } from '../../gateway/packet.js';
import { DeadLetterError, type DeadLetter } from '../../gateway/fanout/dead-letter.js';

const cfg = (lingerMs: number, maxAttempts = 1): CommonDestinationConfig => ({
  name: 'd', type: 'test', batch: { maxPackets: 100, maxBytes: 1 << 20, lingerMs }, queue: { maxPackets: 100 }, inFlight: 4,
  retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 2 },
} as CommonDestinationConfig);

const packet = (i: number): Packet => ({
  tag: `t${i}`, listener: 'edge', remote: { address: '127.0.0.1', port: 1000 + i }, local: { address: '127.0.0.1', port: 5555 },
  receivedAt: Date.now(), data: Buffer.from(`p${i}`), formatter: 'utf8',
});

function syncDestination(answer: (batch: readonly Packet[]) => BatchResult): Destination & { batches: string[][] } {
  const batches: string[][] = [];
  return { kind: 'test', name: 'd', batches, sendBatch: (batch) => { batches.push(batch.map((p) => p.data.toString())); return answer(batch); } };
}

const delivered = (batch: readonly Packet[]): BatchResult => ({ outcomes: batch.map(() => ({ status: 'delivered' as const })) });

async function counter(m: Metrics, name: string): Promise<number> {
  return (await m.registry.getSingleMetric(name)!.get()).values.reduce((a, v) => a + v.value, 0);
}

describe('DestinationRunner', () => {
  it('with lingerMs 0, flush() sends the queued packets within the call; a synchronous result leaves nothing in flight', async () => {
    const metrics = new Metrics();
    const dest = syncDestination(delivered);
    const r = new DestinationRunner('edge', dest, cfg(0), { metrics, logger: pino({ level: 'silent' }), onReplies: () => {} });
    for (let i = 0; i < 3; i++) r.enqueue(packet(i));
    expect(dest.batches).toEqual([]); // nothing sent per packet
    r.flush();
    expect(dest.batches).toEqual([['p0', 'p1', 'p2']]);
    expect(r.inFlight).toBe(0);
    expect(r.queued).toBe(0);
    expect(await counter(metrics, 'udpgw_destination_delivered_total')).toBe(3);
    r.flush(); // nothing pending: no empty batch
    expect(dest.batches).toHaveLength(1);
    await r.drain(100);
  });

  it('between hold() and flush() nothing is scheduled; flush() sends what the receive batch queued', async () => {
    const dest = syncDestination(delivered);
    const r = new DestinationRunner('edge', dest, cfg(0), { metrics: new Metrics(), logger: pino({ level: 'silent' }), onReplies: () => {} });
    r.hold();
    r.enqueue(packet(1)); r.enqueue(packet(2));
    await new Promise((res) => setImmediate(res)); // held: no setImmediate of its own sent them
    expect(dest.batches).toEqual([]);
    r.flush();
    expect(dest.batches).toEqual([['p1', 'p2']]);
    r.enqueue(packet(3)); // not held any more: sent within the turn as usual
    await new Promise((res) => setImmediate(res));
    expect(dest.batches).toEqual([['p1', 'p2'], ['p3']]);
  });

  it('without flush(), lingerMs 0 still sends within the turn (setImmediate)', async () => {
    const dest = syncDestination(delivered);
    const r = new DestinationRunner('edge', dest, cfg(0), { metrics: new Metrics(), logger: pino({ level: 'silent' }), onReplies: () => {} });
    r.enqueue(packet(1));
    await new Promise((res) => setImmediate(res));
    expect(dest.batches).toEqual([['p1']]);
  });

  it('a synchronous destination: replies, retries of retryable packets, and final failures all reported', async () => {
    const metrics = new Metrics();
    let attempt = 0;
    const dest = syncDestination((batch) => {
      attempt++;
      return {
        outcomes: batch.map((p, i) => (attempt === 1 && i === 1 ? { status: 'retryable' as const, reason: 'busy' } : i === 2 ? { status: 'failed' as const, reason: 'bad' } : { status: 'delivered' as const })),
        replies: attempt === 1 ? [{ tag: batch[0]!.tag, data: Buffer.from('r') }] : [],
      };
    });
    const replies: string[] = [];
    const r = new DestinationRunner('edge', dest, cfg(0, 3), { metrics, logger: pino({ level: 'silent' }), onReplies: (rs) => replies.push(...rs.map((x) => x.tag)) });
    for (let i = 0; i < 3; i++) r.enqueue(packet(i));
    r.flush();
    await r.drain(1000);
    expect(dest.batches).toEqual([['p0', 'p1', 'p2'], ['p1']]);
    expect(replies).toEqual(['t0']);
    expect(await counter(metrics, 'udpgw_destination_delivered_total')).toBe(2);
    expect(await counter(metrics, 'udpgw_destination_failed_total')).toBe(1);
    expect(await counter(metrics, 'udpgw_destination_retried_total')).toBe(1);
  });

  it('a synchronous destination that throws: the whole batch is retryable, then fails finally', async () => {
    const metrics = new Metrics();
    const dest: Destination = { kind: 'test', name: 'd', sendBatch: () => { throw new Error('down'); } };
    const r = new DestinationRunner('edge', dest, cfg(0, 2), { metrics, logger: pino({ level: 'silent' }), onReplies: () => {} });
    r.enqueue(packet(1)); r.enqueue(packet(2));
    r.flush();
    await r.drain(1000);
    expect(await counter(metrics, 'udpgw_destination_failed_total')).toBe(2);
    expect(await counter(metrics, 'udpgw_destination_batches_total')).toBe(2);
  });

  it.each([['synchronous', false], ['asynchronous', true]])('a throw while finishing a batch (%s destination) is logged and the runner goes on', async (_kind, async) => {
    const errors: string[] = [];
    const logger = { error: (_o: unknown, msg: string) => { errors.push(msg); } } as unknown as import('pino').Logger;
    const answer = (batch: readonly Packet[]): BatchResult => ({ outcomes: batch.map(() => ({ status: 'delivered' as const })), replies: [{ tag: 't', data: Buffer.from('r') }] });
    const dest: Destination = { kind: 'test', name: 'd', sendBatch: (batch) => (async ? Promise.resolve(answer(batch)) : answer(batch)) };
    let calls = 0;
    const r = new DestinationRunner('edge', dest, cfg(0), { metrics: new Metrics(), logger, onReplies: () => { calls++; throw new Error('egress broke'); } });
    r.enqueue(packet(1)); r.flush();
    await new Promise((res) => setImmediate(res));
    r.enqueue(packet(2)); r.flush();
    await r.drain(1000);
    expect(calls).toBe(2);
    expect(errors).toEqual(['finishing a batch failed', 'finishing a batch failed']);
    expect(r.inFlight).toBe(0);
  });

  it('refuses packets once draining, and sends what was queued before', async () => {
    const dest = syncDestination(delivered);
    const r = new DestinationRunner('edge', dest, cfg(1000), { metrics: new Metrics(), logger: pino({ level: 'silent' }), onReplies: () => {} });
    expect(r.enqueue(packet(1))).toBe(true);
    const drained = r.drain(1000);
    expect(r.enqueue(packet(2))).toBe(false);
    await drained;
    expect(r.enqueue(packet(3))).toBe(false);
    expect([dest.batches, r.queued]).toEqual([[['p1']], 0]);
  });

  async function drop(m: Metrics, reason: string): Promise<number> {
    return (await m.drops.get()).values.find((v) => v.labels.reason === reason && v.labels.where === 'edge/d')?.value ?? 0;
  }

  it('packets the dead-letter could not take are counted as dead-letter-failed drops, the others as dead-lettered', async () => {
    const metrics = new Metrics();
    const dest = syncDestination((batch) => ({ outcomes: batch.map(() => ({ status: 'failed' as const, reason: 'bad' })) }));
    const deadLetter: DeadLetter = { write: async (packets) => { throw new DeadLetterError(2, packets.length, 'AccessDenied'); } };
    const r = new DestinationRunner('edge', dest, cfg(0), { metrics, logger: pino({ level: 'silent' }), onReplies: () => {}, deadLetter });
    for (let i = 0; i < 3; i++) r.enqueue(packet(i));
    r.flush();
    await r.drain(1000);
    expect(await drop(metrics, 'dead-letter-failed')).toBe(2);
    expect(await counter(metrics, 'udpgw_destination_dead_lettered_total')).toBe(1);
    expect(await counter(metrics, 'udpgw_destination_failed_total')).toBe(3);
  });

  it('a dead-letter that rejects with any other error loses the whole batch, counted', async () => {
    const metrics = new Metrics();
    const dest = syncDestination((batch) => ({ outcomes: batch.map(() => ({ status: 'failed' as const, reason: 'bad' })) }));
    const deadLetter: DeadLetter = { write: async () => { throw new Error('disk gone'); } };
    const r = new DestinationRunner('edge', dest, cfg(0), { metrics, logger: pino({ level: 'silent' }), onReplies: () => {}, deadLetter });
    r.enqueue(packet(1)); r.enqueue(packet(2));
    r.flush();
    await r.drain(1000);
    expect([await drop(metrics, 'dead-letter-failed'), await counter(metrics, 'udpgw_destination_dead_lettered_total')]).toEqual([2, 0]);
  });
});
