/** Backend addresses of the udp proxy: "host:port" / "[v6]:port", resolved once (a router's answer: when it comes). Pure except resolve. */
import { lookup } from 'node:dns/promises';
import { isIP, SocketAddress } from 'node:net';
import type { RouteTarget } from '../../gateway/plugin-kit.js';

/** A resolved backend; `label` is the text as configured, for status and logs. */
export type Backend = RouteTarget;

/** Split "host:port" or "[v6]:port". Returns an Error (not thrown) with what is wrong. */
export function parseHostPort(text: string): { host: string; port: number } | Error {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return new Error(`backend "${text}" must be host:port, or [ipv6]:port for an IPv6 address`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return new Error(`backend "${text}" has a port outside 1-65535`);
  return { host: m[1]!, port };
}

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
