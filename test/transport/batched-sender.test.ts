/**
 * The net layer's one batched sender (net/batched-sender.ts) on a fake socket: slab packing and
 * one call per full slab, refused datagrams reported per slot (the addon marks them: the errno
 * word on a connected socket, a zero family word on an unconnected one), the bounded in-order backlog while the socket would block, and chained walks.
 */
import { describe, expect, it } from 'vitest';
import { BatchedSender, type SendQueue, type SendReport } from '../../net/batched-sender.js';
import { AddressWords, META_WORDS, SEND, SEND_ERRNO, type NativeAddon, type NativeSocket } from '../../net/native-addon.js';
import { EMSGSIZE, MAX_SLOTS } from '../../net/limits.js';

type Item = { data: Buffer; address: string; port: number };

/** Accepts `budget` datagrams, refuses those whose text is in `refuse` with errno 90. */
class FakeSocket implements NativeSocket {
  readonly sent: string[] = [];
  readonly calls: number[] = [];
  budget = Number.POSITIVE_INFINITY;
  refuse = new Set<string>();
  watching = 0;
  constructor(private readonly s: BatchedSender<Item>, private readonly connected: boolean) {}
  local(): [string, number] { return ['127.0.0.1', 1]; }
  startReading(): void {}
  stopReading(): void {}
  watchWritable(): void { this.watching++; }
  close(): void {}
  send(count: number): number {
    const n = Math.min(count, this.budget);
    let refused = 0;
    for (let i = 0; i < n; i++) {
      const b = i * META_WORDS, off = this.s.meta[b + SEND.offset]!;
      const text = Buffer.from(this.s.payload.subarray(off, off + this.s.meta[b + SEND.len]!)).toString();
      if (!this.refuse.has(text)) { this.sent.push(text); continue; }
      refused++;
      if (this.connected) this.s.meta[b + SEND_ERRNO] = 90;
      else this.s.meta[b + SEND.family] = 0; // as the addon marks a refusal on an unconnected socket
    }
    this.calls.push(count);
    this.budget -= n;
    this.s.status[0] = refused; this.s.status[1] = refused ? 90 : 0;
    return n;
  }
}

const addon = { pton: (text: string, w: Uint32Array) => (text === '127.0.0.1' ? ((w[0] = 0x0100007f), 4) : 0) } as unknown as NativeAddon;

function setup(connected: boolean, maxBacklog = 100) {
  const sender = new BatchedSender<Item>(maxBacklog, connected ? undefined : new AddressWords(addon));
  const sock = new FakeSocket(sender, connected);
  const q: SendQueue<Item> = { socket: sock, backlog: [] };
  const refused: [number, number][] = [], dropped: number[] = [];
  const report: SendReport = { refused: (i, e) => refused.push([i, e]), dropped: (i) => dropped.push(i) };
  return { sender, sock, q, report, refused, dropped };
}

const items = (n: number, size = 0): Item[] => Array.from({ length: n }, (_, i) =>
  ({ data: Buffer.from(`d${i}`.padEnd(size, '.')), address: '127.0.0.1', port: 7000 }));
const texts = (list: Item[]) => list.map((d) => d.data.toString());

describe('batched sender', () => {
  it('makes one call per full slab: UIO_MAXIOV slots, or the slab bytes', () => {
    const { sender, sock, q, report } = setup(true);
    const list = items(MAX_SLOTS + 10);
    sender.send(q, list, 0, undefined, report);
    expect(sock.calls).toEqual([MAX_SLOTS, 10]);
    expect(sock.sent).toEqual(texts(list));
    const big = setup(true);
    big.sender.send(big.q, items(40, 60_000), 0, undefined, big.report); // 17 x 60 kB fill 1 MiB
    expect(big.sock.calls).toEqual([17, 17, 6]);
  });

  it('connected: reports each refused datagram by its list index, past the first slab too', () => {
    const { sender, sock, q, report, refused } = setup(true);
    sock.refuse = new Set(['d3', `d${MAX_SLOTS + 2}`]);
    sender.send(q, items(MAX_SLOTS + 5), 0, undefined, report);
    expect(refused).toEqual([[3, 90], [MAX_SLOTS + 2, 90]]);
    expect(sock.sent).toHaveLength(MAX_SLOTS + 3);
  });

  it('connected: a datagram over the largest UDP payload is refused EMSGSIZE before the addon', () => {
    const { sender, sock, q, report, refused } = setup(true);
    const list = [...items(1), { data: Buffer.alloc(65_536), address: '', port: 0 }, ...items(1)];
    sender.send(q, list, 0, undefined, report);
    expect([refused, sock.calls]).toEqual([[[1, EMSGSIZE]], [2]]);
  });

  it('unconnected: the socket\'s refusals are reported by index (its marked slots); bad addresses never reach it', () => {
    const { sender, sock, q, report, refused } = setup(false);
    sock.refuse = new Set(['d0', 'd2']);
    const list = [...items(3), { data: Buffer.from('x'), address: 'nowhere', port: 7000 }, { data: Buffer.from('y'), address: '127.0.0.1', port: 0 }];
    sender.send(q, list, 0, undefined, report);
    expect(refused).toEqual([[3, 22], [4, 22], [0, 90], [2, 90]]);
    expect([sock.sent, sock.calls]).toEqual([['d1'], [3]]);
  });

  it('walks a chain through `next`, in chain order', () => {
    const { sender, sock, q, report } = setup(true);
    const next = Int32Array.from([3, -1, -1, 4, -1]);
    sender.send(q, items(5), 0, next, report);
    expect(sock.sent).toEqual(['d0', 'd3', 'd4']);
  });

  it('keeps what would block in order, bounded, drops the rest by index, and drains when writable', () => {
    const { sender, sock, q, report, dropped } = setup(true, 4);
    sock.budget = 2;
    sender.send(q, items(5), 0, undefined, report);
    expect([sock.sent, texts(q.backlog), sock.watching]).toEqual([['d0', 'd1'], ['d2', 'd3', 'd4'], 1]);
    sender.send(q, items(3).map((d) => ({ ...d, data: Buffer.from(`e${d.data}`) })), 0, undefined, report);
    expect([texts(q.backlog), dropped, sock.watching]).toEqual([['d2', 'd3', 'd4', 'ed0'], [1, 2], 2]);
    sock.budget = 1;
    sender.drain(q, report);
    expect([sock.sent, texts(q.backlog), sock.watching]).toEqual([['d0', 'd1', 'd2'], ['d3', 'd4', 'ed0'], 3]);
    sock.budget = Number.POSITIVE_INFINITY;
    sender.drain(q, report);
    expect([sock.sent, q.backlog]).toEqual([['d0', 'd1', 'd2', 'd3', 'd4', 'ed0'], []]);
  });
});
