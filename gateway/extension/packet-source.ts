/**
 * Out-of-band ingress (PacketSource): SNS HTTP(S) endpoint, SQS poller, the admin API, … .
 * A source turns outside documents into egress sends through the one delivery path
 * (gateway/out-of-band/deliver.ts); each kind is a manifest (packet-source/<kind>/manifest.ts).
 */
import type { TSchema, Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { EgressResult } from '../egress.js';
import type { Formatter } from '../packet.js';
import type { Metrics } from '../metrics.js';
import type { OutOfBandPacket } from '../wire/egress-message.js';
import type { ArnContext, IamStatement } from './iam.js';

export interface PacketSource {
  start(): Promise<void>;
  close(): Promise<void>;
  status?(): Record<string, unknown>;
}

/** What a packet source may do toward clients: out-of-band packets under the address policy, and
 *  async replies by tag. The egress checks both; nothing here can reach an arbitrary address. */
export interface OutOfBandEgress {
  sendOutOfBand(p: OutOfBandPacket, defaultListener: string): EgressResult;
  reply(tag: string, data: Buffer, path?: string): EgressResult;
  formatterOf(listener: string): Formatter | undefined;
  /** Formatter of the listener a tag names (for decoding reply Data); undefined for a bad tag. */
  readonly formatterOfTag: (tag: string) => Formatter | undefined;
  /** Cluster mode: the same sends, from the node that owns the client's flow (deliverDocumentRouted uses them). */
  routeOutOfBand?(p: OutOfBandPacket, defaultListener: string): Promise<EgressResult>;
  routeReply?(tag: string, data: Buffer, path?: string): Promise<EgressResult>;
}

export interface PacketSourceContext {
  readonly logger: Logger;
  readonly egress: OutOfBandEgress;
  /** The listener this source is bound to (packets leave from its socket unless a message names another). */
  readonly listener: string;
  readonly baseDir: string;
  /** The gateway's metrics registry; a source keeps a private registry when absent. */
  readonly metrics?: Metrics;
}

export type PacketSourceFactory<S extends TSchema = TSchema> = (name: string, options: Static<S>, ctx: PacketSourceContext) => PacketSource;

/** A packet source kind's manifest: type, options schema, lazy loader, IAM statements. */
export interface PacketSourceKind<S extends TSchema = TSchema> {
  readonly type: string;
  readonly options: S;
  /** The factory, imported when a source of this kind is created. */
  load(): Promise<PacketSourceFactory<S>>;
  /** Least-privilege IAM statements (infra/); absent: the kind calls no AWS API. */
  iam?(options: Static<S>, arn: ArnContext): IamStatement[];
}

export function definePacketSourceKind<S extends TSchema>(kind: PacketSourceKind<S>): PacketSourceKind<S> {
  return kind;
}
