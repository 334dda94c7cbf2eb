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
  if (typeof session.pin !== 'function' || typeof session.flowState !== 'function' || typeof addon.monotonicMs !== 'function') return undefined;
  const key = new Uint32Array(6);
  key[0] = addon.pton(client.address, key.subarray(2));
  key[1] = client.port;
  if (key[0] === 0) return undefined;
  let rc: number;
  try { rc = session.pin(listener, key); } catch { return undefined; }
  if (rc !== 0) return undefined;
  clockOffset ??= addon.monotonicMs() - performance.now();
  let state = states.get(session);
  if (state === undefined) states.set(session, (state = session.flowState()));
  return new NativeFlow(session, state);
}

/** A session socket's flow state, read in place (one array per socket, kept across its pins). */
const states = new WeakMap<NativeSocket, Float64Array>();
/** The addon's monotonic clock (its flows' times) minus performance.now(): both CLOCK_MONOTONIC. */
let clockOffset: number | undefined;
/** The addon clock's now, read once per synchronous pass (a clock read costs ~100 ns on a VM, as much
 *  as the rest of a read: the sweep reads thousands of flows in one pass). */
let passNow: number | undefined;
const endPass = () => { passNow = undefined; };
function now(): number {
  if (passNow === undefined) { passNow = performance.now() + clockOffset!; queueMicrotask(endPass); }
  return passNow;
}

// The words of a flow state (native/udp_native.h, FLOW_*).
const PINNED = 0, IN_PACKETS = 1, IN_BYTES = 2, OUT_PACKETS = 3, OUT_BYTES = 4, IN_MS = 5, OUT_MS = 6, ERRNO = 7;

class NativeFlow implements OffloadedFlow {
  /** Set by end(): the flow's last reading. */
  private last: OffloadReading | undefined;
  constructor(private readonly session: NativeSocket, private readonly state: Float64Array) {}

  /** No addon call: the state is the addon's own memory (the sweep and the refresh read thousands). */
  read(): OffloadReading {
    // After end() the socket may be re-pinned by a newer flow (its counts restart): keep ours.
    if (this.last !== undefined) return this.last;
    const st = this.state, t = now();
    return {
      active: st[PINNED] === 1, packetsIn: st[IN_PACKETS]!, bytesIn: st[IN_BYTES]!,
      packetsOut: st[OUT_PACKETS]!, bytesOut: st[OUT_BYTES]!,
      idleInMs: st[IN_MS] === 0 ? Infinity : Math.max(0, t - st[IN_MS]!),
      idleOutMs: st[OUT_MS] === 0 ? Infinity : Math.max(0, t - st[OUT_MS]!), errno: st[ERRNO]!,
    };
  }

  /** Unpins the flow; its reading as of now is what read() returns from then on. */
  end(): void {
    if (this.last !== undefined) return;
    this.last = { ...this.read(), active: false };
    try { this.session.unpin?.(); } catch { /* a closed socket is unpinned already */ }
  }
}

const NO_TOTALS: OffloadTotals = { flows: 0, packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, outRefused: 0, handedBack: 0 };

export function offloadTotals(listener: NativeSocket): OffloadTotals {
  const t = listener.flowTotals?.();
  if (!t) return NO_TOTALS;
  return { flows: t[0]!, packetsIn: t[1]!, bytesIn: t[2]!, packetsOut: t[3]!, bytesOut: t[4]!, outRefused: t[5]!, handedBack: t[6]! };
}
