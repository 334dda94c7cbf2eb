/**
 * `udp-gateway proxy --listen … --to a --to b`: the udp-proxy command line on the gateway's own
 * config and destinations. Every packet reaches every target (StatsD dual-write), replies come from
 * the first, the queue size and log level flags land in the config it prints, and that config run
 * with `start` is the same gateway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { UdpClient, eventually } from '../support/udp-client.js';
import { runCliAsync, startGateway, stopAll } from '../support/cli.js';

let clients: UdpClient[] = [];
afterEach(async () => { stopAll(); await Promise.all(clients.map((c) => c.close())); clients = []; });

async function udp(): Promise<UdpClient> { const c = await UdpClient.open(); clients.push(c); return c; }

describe('udp-gateway proxy', () => {
  it('--print-config prints the config it stands for, one udp destination per --to', async () => {
    const r = await runCliAsync(['proxy', '--listen', ':2203', '--to', 'a.example:8125', '--to', '10.0.0.2:8125', '--queue', '500', '--log-level', 'warn', '--print-config']);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(parse(r.stdout)).toEqual({
      log: { level: 'warn' },
      listeners: [{
        name: 'proxy', host: '0.0.0.0', port: 2203,
        destinations: [
          { name: 'to-1', type: 'udp', backends: ['a.example:8125'], queue: { maxPackets: 500 } },
          { name: 'to-2', type: 'udp', backends: ['10.0.0.2:8125'], replies: false, queue: { maxPackets: 500 } },
        ],
      }],
    });
  });

  it('every packet goes to every target; the first target answers the client; the printed config validates', async () => {
    const [a, b, client] = [await udp(), await udp(), await udp()];
    a.socket.on('message', (m, r) => a.socket.send(Buffer.concat([Buffer.from('a:'), m]), r.port, r.address));
    b.socket.on('message', (m, r) => b.socket.send(Buffer.concat([Buffer.from('b:'), m]), r.port, r.address));
    const gw = await startGateway(['proxy', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${a.port}`, '--to', `127.0.0.1:${b.port}`, '--queue', '777', '--log-level', 'warn', '--admin-port', '0']);
    expect(gw.banner).toContain('udp-gateway proxy stands for this config');
    expect(gw.banner).toMatch(new RegExp(`-> to-1: udp 127\\.0\\.0\\.1:${a.port}[\\s\\S]*-> to-2: udp 127\\.0\\.0\\.1:${b.port}`));
    expect(gw.logs.filter((l) => (l.level as number) < 40)).toEqual([]); // --log-level warn
    const packets = Array.from({ length: 20 }, (_, i) => `metric.${i}:1|c`);
    for (const p of packets) await client.send(p, gw.udpPort);
    await eventually(() => a.received.length === 20 && b.received.length === 20, 10_000, 'both targets got 20');
    expect(a.received.map((r) => r.data.toString())).toEqual(packets);
    expect(b.received.map((r) => r.data.toString())).toEqual(packets);
    await client.waitFor(20);
    const replies = client.received.map((r) => r.data.toString());
    expect(replies.every((r) => r.startsWith('a:'))).toBe(true);
    expect(client.received.every((r) => r.port === gw.udpPort)).toBe(true);
    const status = await (await fetch(`${gw.adminUrl}/v1/status`)).json() as { destinations: { name: string; queueCapacity: number }[] };
    expect(status.destinations.map((d) => [d.name, d.queueCapacity])).toEqual([['to-1', 777], ['to-2', 777]]);

    const yaml = /stands for this config[^\n]*\n\n([\s\S]*?)\nudp-gateway is running/.exec(gw.banner)![1]!.replace(/^ {2}/gm, '');
    const file = join(mkdtempSync(join(tmpdir(), 'udpgw-proxy-')), 'proxy.yaml');
    writeFileSync(file, yaml);
    const v = await runCliAsync(['validate', file]);
    expect([v.status, v.stdout]).toEqual([0, `${file}: valid (1 listener, 2 destinations)\n`]);
  });

  it('a bad target is a usage error naming it', async () => {
    const r = await runCliAsync(['proxy', '--listen', ':2203', '--to', 'a:8125', '--to', 'b:99999']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^udp-gateway proxy: --to "b:99999" has port 99999, outside 1-65535/);
  });
});
