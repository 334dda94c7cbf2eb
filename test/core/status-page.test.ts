/**
 * The status page's server side through fastify inject, on a real gateway with real UDP traffic:
 * the page and its assets are served without a token, with a strict CSP and nosniff; /v1/stats
 * carries the same numbers as /metrics and no secret; and the page's arithmetic (view.js).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UdpClient, eventually } from '../support/udp-client.js';
import { SECRET, TOKEN, metricValue, startStatusGateway, type StatusGateway } from '../support/status-page-gateway.js';
import { STATUS_PAGE_CSP } from '../../app/status-page/routes.js';
import type { Stats } from '../../app/status-page/stats.js';
import { History, quantile, recentLatency, sparkPoints, formatSeconds, type StatsSample } from '../../app/status-page/assets/view.js';

let open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { await Promise.all(open.map((o) => o.close())); open = []; });

async function setup(): Promise<{ g: StatusGateway; c: UdpClient }> {
  const g = await startStatusGateway();
  const c = await UdpClient.open();
  open.push(c, g);
  return { g, c };
}

describe('status page routes', () => {
  it('serves the page and its assets without a token, with a strict CSP and nosniff; nothing else', async () => {
    const { g } = await setup();
    const page = await g.admin.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(STATUS_PAGE_CSP);
    expect(STATUS_PAGE_CSP).toMatch(/script-src 'self';/);
    expect(STATUS_PAGE_CSP).not.toMatch(/unsafe/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<script type="module" src="status/page.js"></script>');
    expect(page.body).not.toMatch(/<script>|<script [^>]*>[^<]|\son[a-z]+=|<form/i); // no inline script, no handlers, no forms
    for (const [asset, type] of [['page.js', 'text/javascript'], ['view.js', 'text/javascript'], ['page.css', 'text/css']]) {
      const r = await g.admin.inject(`/status/${asset}`);
      expect([r.statusCode, r.headers['content-type'], r.headers['x-content-type-options']]).toEqual([200, `${type}; charset=utf-8`, 'nosniff']);
    }
    for (const url of ['/status/index.html', '/status/view.d.ts', '/status/..%2Froutes.ts', '/status/..%2F..%2Fadmin.ts', '/status/nope.js']) {
      expect([url, (await g.admin.inject(url)).statusCode]).toEqual([url, 404]);
    }
    expect((await g.admin.inject({ method: 'POST', url: '/' })).statusCode).toBe(404);
  });

  it('/v1/stats has the numbers /metrics has, and no secret', async () => {
    const { g, c } = await setup();
    for (let i = 0; i < 7; i++) await c.send(`t${i}`, g.port('telemetry'));
    for (let i = 0; i < 3; i++) await c.send(`g${i}`, g.port('game'));
    for (let i = 0; i < 4; i++) await c.send(`d${i}`, g.port('guarded'));
    await c.waitFor(10); // 7 handler echoes, 3 proxied echoes
    const stats = async () => (await g.admin.inject('/v1/stats')).json() as Stats;
    await eventually(async () => (await stats()).destinations.every((d) => d.queued === 0 && d.inFlight === 0)
      && (await stats()).destinations.find((d) => d.id === 'telemetry/archive')!.delivered === 7, 5000, 'destinations idle');
    const s = await stats();
    const m = (await g.admin.inject('/metrics')).body;
    expect(s.pid).toBe(process.pid);
    const tele = s.listeners.find((l) => l.name === 'telemetry')!;
    expect(tele).toMatchObject({ address: '127.0.0.1', port: g.port('telemetry'), transport: 'dgram', protocol: 'udp', recentClients: 1 });
    for (const l of s.listeners) {
      expect([l.name, l.packetsIn, l.bytesIn]).toEqual([l.name, metricValue(m, `udpgw_packets_received_total{listener="${l.name}"}`), metricValue(m, `udpgw_bytes_received_total{listener="${l.name}"}`)]);
    }
    expect(s.listeners.map((l) => [l.name, l.packetsIn, l.packetsOut, l.drops])).toEqual([['telemetry', 7, 7, 0], ['game', 3, 3, 0], ['guarded', 4, 0, 4]]);
    expect(metricValue(m, 'udpgw_packets_sent_total{listener="telemetry",path="reply"}')).toBe(7);
    expect(metricValue(m, 'udpgw_packets_sent_total{listener="game",path="proxy"}')).toBe(3);
    expect(metricValue(m, 'udpgw_destination_sessions{destination="game/proxy"}')).toBe(1);
    expect(m).not.toMatch(/udpgw_destination_sessions\{destination="telemetry/); // only destinations with sessions
    for (const d of s.destinations) {
      const id = `{destination="${d.id}"}`;
      expect([d.id, d.delivered, d.replies, d.latency.count, d.latency.sum]).toEqual([d.id, metricValue(m, `udpgw_destination_delivered_total${id}`),
        metricValue(m, `udpgw_destination_replies_total${id}`), metricValue(m, `udpgw_destination_delivery_seconds_count${id}`), metricValue(m, `udpgw_destination_delivery_seconds_sum${id}`)]);
      expect(d.latency.counts.at(-1)).toBe(metricValue(m, `udpgw_destination_delivery_seconds_bucket{destination="${d.id}",le="10"}`));
    }
    expect(s.destinations.map((d) => [d.id, d.kind, d.delivered, d.replies, d.toClients, d.sessions])).toEqual([
      ['telemetry/echo', 'handler', 7, 7, 7, null], ['telemetry/archive', 'file', 7, 0, 0, null], ['game/proxy', 'udp', 3, 0, 3, 1], ['guarded/archive', 'file', 0, 0, 0, null]]);
    // Each destination's queue capacity, as /v1/status tells it (read from the runner: the page does not
    // ask destinations for their status, which for a udp destination reads every session's flow).
    const status = (await g.admin.inject('/v1/status')).json() as { destinations: { queueCapacity: number }[] };
    expect(s.destinations.map((d) => d.queueCapacity)).toEqual(status.destinations.map((d) => d.queueCapacity));
    expect(s.destinations.every((d) => d.queueCapacity > 0)).toBe(true);
    expect(s.drops).toEqual([{ where: 'guarded', reason: 'denied', count: metricValue(m, 'udpgw_drops_total{where="guarded",reason="denied"}') }]);
    expect(s.drops[0]!.count).toBe(4);

    const refused = await g.admin.inject({ method: 'POST', url: '/v1/send', headers: { authorization: `Bearer ${TOKEN}` }, payload: { Replies: [{ Tag: 'forged', Data: 'aGk=' }] } });
    expect(refused.statusCode).toBe(207);
    const after = await stats();
    expect(after.egressRefused).toEqual([{ path: 'async_reply', reason: 'tag-malformed', count: 1 }]);
    expect(after.packetSources).toEqual([{ name: 'admin', messages: { refused: 1 }, packets: { 'tag-malformed': 1 } }]);

    const everything = JSON.stringify(after) + (await g.admin.inject('/')).body;
    for (const secret of [SECRET, TOKEN]) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(new RegExp(`[^0-9.]${c.port}[^0-9]`)); // the client's port: no client address
    expect(JSON.stringify(after)).not.toMatch(/ndjson|127\.0\.0\.1:\d+/); // no destination options (paths, backends)
  });
});

const sample = (at: number, counts: number[], extra: Record<string, unknown> = {}): StatsSample =>
  ({ at, destinations: [{ id: 'l/d', latency: { le: [0.001, 0.01, 0.1], counts, sum: 0, count: counts.at(-1)! } }], ...extra });

describe('the page arithmetic (view.js)', () => {
  it('quantiles interpolate inside a bucket as Prometheus histogram_quantile does', () => {
    // 100 observations: 50 ≤ 1 ms, 40 more ≤ 10 ms, 10 more ≤ 100 ms.
    expect(quantile(0.5, [0.001, 0.01, 0.1], [50, 90, 100], 100)).toBeCloseTo(0.001, 9);
    expect(quantile(0.7, [0.001, 0.01, 0.1], [50, 90, 100], 100)).toBeCloseTo(0.001 + 0.009 * (20 / 40), 9);
    expect(quantile(0.99, [0.001, 0.01, 0.1], [50, 90, 100], 100)).toBeCloseTo(0.01 + 0.09 * (9 / 10), 9);
    expect(quantile(0.99, [0.001, 0.01], [0, 0], 5)).toBe(0.01); // all in +Inf: the highest finite bound
    expect(quantile(0.5, [0.001], [0], 0)).toBeUndefined();
  });

  it('latency over a window is the difference of two samples; rates survive a counter reset; history is bounded', () => {
    const h = new History<StatsSample>(10_000, 5);
    h.push(sample(0, [0, 0, 0]));
    h.push(sample(1000, [100, 100, 100]));  // 100 fast deliveries
    h.push(sample(2000, [100, 100, 110]));  // then 10 slow ones (10–100 ms)
    expect(recentLatency(h, 'l/d', 1500)!.count).toBe(10);
    expect(recentLatency(h, 'l/d', 1500)!.p50).toBeCloseTo(0.055, 9);
    expect(recentLatency(h, 'l/d', 60_000)!.p50).toBeCloseTo(0.001 * (55 / 100), 9); // whole history: mostly ≤ 1 ms
    expect(recentLatency(h, 'other', 1500)).toBeUndefined();
    const v = (s: StatsSample) => s.destinations[0]!.latency.count;
    expect(h.rates(v)).toEqual([100, 10]);
    h.push(sample(4000, [3, 3, 3]));        // the gateway restarted: counts from zero
    expect(h.rate(v)).toBe(1.5);
    h.push(sample(3000, [0, 0, 0]));        // out of order: ignored
    expect(h.samples.map((s) => s.at)).toEqual([0, 1000, 2000, 4000]);
    for (let t = 5000; t <= 30_000; t += 1000) h.push(sample(t, [0, 0, 0]));
    expect(h.samples.map((s) => s.at)).toEqual([26_000, 27_000, 28_000, 29_000, 30_000]);
    h.push(sample(31_000, [0, 0, 0], { pid: 42 }));  // another worker answered: its counters are not these
    expect(h.samples.map((s) => s.at)).toEqual([31_000]);
  });

  it('sparklines scale to the largest value and keep time right-aligned', () => {
    expect(sparkPoints([0, 5, 10], 100, 20, 3)).toBe('0.0,19.0 50.0,10.0 100.0,1.0');
    expect(sparkPoints([10], 100, 20, 3)).toBe('100.0,1.0');
    expect(sparkPoints([0, 0], 100, 20, 5)).toBe('75.0,19.0 100.0,19.0');
    expect(sparkPoints([], 100, 20)).toBe('');
    expect([formatSeconds(0.0004), formatSeconds(0.0042), formatSeconds(0.25), formatSeconds(3), formatSeconds(undefined)]).toEqual(['400 µs', '4.20 ms', '250.0 ms', '3.00 s', '—']);
  });
});
