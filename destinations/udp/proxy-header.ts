/** The PROXY protocol v2 header of a udp session (gateway/wire/proxy-protocol.ts): client → listener address. */
import { encodeProxyV2 } from '../../gateway/plugin-kit.js';
import type { Session } from './session.js';

export function proxyHeaderOf(on: 'first' | 'every'): { every: boolean; build(s: Session<unknown>): Buffer } {
  const cache = new WeakMap<Session<unknown>, Buffer>();
  return {
    every: on === 'every',
    build(s) {
      let h = cache.get(s);
      if (!h) cache.set(s, h = encodeProxyV2(s.remote, s.local, 'dgram'));
      return h;
    },
  };
}
