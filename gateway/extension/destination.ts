/**
 * The one interface every destination implements (destinations/<kind>/).
 * Batching, queueing, retry with backoff and dead-lettering wrap it (gateway/fanout/),
 * they are not re-implemented by each destination.
 */
import type { Logger } from 'pino';
import type { TSchema, Static } from '@sinclair/typebox';
import type { Packet, Reply, Endpoint } from '../packet.js';
import type { ArnContext, IamStatement } from './iam.js';
import type { ConfigProblem } from '../errors.js';
import type { SessionControl } from './router.js';
import type { OffloadedFlow } from './transport.js';

/** Per-packet outcome, in the same order as the batch. */
export type DeliveryOutcome =
  | { readonly status: 'delivered' }
  | { readonly status: 'retryable'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string };

export interface BatchResult {
  /** Exactly one outcome per packet of the batch, same order. */
  readonly outcomes: readonly DeliveryOutcome[];
  /** Replies to send back to clients by tag (request/response destinations). */
  readonly replies?: readonly Reply[];
}

/** Limits the batcher enforces before calling send (cite the service limit where they come from). */
export interface DestinationLimits {
  /** Most packets in one send() call. */
  readonly maxBatchPackets?: number;
  /** Most bytes in one send() call, as measured by packetBytes. */
  readonly maxBatchBytes?: number;
  /** A single packet larger than this (packetBytes) is dropped with reason 'oversize'. */
  readonly maxPacketBytes?: number;
  /** Size of one packet as the service counts it (encoded entry size); default data.length. */
  packetBytes?(packet: Packet): number;
}

export interface Destination {
  readonly kind: string;
  readonly name: string;
  readonly limits?: DestinationLimits;
  /** Deliver one batch. Must not throw for per-packet problems: report them in outcomes.
   *  A thrown error (or rejection) counts as 'retryable' for every packet of the batch.
   *  A destination whose work is done before it returns (the udp proxy: sendmmsg completes in the
   *  call) may return the result itself rather than a promise: the runner then finishes the batch
   *  in the same call, without promises or microtasks per batch. */
  sendBatch(batch: readonly Packet[], signal: AbortSignal): BatchResult | Promise<BatchResult>;
  /** Release sockets, workers, clients. Called once, after the queue drained or the deadline passed. */
  close?(): Promise<void>;
  /** Optional status for the admin API (sessions, workers, …). JSON-serialisable. */
  status?(): Record<string, unknown>;
  /** Optional: a destination with client sessions (the udp proxy) lists and ends them
   *  (GET /v1/sessions, POST /v1/sessions/end). */
  readonly sessions?: DestinationSessions;
}

/** One client session of a destination, as GET /v1/sessions lists it. */
export interface SessionInfo {
  readonly listener: string;
  /** "ip:port" or "[ipv6]:port" as the listener sees the client. */
  readonly client: string;
  /** The backend as configured ("host:port"), null while the router decides. */
  readonly backend: string | null;
  readonly state: 'open' | 'routing';
  readonly ageMs: number;
  /** Datagrams client → backend, and backend → client. */
  readonly packetsIn: number;
  readonly packetsOut: number;
}

export interface DestinationSessions extends SessionControl {
  list(): SessionInfo[];
  /** Sessions open now, cheaply (the udpgw_destination_sessions gauge reads it at scrape); without it, list().length. */
  count?(): number;
}

/** Trusted ways for a destination to send toward clients outside a send() result. */
export interface ClientSender {
  /** Reply to a packet by its tag; the tag is verified (forged/expired tags are refused and counted). */
  replyByTag(tag: string, data: Buffer): boolean;
  /** Send from a listener's socket to a client the gateway itself has a flow with
   *  (e.g. a udp proxy session relaying its backend's reply). Not exposed to outside input. */
  sendToClient(listener: string, remote: Endpoint, data: Buffer): void;
  /** Flow offload: asks the listener to forward this client's datagrams straight to `upstream` (a
   *  socket of the listener's transport: the net layer's `offloadTarget`) and upstream's back, without
   *  the pipeline. Granted only while the listener's one lane is this destination's and nothing on
   *  the listener looks at each packet (rate limit, format check, listener protocol, cluster mode).
   *  Undefined when not granted. */
  offload?(listener: string, remote: Endpoint, destination: string, upstream: object): OffloadedFlow | undefined;
}

export interface DestinationContext {
  readonly logger: Logger;
  readonly clients: ClientSender;
  /** Directory against which relative paths in the config are resolved. */
  readonly baseDir: string;
  /** Counts packets the destination dropped on purpose, by reason (udpgw_drops_total, where =
   *  listener/destination). Absent in bare tests: then drops are only in the destination's status. */
  readonly countDrop?: (reason: string, n?: number) => void;
  /** Counts an event of the destination (udpgw_destination_events_total{destination, event}). */
  readonly countEvent?: (event: string, n?: number) => void;
}

/** Builds one destination of a kind from its validated options. */
export type DestinationFactory<S extends TSchema = TSchema> =
  (name: string, options: Static<S>, ctx: DestinationContext) => Destination | Promise<Destination>;

/**
 * A destination kind's manifest (destinations/<kind>/manifest.ts): everything the application
 * needs to know about the kind without loading it. The module that does the work (and its SDK
 * client) is imported by `load()` only when a destination of the kind is created.
 */
export interface DestinationKind<S extends TSchema = TSchema> {
  readonly type: string;
  /** TypeBox schema of the kind-specific options (the common keys: name, type, batch, queue,
   *  inFlight, retry, deadLetter are added by the gateway). */
  readonly options: S;
  /** Batch defaults that suit this kind (e.g. lingerMs 0 for request/response), under the user's config. */
  readonly batchDefaults?: { readonly maxPackets?: number; readonly maxBytes?: number; readonly lingerMs?: number };
  /** Checks beyond the schema, on the validated options (paths prefixed with `at`): returns the
   *  options to use (e.g. a nested block validated by its own kind's schema) or the problems. */
  refine?(options: Static<S>, at: string): { value: Static<S> } | { problems: ConfigProblem[] };
  /** The factory, imported on first use. */
  load(): Promise<DestinationFactory<S>>;
  /** Checks beyond the schema, run by config loading (so `validate` and `start` alike, in the same
   *  run as the schema's): addresses that must parse, files that must exist. Each problem's path is
   *  relative to the destination entry (`/backends/1`); its message names the fix. Pure but for
   *  reading the file system; no network. */
  check?(options: Static<S>, ctx: { readonly baseDir: string }): ConfigProblem[];
  /** Least-privilege IAM statements a destination with these options needs (infra/ builds the
   *  task role from them). Absent: the kind calls no AWS API. */
  iam?(options: Static<S>, arn: ArnContext): IamStatement[];
}

export function defineDestinationKind<S extends TSchema>(kind: DestinationKind<S>): DestinationKind<S> {
  return kind;
}

/** Create a destination through its kind's manifest (loads the kind's module on first use). */
export async function createFromKind<S extends TSchema>(kind: DestinationKind<S>, name: string, options: Static<S>, ctx: DestinationContext): Promise<Destination> {
  return (await kind.load())(name, options, ctx);
}

export const delivered: DeliveryOutcome = Object.freeze({ status: 'delivered' });
export const retryable = (reason: string): DeliveryOutcome => ({ status: 'retryable', reason });
export const failed = (reason: string): DeliveryOutcome => ({ status: 'failed', reason });
export const allOutcomes = (n: number, o: DeliveryOutcome): DeliveryOutcome[] => new Array(n).fill(o);
