/**
 * The `module` router through the udp destination, on real UDP backends: every answer of the
 * routing function (remote, data, reply, noop then remote, both close forms), both callbacks
 * (an ICMP refusal, a silent backend), and a throwing and a hanging function.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { backend, closeAll, deadPort, never, packet, proxy, routerModule, until } from './support.js';

afterEach(closeAll);

const alice = { address: '127.0.0.1', port: 41_001 };

describe('module router', () => {
  it('{ remote }: proxies there, replaying what was held', async () => {
    const b = await backend('b');
    const mod = routerModule(`export function route(ctx) { return { remote: ${JSON.stringify(b.label)} }; }`);
    const { d, clients } = await proxy({ router: { type: 'module', module: mod } });
    await d.sendBatch([packet('one', { remote: alice }), packet('two', { remote: alice })], never);
    await until(() => clients.sent.length === 2);
    expect(b.seen.map((s) => s.data.toString())).toEqual(['one', 'two']);
    expect(clients.sent.map((s) => s.data.toString())).toEqual(['b:one', 'b:two']);
  });

  it('{ remote, data, reply }: sends data instead of the buffer and answers the client first; a TS module works', async () => {
    const b = await backend('b');
    const mod = routerModule(`export async function route(ctx: { data: Buffer; client: { port: number } }) {
      return { remote: ${JSON.stringify(b.label)}, data: 'rewritten:' + ctx.data.toString() + ':' + ctx.client.port, reply: Buffer.from('welcome') };
    }`, 'ts');
    const { d, clients } = await proxy({ router: { type: 'module', module: mod } });
    await d.sendBatch([packet('hi', { remote: alice })], never);
    await until(() => clients.sent.length === 2);
    expect(b.seen.map((s) => s.data.toString())).toEqual([`rewritten:hi:${alice.port}`]);
    expect(clients.sent.map((s) => s.data.toString())).toEqual(['welcome', `b:rewritten:hi:${alice.port}`]);
  });

  it('{ noop: true } holds until enough data arrived, then { remote } replays every held datagram in order', async () => {
    const b = await backend('b');
    const mod = routerModule(`export function route(ctx) {
      return ctx.datagrams.length < 3 ? { noop: true } : { remote: ${JSON.stringify(b.label)} };
    }`);
    const { d, clients } = await proxy({ router: { type: 'module', module: mod } });
    await d.sendBatch([packet('1', { remote: alice })], never);
    await d.sendBatch([packet('2', { remote: alice })], never);
    expect(d.sessions.list()).toMatchObject([{ state: 'routing', backend: null, packetsIn: 2 }]);
    await d.sendBatch([packet('3', { remote: alice })], never);
    await until(() => b.seen.length === 3);
    expect(b.seen.map((s) => s.data.toString())).toEqual(['1', '2', '3']);
    await d.sendBatch([packet('4', { remote: alice })], never);
    await until(() => clients.sent.length === 4);
    expect(d.sessions.list()).toMatchObject([{ state: 'open', backend: b.label, packetsIn: 4, packetsOut: 4 }]);
  });

  it('{ close: true } ends the session silently; { close: bytes } answers first; the next datagram asks again', async () => {
    const mod = routerModule(`let n = 0; export function route(ctx) {
      n++; return ctx.data.toString() === 'bye' ? { close: 'goodbye' } : { close: true };
    }
    export function calls() { return n; }`);
    const { d, clients, counted } = await proxy({ router: { type: 'module', module: mod } });
    await d.sendBatch([packet('x', { remote: alice })], never);
    await d.sendBatch([packet('bye', { remote: alice })], never);
    await until(() => clients.sent.length === 1);
    expect(clients.sent[0]!.data.toString()).toBe('goodbye');
    expect(counted.drops).toEqual({ 'route-close': 2 });
    expect(d.status?.()).toMatchObject({ sessions: 0, created: 2, router: { calls: 2 } });
  });

  it('a throwing and a hanging function fail that session only (counted), never the destination', async () => {
    const b = await backend('b');
    const mod = routerModule(`export function route(ctx) {
      const t = ctx.data.toString();
      if (t === 'throw') throw new Error('boom');
      if (t === 'hang') return new Promise(() => {});
      return { remote: ${JSON.stringify(b.label)} };
    }`);
    const { d, counted } = await proxy({ router: { type: 'module', module: mod, timeoutMs: 100 } });
    const r = await d.sendBatch([packet('throw', { remote: alice }), packet('hang', { remote: { address: '127.0.0.1', port: 2 } }), packet('ok', { remote: { address: '127.0.0.1', port: 3 } })], never);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered', 'delivered']);
    await until(() => counted.drops['route-failed'] === 2);
    expect(b.seen.map((s) => s.data.toString())).toEqual(['ok']);
    expect(d.status?.()).toMatchObject({ sessions: 1, routeFailures: 2, router: { timeouts: 1, failures: 1 } });
    expect(counted.events['route-failed']).toBe(2);
  });

  it('onConnectError hears an ICMP refusal at once and may move the session; held datagrams are replayed', async () => {
    const dead = await deadPort();
    const b = await backend('b');
    const mod = routerModule(`export const heard = [];
      export function route() { return { remote: ${JSON.stringify(dead)} }; }
      export function onConnectError(remote) { heard.push(remote); return { remote: ${JSON.stringify(b.label)} }; }`);
    const { d, clients, counted } = await proxy({ router: { type: 'module', module: mod } });
    await d.sendBatch([packet('first', { remote: alice })], never);
    await until(() => clients.sent.length === 1);
    expect(b.seen.map((s) => s.data.toString())).toEqual(['first']);
    expect(counted.events['connect-refused']).toBe(1);
    expect(d.backendOf('edge', alice)).toBe(b.label);
    const heard = (await import(mod)).heard as string[];
    expect(heard).toEqual([dead]);
  });

  it('onInactivity hears a backend that went silent (inactivity_timeout from the answer), and the session ends', async () => {
    const quiet = await backend('quiet', { silent: true });
    const mod = routerModule(`export const heard = [];
      export function route() { return { remote: ${JSON.stringify(quiet.label)}, inactivity_timeout: 0.1 }; }
      export function onInactivity(remote) { heard.push(remote); }`);
    const { d, counted } = await proxy({ router: { type: 'module', module: mod } });
    await d.sendBatch([packet('hello?', { remote: alice })], never);
    await until(() => counted.events.inactive === 1);
    await until(() => d.status?.().sessions === 0);
    expect(((await import(mod)).heard as string[])).toEqual([quiet.label]);
  });

  it('refuses a module without the function, naming the export', async () => {
    const mod = routerModule('export function other() {}');
    const err = await proxy({ router: { type: 'module', module: mod } }).catch((e: Error) => e);
    expect((err as Error).message).toContain('exports no function "route" (exports: other)');
  });
});
