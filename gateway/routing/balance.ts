/**
 * Picking one backend of a pool for a new session, as the static router does and the rules and
 * Redis routers do for their pools (through the plugin kit). Pure: the pool, the client address
 * and the sessions each backend holds in, one backend out.
 *   hash             the same client address, the same backend (FNV-1a modulo the pool, weights repeat a backend)
 *   consistent-hash  a ring of 160 points per unit of weight: adding a backend moves about 1/N of clients
 *   round-robin      smooth weighted round robin (nginx's): with equal weights, b1, b2, b3, b1, …
 *   least-sessions   the fewest sessions per unit of weight; ties go to the first listed
 * Backends a session already failed on are skipped (failover); when every one has failed, none is picked.
 */
import type { RouteTarget } from '../extension/router.js';

export type Balance = 'hash' | 'consistent-hash' | 'round-robin' | 'least-sessions';
export const BALANCES: readonly Balance[] = ['hash', 'consistent-hash', 'round-robin', 'least-sessions'];

export interface Balancer {
  /** A backend for a client, skipping `failed`; undefined when every backend has failed. */
  pick(clientAddress: string, failed?: readonly RouteTarget[]): RouteTarget | undefined;
  started(t: RouteTarget): void;
  ended(t: RouteTarget): void;
  /** Sessions per backend label. */
  sessions(): Record<string, number>;
}

/** FNV-1a (32-bit) of a client address: the same client address always picks the same backend. */
export function hashAddress(address: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** FNV-1a with murmur3's finaliser, so that near-identical strings ("b#1", "b#2") spread over the ring. */
function mixHash(text: string): number {
  let h = hashAddress(text);
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const RING_POINTS = 160;

export function createBalancer(targets: readonly RouteTarget[], balance: Balance, weights: Readonly<Record<string, number>> = {}): Balancer {
  if (targets.length === 0) throw new Error('a pool needs at least one backend');
  const weight = (t: RouteTarget): number => weights[t.label] ?? 1;
  const active = new Map<RouteTarget, number>(targets.map((t) => [t, 0]));
  const usable = (t: RouteTarget, failed?: readonly RouteTarget[]) => !failed?.length || !failed.some((f) => f.address === t.address && f.port === t.port);
  const pickers: Record<Balance, (address: string, failed?: readonly RouteTarget[]) => RouteTarget | undefined> = {
    hash: hashPicker(targets, weight, usable),
    'consistent-hash': ringPicker(targets, weight, usable),
    'round-robin': roundRobinPicker(targets, weight, usable),
    'least-sessions': (_a, failed) => {
      let best: RouteTarget | undefined, bestLoad = Infinity;
      for (const t of targets) {
        if (!usable(t, failed)) continue;
        const load = active.get(t)! / weight(t);
        if (load < bestLoad) { best = t; bestLoad = load; }
      }
      return best;
    },
  };
  const pick = pickers[balance];
  return {
    pick,
    started: (t) => { const n = active.get(t); if (n !== undefined) active.set(t, n + 1); },
    ended: (t) => { const n = active.get(t); if (n !== undefined && n > 0) active.set(t, n - 1); },
    sessions: () => Object.fromEntries([...active].map(([t, n]) => [t.label, n])),
  };
}

type Usable = (t: RouteTarget, failed?: readonly RouteTarget[]) => boolean;

function hashPicker(targets: readonly RouteTarget[], weight: (t: RouteTarget) => number, usable: Usable) {
  const slots = targets.flatMap((t) => new Array<RouteTarget>(weight(t)).fill(t));
  return (address: string, failed?: readonly RouteTarget[]): RouteTarget | undefined => {
    const h = hashAddress(address);
    for (let i = 0; i < slots.length; i++) {
      const t = slots[(h + i) % slots.length]!;
      if (usable(t, failed)) return t;
    }
    return undefined;
  };
}

function ringPicker(targets: readonly RouteTarget[], weight: (t: RouteTarget) => number, usable: Usable) {
  const points: { at: number; t: RouteTarget }[] = [];
  for (const t of targets) for (let i = 0; i < RING_POINTS * weight(t); i++) points.push({ at: mixHash(`${t.label}#${i}`), t });
  points.sort((a, b) => a.at - b.at);
  const at = Uint32Array.from(points.map((p) => p.at));
  return (address: string, failed?: readonly RouteTarget[]): RouteTarget | undefined => {
    const h = mixHash(address);
    let lo = 0, hi = at.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (at[mid]! < h) lo = mid + 1; else hi = mid; }
    for (let i = 0; i < points.length; i++) {
      const t = points[(lo + i) % points.length]!.t;
      if (usable(t, failed)) return t;
    }
    return undefined;
  };
}

function roundRobinPicker(targets: readonly RouteTarget[], weight: (t: RouteTarget) => number, usable: Usable) {
  const current = targets.map(() => 0);
  return (_address: string, failed?: readonly RouteTarget[]): RouteTarget | undefined => {
    let best = -1, total = 0;
    for (let i = 0; i < targets.length; i++) {
      if (!usable(targets[i]!, failed)) continue;
      const w = weight(targets[i]!);
      current[i]! += w;
      total += w;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best < 0) return undefined;
    current[best]! -= total;
    return targets[best];
  };
}
