/**
 * The kinds the gateway knows, by type name: destination kinds, packet source kinds and routers. The core
 * only reads it; the application registers the built-in kinds (app/builtin-kinds.ts), and a user
 * registers kinds of their own the same way before loading the config.
 */
import type { DestinationKind } from './destination.js';
import type { PacketSourceKind } from './packet-source.js';
import type { ListenerProtocolKind } from './listener-protocol.js';
import type { RouterKind } from './router.js';
import type { ConfigProblem } from '../errors.js';
import { validate } from '../config/validate.js';

export class KindRegistry<K extends { readonly type: string }> {
  private readonly kinds = new Map<string, K>();
  constructor(readonly what: string) {}
  register(kind: K): void { this.kinds.set(kind.type, kind); }
  get(type: string): K | undefined { return this.kinds.get(type); }
  types(): string[] { return [...this.kinds.keys()].sort(); }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- a kind's options type is known only to the kind */
export type AnyDestinationKind = DestinationKind<any>;
export type AnyPacketSourceKind = PacketSourceKind<any>;
export type AnyListenerProtocolKind = ListenerProtocolKind<any>;

export const destinationKinds = new KindRegistry<AnyDestinationKind>('destination');
export const packetSourceKinds = new KindRegistry<AnyPacketSourceKind>('packet source');
export const listenerProtocolKinds = new KindRegistry<AnyListenerProtocolKind>('listener protocol');

export function registerDestinationKind(kind: AnyDestinationKind): void { destinationKinds.register(kind); }
export function registerPacketSourceKind(kind: AnyPacketSourceKind): void { packetSourceKinds.register(kind); }
export function registerListenerProtocolKind(kind: AnyListenerProtocolKind): void { listenerProtocolKinds.register(kind); }
export type AnyRouterKind = RouterKind<any>;
export const routerKinds = new KindRegistry<AnyRouterKind>('router');
export function registerRouterKind(kind: AnyRouterKind): void { routerKinds.register(kind); }
/** A router block (`{ type, …its options }`) checked against its kind's schema, defaults filled in:
 *  for a destination kind's `refine` (the udp destination's `router`). */
export function resolveRouterConfig(raw: unknown, at: string): { value: { type: string } & Record<string, unknown> } | { problems: ConfigProblem[] } {
  const { type, ...options } = (raw ?? {}) as { type?: unknown };
  const kind = typeof type === 'string' ? routerKinds.get(type) : undefined;
  if (!kind) return { problems: [{ path: `${at}/type`, message: `${type === undefined ? 'is required' : `unknown router type ${JSON.stringify(type)}`}: use one of ${routerKinds.types().join(', ')}` }] };
  const o = validate(kind.options, options, at);
  if ('problems' in o) return o;
  return { value: { type: type as string, ...(o.value as Record<string, unknown>) } };
}
