/**
 * The status page in a real browser (Debian's chromium through playwright-core, headless, reaching
 * nothing but 127.0.0.1), on a real gateway with real UDP traffic: the numbers the page shows are
 * the ones /metrics reports, they move when more packets arrive, the sparklines draw them, markup
 * in a name is shown as text, the page breaks no CSP rule, asks for nothing outside the admin API,
 * and fits a phone's width.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import type { Page } from 'playwright-core';
import { defineDestinationKind, delivered } from '../../gateway/extension/destination.js';
import { registerDestinationKind } from '../../gateway/extension/registry.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { metricValue, startStatusGateway, type StatusGateway } from '../support/status-page-gateway.js';
import type { Stats } from '../../app/status-page/stats.js';

/** A plugin whose kind is markup: the page must show it as text. */
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
registerDestinationKind(defineDestinationKind({
  type: 'status-page-markup',
  options: Type.Object({}, { additionalProperties: false }),
  load: async () => (name) => ({ kind: HOSTILE, name, sendBatch: (batch) => ({ outcomes: batch.map(() => delivered) }) }),
}));

let open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { await Promise.all(open.splice(0).reverse().map((o) => o.close())); });

const field = (card: 'listener' | 'destination', key: string, name: string) => `[data-${card}="${key}"] [data-field="${name}"]`;
const digits = (text: string | null | undefined) => (text ?? '').replace(/,/g, '');

/** Wait until every selector shows its text (polled in the page, bounded); on timeout, a diff of what it shows. */
async function pageShows(page: Page, want: Record<string, string>, ms = 15_000): Promise<void> {
  const read = () => page.evaluate((sels) => Object.fromEntries(sels.map((s) => [s, (document.querySelector(s)?.textContent ?? '<missing>').replace(/,/g, '')])), Object.keys(want));
  try {
    await page.waitForFunction((w) => Object.entries(w).every(([s, t]) => (document.querySelector(s)?.textContent ?? '').replace(/,/g, '') === t), want, { timeout: ms, polling: 50 });
  } catch {
    expect(await read()).toEqual(want);
  }
}

/** Wait until the gateway has nothing queued or in flight and `done` holds. */
async function quiet(g: StatusGateway, done: (s: Stats) => boolean): Promise<Stats> {
  let s: Stats | undefined;
  await eventually(async () => {
    s = (await g.admin.inject('/v1/stats')).json() as Stats;
    return s.destinations.every((d) => d.queued === 0 && d.inFlight === 0) && done(s);
  }, 10_000, 'the gateway to go quiet');
  return s!;
}

/** What the page must show, read from /metrics (not from /v1/stats: the two must agree). */
async function expectedFromMetrics(g: StatusGateway): Promise<Record<string, string>> {
  const m = await (await fetch(`${g.adminUrl}/metrics`)).text();
  const want: Record<string, string> = {};
  for (const l of ['telemetry', 'game', 'guarded']) {
    want[field('listener', l, 'packetsIn')] = String(metricValue(m, `udpgw_packets_received_total{listener="${l}"}`));
    const paths = ['reply', 'proxy', 'out_of_band', 'async_reply'].map((p) => metricValue(m, `udpgw_packets_sent_total{listener="${l}",path="${p}"}`));
    want[field('listener', l, 'packetsOut')] = String(paths.reduce((a, b) => a + b, 0));
  }
  for (const d of ['telemetry/echo', 'telemetry/archive', 'game/proxy', 'hostile/odd']) {
    want[field('destination', d, 'delivered')] = String(metricValue(m, `udpgw_destination_delivered_total{destination="${d}"}`));
    want[field('destination', d, 'queued')] = `${metricValue(m, `udpgw_destination_queued{destination="${d}"}`)} / 10000`;
  }
  want[field('listener', 'guarded', 'drops')] = String(metricValue(m, 'udpgw_drops_total{where="guarded",reason="denied"}'));
  want['#drops tbody tr td:nth-child(3)'] = want[field('listener', 'guarded', 'drops')]!;
  return want;
}

/** y coordinates of a sparkline's points (the baseline, zero, is the largest y). */
async function sparkYs(page: Page, selector: string): Promise<number[]> {
  const points = await page.getAttribute(selector, 'points');
  return (points ?? '').split(' ').filter(Boolean).map((p) => Number(p.split(',')[1]));
}

describe('status page in chromium', () => {
  it('shows what /metrics reports, live, and escapes names', async () => {
    const g = await startStatusGateway([{ name: 'hostile', host: '127.0.0.1', port: 0, destinations: [{ name: 'odd', type: 'status-page-markup' }] }]);
    open.push(g);
    const c = await UdpClient.open(); open.push(c);
    const b: TestBrowser = await launchBrowser(); open.push(b);
    const page = await b.context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => { if (msg.type() === 'error' || msg.type() === 'warning') problems.push(msg.text()); });
    page.on('pageerror', (err) => problems.push(err.message));

    for (let i = 0; i < 12; i++) await c.send(`t${i}`, g.port('telemetry'));
    for (let i = 0; i < 5; i++) await c.send(`g${i}`, g.port('game'));
    for (let i = 0; i < 3; i++) await c.send(`d${i}`, g.port('guarded'));
    await c.send('h', g.port('hostile'));
    await c.waitFor(17);
    await quiet(g, (s) => s.destinations.find((d) => d.id === 'telemetry/archive')!.delivered === 12);

    const response = await page.goto(`${g.adminUrl}/`);
    expect(response!.status()).toBe(200);
    const first = await expectedFromMetrics(g);
    expect(first[field('listener', 'telemetry', 'packetsIn')]).toBe('12');
    expect(first[field('destination', 'game/proxy', 'delivered')]).toBe('5');
    expect(first[field('listener', 'guarded', 'drops')]).toBe('3');
    await pageShows(page, first);
    expect(await page.textContent('#state')).toBe('ready');
    expect(await page.textContent('#link')).toBe('live');
    expect(await page.textContent(field('listener', 'game', 'where'))).toBe(`127.0.0.1:${g.port('game')} · dgram · udp`);
    expect(await page.textContent(field('destination', 'game/proxy', 'sessions'))).toBe('1');
    expect(await page.textContent('#drops tbody tr td:nth-child(2)')).toBe('denied');
    // Markup in a plugin's kind is text, not elements.
    expect(await page.textContent(field('destination', 'hostile/odd', 'kind'))).toBe(HOSTILE);
    expect(await page.evaluate(() => [document.querySelectorAll('img').length, (window as unknown as { __pwned?: number }).__pwned])).toEqual([0, undefined]);

    // More traffic: the numbers move, to what /metrics says, and the sparklines rise off the baseline.
    for (let i = 0; i < 25; i++) await c.send(`more${i}`, g.port('telemetry'));
    for (let i = 0; i < 10; i++) await c.send(`move${i}`, g.port('game'));
    await c.waitFor(17 + 25 + 10);
    await quiet(g, (s) => s.destinations.find((d) => d.id === 'telemetry/archive')!.delivered === 37);
    const second = await expectedFromMetrics(g);
    expect(second[field('listener', 'telemetry', 'packetsIn')]).toBe('37');
    await pageShows(page, second);
    // p99 over the page's last minute: deliveries between its oldest and newest samples (checked here,
    // after a burst the page saw arrive: right after the first load a second poll with nothing new
    // in between shows "—", and a slow run got there before the assertion).
    expect(await page.textContent(field('destination', 'telemetry/echo', 'p99'))).toMatch(/^[\d.]+ (µs|ms|s)$/);
    expect(second[field('destination', 'game/proxy', 'delivered')]).toBe('15');
    expect(digits(await page.textContent('#totals [data-tile="in"] .total'))).toBe(String(12 + 5 + 3 + 1 + 25 + 10));
    // The next poll adds a quiet second after the burst: the lines have left the baseline and come back
    // (the telemetry listener's packets in; the udp proxy's packets out, relayed back to the client).
    for (const line of ['[data-listener="telemetry"] .rate:first-child polyline', '[data-destination="game/proxy"] .rate:nth-child(2) polyline']) {
      await page.waitForFunction((sel) => {
        const ys = (document.querySelector(sel)?.getAttribute('points') ?? '').split(' ').map((p) => Number(p.split(',')[1]));
        return ys.length >= 3 && ys.at(-1) === 27;
      }, line, { timeout: 10_000, polling: 50 });
      const ys = await sparkYs(page, line);
      expect([line, Math.min(...ys)]).toEqual([line, 1]);  // the burst: the top of the box (28 high, 1 px margin)
      expect(ys.at(-1)).toBe(27);                          // now: nothing arriving, the baseline
    }

    expect(problems).toEqual([]);                 // no CSP violation, no script error
    expect(b.blocked).toEqual([]);                // asked for nothing outside the admin API

    // A phone: one column, nothing wider than the screen.
    const phone = await b.browser.newPage({ viewport: { width: 390, height: 844 } });
    open.push(phone);
    await phone.goto(`${g.adminUrl}/`);
    await pageShows(phone, { [field('listener', 'telemetry', 'packetsIn')]: '37' });
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  }, 90_000);
});
