/**
 * Out-of-band ingress (PacketSource): SNS HTTP(S) endpoint, SQS poller, … .
 * Each kind registers its options schema and factory; sources hand parsed messages to the Egress.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Egress } from '../egress.js';
import type { Metrics } from '../metrics.js';

export interface PacketSource {
  start(): Promise<void>;
  close(): Promise<void>;
  status?(): Record<string, unknown>;
}

export interface PacketSourceContext {
  readonly logger: Logger;
  readonly egress: Egress;
  /** The listener this source is bound to (packets leave from its socket unless a message names another). */
  readonly listener: string;
  readonly baseDir: string;
  /** The gateway's metrics registry; a source keeps a private registry when absent. */
  readonly metrics?: Metrics;
}

export interface PacketSourceKind<S extends TSchema = TSchema> {
  readonly type: string;
  readonly options: S;
  create(name: string, options: Static<S>, ctx: PacketSourceContext): PacketSource;
}

const kinds = new Map<string, PacketSourceKind>();

export function registerPacketSourceKind(kind: PacketSourceKind): void { kinds.set(kind.type, kind); }
export function packetSourceKind(type: string): PacketSourceKind | undefined { return kinds.get(type); }
export function packetSourceTypes(): string[] { return [...kinds.keys()].sort(); }
