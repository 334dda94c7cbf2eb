/**
 * The contract every UDP transport passes (dgram and native alike), on real sockets over
 * 127.0.0.1 and ::1. Registered by dgram.test.ts and native.test.ts.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { BindOptions, TransportFactory, UdpTransport } from '../../gateway/extension/transport.js';
import { Sink, closeClient, openClient, waitFor, type Client } from './helpers.js';

export function describeTransportContract(name: string, factory: TransportFactory): void {
  describe(`transport contract: ${name}`, () => {
    const transports: UdpTransport[] = [];
    const clients: Client[] = [];

    afterEach(async () => {
      await Promise.all(transports.splice(0).map((t) => t.close()));
      await Promise.all(clients.splice(0).map(closeClient));
    });

    async function bind(opts: Partial<BindOptions> & { host: string }, sink = new Sink()): Promise<{ t: UdpTransport; sink: Sink }> {
      const t = await factory.bind({ port: 0, maxDatagramBytes: 1500, receiveBufferBytes: 1 << 20, ...opts }, sink.onBatch, sink.onError);
      transports.push(t);
      return { t, sink };
    }

    async function client(type: 'udp4' | 'udp6', host: string): Promise<Client> {
      const c = await openClient(type, host);
      clients.push(c);
      return c;
    }

    for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']] as const) {
      it(`${type}: binds ${host}:0 and reports the resolved port and its kind`, async () => {
        const { t } = await bind({ host });
        expect(t.kind).toBe(factory.kind);
        expect(t.local.address).toBe(host);
        expect(t.local.port).toBeGreaterThan(0);
      });

      it(`${type}: delivers datagrams with exact content and source address and port`, async () => {
        const { t, sink } = await bind({ host });
        const a = await client(type, host);
        const b = await client(type, host);
        await a.send('from-a', t.local.port, host);
        await b.send(Buffer.from([0, 1, 2, 255]), t.local.port, host);
        await waitFor(() => sink.count === 2, 'two datagrams');
        const byPort = new Map(sink.all.map((d) => [d.port, d]));
        expect(byPort.get(a.port)?.data.toString()).toBe('from-a');
        expect(byPort.get(a.port)?.address).toBe(host);
        expect([...(byPort.get(b.port)?.data ?? [])]).toEqual([0, 1, 2, 255]);
        expect(byPort.get(b.port)?.address).toBe(host);
        expect(sink.errors).toEqual([]);
      });

      it(`${type}: sends a batch back to clients, from the bound port`, async () => {
        const { t, sink } = await bind({ host });
        const a = await client(type, host);
        const b = await client(type, host);
        t.sendDatagrams([
          { data: Buffer.from('to-a-1'), address: host, port: a.port },
          { data: Buffer.from('to-b'), address: host, port: b.port },
          { data: Buffer.from('to-a-2'), address: host, port: a.port },
        ]);
        await waitFor(() => a.received.length === 2 && b.received.length === 1, 'three replies');
        expect(a.received.map((r) => r.data.toString())).toEqual(['to-a-1', 'to-a-2']);
        expect(b.received[0]?.data.toString()).toBe('to-b');
        expect(a.received.every((r) => r.port === t.local.port && r.address === host)).toBe(true);
        expect(b.received[0]?.port).toBe(t.local.port);
        expect(sink.errors).toEqual([]);
      });
    }

    it('cuts a datagram longer than maxDatagramBytes to that length', async () => {
      const { t, sink } = await bind({ host: '127.0.0.1', maxDatagramBytes: 16 });
      const c = await client('udp4', '127.0.0.1');
      const payload = Buffer.from('0123456789abcdefTHIS-IS-CUT-OFF');
      await c.send(payload, t.local.port, '127.0.0.1');
      await c.send('short', t.local.port, '127.0.0.1');
      await waitFor(() => sink.count === 2, 'two datagrams');
      expect(sink.all.map((d) => d.data.toString())).toEqual(['0123456789abcdef', 'short']);
    });

    it('a burst arrives as batches, every datagram once, data intact after later batches', async () => {
      const { t, sink } = await bind({ host: '127.0.0.1' });
      const c = await client('udp4', '127.0.0.1');
      const rounds = 8, perRound = 100;
      for (let r = 0; r < rounds; r++) {
        // Sent back to back without yielding to the receiver, so the socket has many waiting at once.
        await Promise.all(Array.from({ length: perRound }, (_, i) => c.send(`pkt-${r * perRound + i}`, t.local.port, '127.0.0.1')));
        await waitFor(() => sink.count === (r + 1) * perRound, `round ${r}`);
      }
      const seen = sink.all.map((d) => Number(d.data.toString().slice(4))).sort((x, y) => x - y);
      expect(seen).toEqual(Array.from({ length: rounds * perRound }, (_, i) => i));
      expect(Math.max(...sink.batches.map((b) => b.length))).toBeGreaterThan(1);
      expect(sink.batches.length).toBeLessThan(rounds * perRound);
    });

    it('pause stops delivery and keeps sending possible', async () => {
      const { t, sink } = await bind({ host: '127.0.0.1' });
      const c = await client('udp4', '127.0.0.1');
      await c.send('before', t.local.port, '127.0.0.1');
      await waitFor(() => sink.count === 1, 'first datagram');
      t.pause();
      await c.send('after', t.local.port, '127.0.0.1'); // on loopback: queued on the paused socket at once
      // The positive marker: a send from the paused transport reaches the client, which reads it in
      // this process's event loop, where a transport still reading would have read 'after' too.
      t.sendDatagrams([{ data: Buffer.from('still-sending'), address: '127.0.0.1', port: c.port }]);
      await waitFor(() => c.received.length === 1, 'send after pause');
      expect(c.received[0]?.data.toString()).toBe('still-sending');
      expect(sink.all.map((d) => d.data.toString())).toEqual(['before']);
    });

    it('close is idempotent, frees the port, and later sends are ignored', async () => {
      const { t, sink } = await bind({ host: '127.0.0.1' });
      const port = t.local.port;
      await t.close();
      await t.close();
      expect(() => t.sendDatagrams([{ data: Buffer.from('x'), address: '127.0.0.1', port: 9 }])).not.toThrow();
      const again = createSocket('udp4');
      await new Promise<void>((resolve, reject) => { again.once('error', reject); again.bind(port, '127.0.0.1', resolve); });
      expect(again.address().port).toBe(port);
      await new Promise<void>((resolve) => again.close(() => resolve()));
      expect(sink.errors).toEqual([]);
    });

    it('refuses to bind a port in use without reusePort', async () => {
      const { t } = await bind({ host: '127.0.0.1' });
      await expect(factory.bind({ host: '127.0.0.1', port: t.local.port, maxDatagramBytes: 1500 }, () => {}, () => {}))
        .rejects.toMatchObject({ code: 'EADDRINUSE' });
    });

    it('reusePort: two transports bind the same address and port', async () => {
      const { t: first } = await bind({ host: '127.0.0.1', reusePort: true });
      const { t: second } = await bind({ host: '127.0.0.1', port: first.local.port, reusePort: true });
      expect(second.local.port).toBe(first.local.port);
    });

    it('an IPv6 wildcard socket receives IPv4 clients as v4-mapped and replies to them', async () => {
      const { t, sink } = await bind({ host: '::' });
      const c = await client('udp4', '127.0.0.1');
      await c.send('v4', t.local.port, '127.0.0.1');
      await waitFor(() => sink.count === 1, 'v4 datagram');
      const d = sink.all[0]!;
      expect(d.address).toBe('::ffff:127.0.0.1');
      expect(d.port).toBe(c.port);
      t.sendDatagrams([{ data: Buffer.from('back'), address: d.address, port: d.port }]);
      await waitFor(() => c.received.length === 1, 'reply to v4 client');
      expect(c.received[0]?.port).toBe(t.local.port);
    });
  });
}
