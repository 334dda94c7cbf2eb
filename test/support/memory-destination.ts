/**
 * An in-memory destination kind used to exercise the fan-out in tests: it records batches and can
 * reply (echo), stall, or fail. It implements the real Destination interface; nothing is mocked.
 */
import { Type } from '@sinclair/typebox';
import { defineDestinationKind, type BatchResult, type Destination, type DeliveryOutcome } from '../../gateway/extension/destination.js';
import { registerDestinationKind } from '../../gateway/extension/registry.js';
import type { Packet } from '../../gateway/packet.js';

export const recorded = new Map<string, Packet[][]>();
/** Pending stalls: call release(name) to let stalled sends finish. */
/** Destinations (prefix + name) whose close() was called. */
export const closed = new Set<string>();
const gates = new Map<string, { promise: Promise<void>; release: () => void }>();

const released = new Set<string>();

/** Let stalled sends of this destination finish, and stop stalling it. */
export function release(name: string): void { released.add(name); gates.get(name)?.release(); gates.delete(name); }

const Options = Type.Object({
  mode: Type.Union([Type.Literal('record'), Type.Literal('echo'), Type.Literal('stall'), Type.Literal('fail'), Type.Literal('flaky')], { default: 'record' }),
  prefix: Type.String({ default: '' }),
  /** Answer synchronously (a result, not a promise), as the udp destination does; not with 'stall'. */
  sync: Type.Optional(Type.Boolean()),
  maxBatchPackets: Type.Optional(Type.Integer({ minimum: 1 })),
  maxPacketBytes: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });

export const memoryDestination = defineDestinationKind({
  type: 'memory',
  options: Options,
  load: async () => (name, o): Destination => {
    const key = o.prefix + name;
    recorded.set(key, []);
    let attempts = 0;
    return {
      kind: 'memory', name,
      async close() { closed.add(key); },
      limits: { ...(o.maxBatchPackets ? { maxBatchPackets: o.maxBatchPackets } : {}), ...(o.maxPacketBytes ? { maxPacketBytes: o.maxPacketBytes } : {}) },
      sendBatch(batch, signal) {
        recorded.get(key)!.push([...batch]);
        if (o.mode === 'stall') return stall(batch, signal);
        return o.sync ? answer(batch) : Promise.resolve().then(() => answer(batch));
      },
    };

    function answer(batch: readonly Packet[]): BatchResult {
      const ok: DeliveryOutcome[] = batch.map(() => ({ status: 'delivered' }));
      switch (o.mode) {
        case 'echo':
          return { outcomes: ok, replies: batch.map((p) => ({ tag: p.tag, data: Buffer.concat([Buffer.from('echo:'), p.data]) })) };
        case 'fail':
          throw new Error('destination is down');
        case 'flaky':
          // First attempt: every other packet retryable; later attempts deliver.
          attempts++;
          return { outcomes: batch.map((_, i) => (attempts === 1 && i % 2 === 1 ? { status: 'retryable', reason: 'throttled' } : { status: 'delivered' })) };
        default:
          return { outcomes: ok };
      }
    }

    async function stall(batch: readonly Packet[], signal: AbortSignal): Promise<BatchResult> {
      const ok: DeliveryOutcome[] = batch.map(() => ({ status: 'delivered' }));
      if (released.has(key)) return { outcomes: ok };
      let g = gates.get(key);
      if (!g) { let release!: () => void; const promise = new Promise<void>((r) => { release = r; }); g = { promise, release }; gates.set(key, g); }
      await Promise.race([g.promise, new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
      return { outcomes: ok };
    }
  },
});

registerDestinationKind(memoryDestination);
