/** The `rules` router through the udp destination, on real UDP backends. */
import { afterEach, describe, expect, it } from 'vitest';
import { backend, closeAll, never, packet, proxy, until } from './support.js';
import { resolveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../gateway/errors.js';

afterEach(closeAll);

describe('rules router', () => {
  it('sends each new session to the pool of the first matching rule: byte range, prefix, regex, network, listener; else default', async () => {
    const [login, game, web, lan, side, rest] = await Promise.all(['login', 'game', 'web', 'lan', 'side', 'rest'].map((id) => backend(id)));
    const { d, clients } = await proxy({ router: { type: 'rules',
      pools: { login: { backends: [login!.label] }, game: { backends: [game!.label] }, web: { backends: [web!.label] },
        lan: { backends: [lan!.label] }, side: { backends: [side!.label] }, rest: { backends: [rest!.label] } },
      rules: [
        { expression: '${data[0:2]:hex}', equals: ['fe01', 'fe02'], pool: 'login' },
        { prefix: '0a0b', pool: 'game' },
        { regex: '^HELLO [0-9]+$', pool: 'web' },
        { network: ['10.1.0.0/16'], pool: 'lan' },
        { listener: 'side', pool: 'side' },
      ],
      default: 'rest' } });
    await d.sendBatch([
      packet(Buffer.from('fe02aa', 'hex'), { remote: { address: '127.0.0.1', port: 1 } }),
      packet(Buffer.from('0a0b0c', 'hex'), { remote: { address: '127.0.0.1', port: 2 } }),
      packet('HELLO 42', { remote: { address: '127.0.0.1', port: 3 } }),
      packet('anything', { remote: { address: '10.1.2.3', port: 4 } }),
      packet('anything', { remote: { address: '127.0.0.1', port: 5 }, listener: 'side' }),
      packet('HELLO x', { remote: { address: '127.0.0.1', port: 6 } }),
    ], never);
    await until(() => clients.sent.length === 6);
    expect([login, game, web, lan, side, rest].map((b) => b!.seen.length)).toEqual([1, 1, 1, 1, 1, 1]);
    // The session stays with its pool whatever the next datagram says.
    await d.sendBatch([packet('HELLO 7', { remote: { address: '127.0.0.1', port: 1 } })], never);
    await until(() => login!.seen.length === 2);
    expect(web!.seen.length).toBe(1);
    expect(d.status?.()).toMatchObject({ router: { routed: { login: 1, game: 1, web: 1, lan: 1, side: 1, rest: 1 } } });
  });

  it('drops a session no rule matches when there is no default (counted no-rule-matched)', async () => {
    const a = await backend('a');
    const { d, counted } = await proxy({ router: { type: 'rules', pools: { a: { backends: [a.label] } }, rules: [{ prefixText: 'A', pool: 'a' }] } });
    const r = await d.sendBatch([packet('B1'), packet('A1', { remote: { address: '127.0.0.1', port: 9 } })], never);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered']);
    await until(() => a.seen.length === 1);
    expect(counted.drops).toEqual({ 'no-rule-matched': 1 });
    expect(d.status?.()).toMatchObject({ sessions: 1 });
  });

  it('refuses a bad router block at config load, naming the path and the fix', () => {
    const cfg = (router: unknown) => ({ listeners: [{ name: 'l', port: 0, destinations: [{ type: 'udp', backends: ['127.0.0.1:9'], router }] }] });
    const problems = (router: unknown) => { try { resolveConfig(cfg(router), '/'); return []; } catch (e) { return (e as ConfigError).problems; } };
    expect(problems({ type: 'nope' })).toEqual([{ path: '/listeners/0/destinations/0/router/type', message: expect.stringContaining('unknown router type "nope": use one of module, redis, rules, static') }]);
    expect(problems({ type: 'rules', pools: {}, rules: [{ pool: 'x', expression: '${data[0:2]:oct}' }] })[0]).toMatchObject({ path: '/listeners/0/destinations/0/router/rules/0/expression' });
    expect(problems({ type: 'static', balance: 'random' })[0]).toMatchObject({ path: '/listeners/0/destinations/0/router/balance' });
    expect(problems({ type: 'static', balance: 'least-sessions' })).toEqual([]);
  });

  it('fails at create when a rule names a pool that does not exist', async () => {
    const err = await proxy({ router: { type: 'rules', pools: { a: { backends: ['127.0.0.1:9'] } }, rules: [{ prefixText: 'x', pool: 'b' }] } }).catch((e: Error) => e);
    expect((err as Error).message).toContain('router/rules/0/pool: no pool named "b": use one of a');
  });
});
