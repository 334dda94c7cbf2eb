/** Backend addresses of the udp proxy: "host:port" / "[v6]:port", resolved once at start-up. Pure except resolve. */
import { lookup } from 'node:dns/promises';
import { isIP, SocketAddress } from 'node:net';
import { parseHostPort } from './options.js';

export { parseHostPort };

export interface Backend {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** As configured, for status and logs. */
  readonly label: string;
}

/** Canonical text of an IP literal, as the socket reports it in rinfo (lower case, compressed). */
function canonical(address: string, family: 4 | 6): string {
  return new SocketAddress({ address, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
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

/** FNV-1a (32-bit) of a client address: the same client address always picks the same backend. */
export function hashAddress(address: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
