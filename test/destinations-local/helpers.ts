/** Shared helpers for the local destination tests: tagged packets, a silent logger, a recording ClientSender. */
import { pino } from 'pino';
import '../../app/builtin-kinds.js'; // the routers the udp destination looks up
import { createTagCodec } from '../../gateway/tag.js';
import type { ClientSender, DestinationContext } from '../../gateway/extension/destination.js';
import type { Endpoint, Formatter, Packet } from '../../gateway/packet.js';

export const codec = createTagCodec({ secret: Buffer.from('0123456789abcdef0123456789abcdef'), replyWindowMs: 60_000 });

export function packet(data: string | Buffer, opts: { remote?: Endpoint; listener?: string; formatter?: Formatter; receivedAt?: number } = {}): Packet {
  const remote = opts.remote ?? { address: '127.0.0.1', port: 40_000 };
  const listener = opts.listener ?? 'edge';
  const receivedAt = opts.receivedAt ?? Date.now();
  return {
    tag: codec.encode(listener, remote, receivedAt),
    listener, remote, receivedAt,
    local: { address: '127.0.0.1', port: 5555 },
    data: Buffer.isBuffer(data) ? data : Buffer.from(data),
    formatter: opts.formatter ?? 'base64',
  };
}

export interface SentToClient { listener: string; remote: Endpoint; data: Buffer }

export class RecordingClients implements ClientSender {
  readonly sent: SentToClient[] = [];
  readonly byTag: { tag: string; data: Buffer }[] = [];
  replyByTag(tag: string, data: Buffer): boolean { this.byTag.push({ tag, data }); return true; }
  sendToClient(listener: string, remote: Endpoint, data: Buffer): void { this.sent.push({ listener, remote, data }); }
}

export function context(baseDir: string, clients: ClientSender = new RecordingClients()): DestinationContext {
  return { logger: pino({ level: 'silent' }), clients, baseDir };
}

export const never = new AbortController().signal;

/** Poll until check() is truthy (bounded), for events that arrive on sockets. */
export async function until<T>(check: () => T | undefined | false, timeoutMs = 3_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
