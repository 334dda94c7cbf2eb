/** Backend addresses of the udp proxy: "host:port" / "[v6]:port", resolved once (a router's answer: when it comes). Pure except resolve. */
import { lookup } from 'node:dns/promises';
import { isIP, SocketAddress } from 'node:net';
import { parseHostPort } from './options.js';

export { parseHostPort };
import type { RouteTarget } from '../../gateway/plugin-kit.js';

/** A resolved backend; `label` is the text as configured, for status and logs. */
export type Backend = RouteTarget;

/** Canonical text of an IP literal, as the socket reports it in rinfo (lower case, compressed). */
function canonical(address: string, family: 4 | 6): string {
  return new SocketAddress({ address, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
}

/** A "host:port" with an IP literal, without a lookup; undefined for a host name; throws if malformed. */
export function targetOf(text: string): Backend | undefined {
  const hp = parseHostPort(text);
  if (hp instanceof Error) throw hp;
  const family = isIP(hp.host);
  if (family === 0) return undefined;
  return { address: canonical(hp.host, family === 6 ? 6 : 4), port: hp.port, family: family === 6 ? 6 : 4, label: text };
}

/** Parse and resolve (a host name once, to its first address) every backend; throws listing all problems. */
export async function resolveBackends(list: readonly string[]): Promise<Backend[]> {
  const problems: string[] = [];
  const out: Backend[] = [];
  for (const label of list) {
    const hp = parseHostPort(label);
    if (hp instanceof Error) { problems.push(hp.message); continue; }
    try {
      const ip = isIP(hp.host) ? { address: hp.host, family: isIP(hp.host) } : await lookup(hp.host);
      const family = ip.family === 6 ? 6 : 4;
      out.push({ address: canonical(ip.address, family), port: hp.port, family, label });
    } catch (err) {
      problems.push(`backend "${label}": cannot resolve ${hp.host}: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new Error(problems.join('; '));
  return out;
}
