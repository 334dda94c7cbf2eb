/**
 * Loads the udp_native addon (native/, built by node-gyp into build/Release/udp_native.node, or
 * prebuilt in the package: prebuilds/<platform>-<arch>/) and
 * caches address conversions between the addon's raw 4/16-byte form and strings, so that the
 * per-packet cost is one Map lookup, not an inet_ntop/inet_pton.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Words per datagram in the metadata arrays shared with the addon (see native/udp_io.h). */
export const META_WORDS = 8;
export const RECV = { len: 0, port: 1, family: 2, flags: 3, addr: 4 } as const;
export const SEND = { offset: 0, len: 1, port: 2, family: 3, addr: 4 } as const;
/** Session sockets (connected): the port word of a refused datagram comes back holding its errno;
 *  listener sockets (unconnected): its family word comes back 0. */
export const SEND_ERRNO = 2;
export const FLAG_TRUNCATED = 1;

export interface NativeSocketOptions {
  host: string; port: number; reusePort: boolean;
  recvBufferBytes: number; sendBufferBytes: number; slots: number; slotBytes: number;
  coalesceMicros?: number;
}

export interface NativeSocket {
  local(): [string, number];
  startReading(): void;
  stopReading(): void;
  /** Sends datagrams 0..count-1 of the send slab; returns how many were sent or refused. */
  send(count: number): number;
  watchWritable(): void;
  close(): void;
  /** A listener socket's receive coalescing: [times it began, timer wake-ups, 1 while active, readable wake-ups]. */
  coalescing?(): [number, number, number, number];
  /** Flow offload (native/udp_flow.c), a session socket: the listener forwards the client's
   *  datagrams (key: family 4|6, port, address words) here, and this socket sends its backend's back
   *  to the client from the listener; 0 or -errno. */
  pin?(listener: NativeSocket, key: Uint32Array): number;
  unpin?(): void;
  /** [pinned, in packets, in bytes, out packets, out bytes, ms since last in (-1 never), ms since last out, errno of the last unpin] */
  flow?(out?: Float64Array): ArrayLike<number>;
  /** The same state, read in place (updated by the addon as it forwards): [pinned, in packets,
   *  in bytes, out packets, out bytes, monotonic ms of the last in (0 never), of the last out, errno of the last unpin] */
  flowState?(): Float64Array;
  /** A listener socket: [pinned flows, in packets, in bytes, out packets, out bytes, out refused, handed back to JS] since it opened. */
  flowTotals?(): number[];
  unpinAll?(): void;
}

/** Shared slabs of many UdpSession sockets (native/udp_group.c); opaque to JS. */
export interface NativeGroup { readonly __group?: never }

/**
 * One received batch: `count` payloads back to back in `batch` from byte `offset` (small batches
 * share a pooled 64 KiB Buffer, larger ones get their own at offset 0), or errno != 0.
 */
export type ReadCallback = (count: number, batch: Buffer | undefined, errno: number, offset?: number) => void;

export interface NativeAddon {
  /** HMAC-SHA256 with the key's pad states precomputed: sign() writes HMAC(key, buf[0..len)),
   *  truncated to macLen (<= 32) bytes, at buf[len..len+macLen). */
  TagMac?: new (key: Uint8Array) => { sign(buf: Uint8Array, len: number, macLen: number): void };
  UdpGroup: new (
    opts: { slots: number; slotBytes: number }, recvMeta: Uint32Array, sendPayload: Uint8Array,
    sendMeta: Uint32Array, status: Int32Array,
  ) => NativeGroup;
  /** A socket connected to host:port (numeric) on an ephemeral port, using the group's slabs. */
  UdpSession: new (
    group: NativeGroup, host: string, port: number,
    onRead: ReadCallback, onWritable: () => void,
  ) => NativeSocket;
  UdpSocket: new (
    opts: NativeSocketOptions, recvMeta: Uint32Array, sendPayload: Uint8Array, sendMeta: Uint32Array,
    status: Int32Array, onRead: ReadCallback, onWritable: () => void,
  ) => NativeSocket;
  /** UDP GSO/GRO for sockets opened from now on (native/offload_js.c); set from UDPGW_OFFLOAD at load. */
  setOffload?(mode: string | undefined, test?: { gsoErrno?: number; count?: number; noCheck?: boolean }): OffloadStatus;
  offload?(): OffloadStatus;
  pton(text: string, words: Uint32Array): 0 | 4 | 6;
  ntop(family: number, words: Uint32Array): string;
  /** CLOCK_MONOTONIC in ms: the clock of flowState()'s times. */
  monotonicMs?(): number;
  META_WORDS: number;
  MAX_SLOTS: number;
}

/** Process-wide offload mode, what new sockets use, and counters (native/offload_js.c). */
export interface OffloadStatus {
  mode: 'off' | 'gso' | 'gro' | 'all'; gso: boolean; gro: boolean;
  gsoSends: number; gsoDatagrams: number; gsoFallbacks: number; gsoLastErrno: number; groRuns: number; groDatagrams: number;
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon?: undefined; reason: string };

let loaded: AddonLoad | undefined;

function candidates(): string[] {
  const fromEnv = process.env.UDPGW_NATIVE_ADDON;
  // Compiled here (build/), else prebuilt in the package (prebuilds/, scripts/build-addons.mjs);
  // from net/ in the sources, dist/net/ in the package.
  const files = ['build/Release/udp_native.node', `prebuilds/${process.platform}-${process.arch}/udp_native.node`];
  const found = files.flatMap((f) => [`../${f}`, `../../${f}`]).map((r) => fileURLToPath(new URL(r, import.meta.url)));
  return fromEnv ? [fromEnv, ...found] : found;
}

/**
 * The addon, or why it is not available (not Linux, not built, failed to load). Memoised. On any
 * platform but Linux (Windows, macOS) nothing is loaded or even looked for: node:dgram serves.
 */
export function loadNativeAddon(platform: NodeJS.Platform = process.platform): AddonLoad {
  if (platform !== 'linux') return { reason: `platform ${platform} (the addon is Linux only)` };
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const problems: string[] = [];
  for (const path of candidates()) {
    try {
      const addon = require(path) as NativeAddon;
      if (addon.META_WORDS !== META_WORDS) throw new Error(`layout mismatch: META_WORDS ${addon.META_WORDS}`);
      addon.setOffload?.(process.env.UDPGW_OFFLOAD); // off | gso | gro | all; unset or other: the addon's default
      return (loaded = { addon, path });
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return (loaded = { reason: `addon not built or not loadable (${problems.join('; ')})` });
}

interface NameEntry { w0: number; w1: number; w2: number; w3: number; text: string }

/** Most addresses kept per cache; a cache that fills up is emptied (cheap, and bounded). */
const MAX_CACHED = 8192;

/** Raw received address words -> string, without allocating on a hit. */
export class AddressNames {
  private readonly byKey = new Map<number, NameEntry[]>();
  private size = 0;
  private readonly words = new Uint32Array(4);

  constructor(private readonly addon: NativeAddon) {}

  lookup(family: number, w0: number, w1: number, w2: number, w3: number): string {
    const key = (w0 ^ w1 ^ w2 ^ w3) >>> 0;
    const list = this.byKey.get(key);
    if (list) {
      for (const e of list) if (e.w0 === w0 && e.w1 === w1 && e.w2 === w2 && e.w3 === w3) return e.text;
    }
    return this.add(key, list, family, w0, w1, w2, w3);
  }

  private add(key: number, list: NameEntry[] | undefined, family: number, w0: number, w1: number, w2: number, w3: number): string {
    const w = this.words;
    w[0] = w0; w[1] = w1; w[2] = w2; w[3] = w3;
    const text = this.addon.ntop(family, w);
    if (this.size >= MAX_CACHED) { this.byKey.clear(); this.size = 0; list = undefined; }
    const entry = { w0, w1, w2, w3, text };
    if (list) list.push(entry); else this.byKey.set(key, [entry]);
    this.size++;
    return text;
  }
}

/** Parsed destination: [family (0 = not an IP address), w0, w1, w2, w3]. */
export class AddressWords {
  private readonly byText = new Map<string, Uint32Array>();

  constructor(private readonly addon: NativeAddon) {}

  lookup(text: string): Uint32Array {
    let entry = this.byText.get(text);
    if (entry) return entry;
    entry = new Uint32Array(5);
    entry[0] = this.addon.pton(text, entry.subarray(1));
    if (this.byText.size >= MAX_CACHED) this.byText.clear();
    this.byText.set(text, entry);
    return entry;
  }
}
