/**
 * Ending udp proxy sessions from outside, one meaning for every path (a Redis disconnect message,
 * POST /v1/sessions/end): "ip:port" or "[ipv6]:port" names a client as the gateway sees it (an
 * IPv4 client on a dual-stack listener, ::ffff:a.b.c.d, matches its plain a.b.c.d), a bare "port"
 * the local port of a session's upstream socket (what older Redis-driven proxies published).
 */
import type { SessionControl } from '../extension/router.js';

export type SessionSelector = { readonly client: { address: string; port: number } } | { readonly upstreamPort: number };

/** Parses a disconnect payload; undefined when it is neither form. */
export function parseSessionSelector(text: string): SessionSelector | undefined {
  const t = text.trim();
  if (/^\d{1,5}$/.test(t)) { const port = Number(t); return port >= 1 && port <= 65535 ? { upstreamPort: port } : undefined; }
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(t) ?? /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(t);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { client: { address: m[1]!.toLowerCase(), port } } : undefined;
}

/** Ends what the selector names; returns how many sessions ended. */
export function endSessions(control: SessionControl, sel: SessionSelector): number {
  if ('upstreamPort' in sel) return control.endUpstreamPort(sel.upstreamPort);
  const { address, port } = sel.client;
  let n = control.endClient(address, port);
  if (!address.includes(':')) n += control.endClient(`::ffff:${address}`, port);
  return n;
}
