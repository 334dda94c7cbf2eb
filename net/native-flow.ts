/**
 * Flow offload on the native addon (native/udp_flow.c): a listener socket forwards a pinned
 * client's datagrams to its session socket and the session's back to the client itself, without
 * a JS call per batch. This file is the JS face: pinning, and reading what was forwarded.
 */
import type { Endpoint } from '../gateway/packet.js';
import type { OffloadReading, OffloadTotals, OffloadedFlow } from '../gateway/extension/transport.js';
import type { NativeAddon, NativeSocket } from './native-addon.js';

/** Pins `client` of `listener` to the session socket `upstream`; undefined when the addon cannot
 *  (not a session socket of this addon, another family, the client already pinned elsewhere). */
export function pinFlow(addon: NativeAddon, listener: NativeSocket, client: Endpoint, upstream: object): OffloadedFlow | undefined {
  const session = upstream as NativeSocket;
  if (typeof session.pin !== 'function' || typeof session.flow !== 'function') return undefined;
  const key = new Uint32Array(6);
  key[0] = addon.pton(client.address, key.subarray(2));
  key[1] = client.port;
  if (key[0] === 0) return undefined;
  let rc: number;
  try { rc = session.pin(listener, key); } catch { return undefined; }
  return rc === 0 ? new NativeFlow(session) : undefined;
}

/** Every read fills this one array (no allocation: flows are read periodically, thousands at a time). */
const reading = new Float64Array(8);

class NativeFlow implements OffloadedFlow {
  private ended = false;
  private last: OffloadReading | undefined;
  constructor(private readonly session: NativeSocket) {}

  read(): OffloadReading {
    // After end() the socket may be re-pinned by a newer flow (its counts restart): keep ours.
    if (this.ended && this.last) return this.last;
    const r = this.session.flow!(reading);
    this.last = {
      active: !this.ended && r[0] === 1, packetsIn: r[1]!, bytesIn: r[2]!, packetsOut: r[3]!, bytesOut: r[4]!,
      idleInMs: r[5]! < 0 ? Infinity : r[5]!, idleOutMs: r[6]! < 0 ? Infinity : r[6]!, errno: r[7]!,
    };
    return this.last;
  }

  end(): void {
    if (this.ended) return;
    this.read();
    this.ended = true;
    this.last = { ...this.last!, active: false };
    try { this.session.unpin?.(); } catch { /* a closed socket is unpinned already */ }
  }
}

const NO_TOTALS: OffloadTotals = { flows: 0, packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, outRefused: 0, handedBack: 0 };

export function offloadTotals(listener: NativeSocket): OffloadTotals {
  const t = listener.flowTotals?.();
  if (!t) return NO_TOTALS;
  return { flows: t[0]!, packetsIn: t[1]!, bytesIn: t[2]!, packetsOut: t[3]!, bytesOut: t[4]!, outRefused: t[5]!, handedBack: t[6]! };
}
