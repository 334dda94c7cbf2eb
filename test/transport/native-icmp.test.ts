/**
 * An ICMP port unreachable on a connected native session socket: libuv reports POLLERR as EBADF and
 * stops polling; the addon reads the socket's error instead (ECONNREFUSED, as node:dgram reports
 * it) and keeps polling, so the socket still reads when the peer comes back on that port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createUpstreams } from '../../destinations/udp/index.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { until } from '../destinations-local/helpers.js';

const sockets: Socket[] = [];
afterEach(() => { for (const s of sockets.splice(0)) s.close(); });

describe.runIf(loadNativeAddon().addon)('native session socket after an ICMP refusal', () => {
  it('reports ECONNREFUSED, then goes on reading', async () => {
    const probe = createSocket('udp4');
    probe.bind(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = probe.address().port;
    probe.close();
    const u = createUpstreams('native');
    const errors: string[] = [];
    const replies: string[] = [];
    const link = u.open({ address: '127.0.0.1', port, family: 4, label: `127.0.0.1:${port}` }, {
      reply: (d) => replies.push(d.toString()), foreign: () => {}, error: (e) => errors.push((e as NodeJS.ErrnoException).code ?? e.message),
    });
    try {
      u.send(link, Buffer.from('anyone?'));
      await until(() => errors.length > 0);
      expect(errors).toEqual(['ECONNREFUSED']);
      const peer = createSocket('udp4');
      sockets.push(peer);
      peer.bind(port, '127.0.0.1');
      await once(peer, 'listening');
      peer.on('message', (m, r) => peer.send(`back:${m}`, r.port, r.address));
      u.send(link, Buffer.from('now'));
      await until(() => replies.length > 0);
      expect(replies).toEqual(['back:now']);
    } finally { await u.close(link); }
  });
});
