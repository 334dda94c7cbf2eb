/**
 * The cluster bus: what several gateway nodes share, behind one interface (the core never imports a
 * Redis client; app/cluster-bus/redis-bus.ts implements it with Redis or Valkey).
 *   - a directory of flows: "client (listener, address, port) → the node that received it", written
 *     in batches, each entry with a time to live (the egress policy's recent-client window);
 *   - a liveness record per node;
 *   - a channel per node for packets forwarded to it, and one shared control channel.
 * Delivery on the channels is at most once (Redis pub/sub): a message published while the receiver
 * is disconnected is lost, like a UDP datagram.
 */

/** A directory entry to write: the key names the flow (see flowKey), the value is this node's id. */
export interface OwnershipWrite { readonly key: string }

export interface ClusterBus {
  readonly nodeId: string;
  /** True while the bus can reach Redis (the last command or connection event succeeded). */
  readonly up: boolean;
  /** One round trip: every entry set to this node with the given time to live. */
  writeOwnership(entries: readonly OwnershipWrite[], ttlMs: number): Promise<void>;
  /** The node that owns each flow key (null: none); one round trip. */
  owners(keys: readonly string[]): Promise<(string | null)[]>;
  /** A message for one node; resolves to the number of nodes that heard it (0: the node is gone). */
  forward(nodeId: string, message: Buffer): Promise<number>;
  /** A message for every node (this one included); resolves to how many heard it. */
  broadcast(message: Buffer): Promise<number>;
  /** Handlers of messages for this node and of broadcasts. */
  onMessage(handler: (message: Buffer) => void): void;
  /** Up/down transitions (one call per transition). */
  onState(handler: (up: boolean, reason?: string) => void): void;
  /** Liveness and counters for /v1/status. */
  status(): Record<string, unknown>;
  close(): Promise<void>;
}

/** The directory key of a flow: one key per listener, client address and port. An IPv4 client on a
 *  dual-stack listener (::ffff:a.b.c.d) has the key of its plain address, whichever socket saw it. */
export function flowKey(prefix: string, listener: string, address: string, port: number): string {
  return `${prefix}c:${listener}:${plainAddress(address)}:${port}`;
}

export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A node's liveness key. */
export const nodeKey = (prefix: string, nodeId: string): string => `${prefix}node:${nodeId}`;
/** The channel of packets forwarded to a node, and the control channel every node hears. */
export const nodeChannel = (prefix: string, nodeId: string): string => `${prefix}fwd:${nodeId}`;
export const controlChannel = (prefix: string): string => `${prefix}ctl`;

/**
 * What travels between nodes. `oob`: an out-of-band packet for a client whose flow the receiver owns;
 * `reply`: an async reply by tag (the receiver verifies the tag again); `end-sessions`: a client's
 * udp proxy sessions end on whichever node holds them.
 */
export type ClusterMessage =
  | { readonly kind: 'oob'; readonly from: string; readonly listener: string; readonly address: string; readonly port: number; readonly expiresAt?: number; readonly data: Buffer }
  | { readonly kind: 'reply'; readonly from: string; readonly tag: string; readonly data: Buffer }
  | { readonly kind: 'end-sessions'; readonly from: string; readonly client: string; readonly destination?: string };

/** Binary-safe: a 4-byte header length, a JSON header, then the data bytes as they are. */
export function encodeClusterMessage(m: ClusterMessage): Buffer {
  const { data, ...head } = m as ClusterMessage & { data?: Buffer };
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length + (data?.length ?? 0));
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  data?.copy(out, 4 + json.length);
  return out;
}

/** Marks several messages in one payload (a single message starts with its header's length, never this). */
const BATCH = 0xffffffff;

/** Several messages for one node in one payload: the marker, then each as [length, message]. */
export function encodeClusterBatch(messages: readonly Buffer[]): Buffer {
  if (messages.length === 1) return messages[0]!;
  const out = Buffer.allocUnsafe(4 + messages.reduce((n, m) => n + 4 + m.length, 0));
  out.writeUInt32BE(BATCH, 0);
  let o = 4;
  for (const m of messages) { out.writeUInt32BE(m.length, o); m.copy(out, o + 4); o += 4 + m.length; }
  return out;
}

/** The messages of a payload (one, or a batch); undefined entries are malformed (counted by the caller). */
export function decodeClusterPayload(b: Buffer): (ClusterMessage | undefined)[] {
  if (b.length < 4 || b.readUInt32BE(0) !== BATCH) return [decodeClusterMessage(b)];
  const out: (ClusterMessage | undefined)[] = [];
  for (let o = 4; o < b.length;) {
    if (o + 4 > b.length) { out.push(undefined); break; }
    const n = b.readUInt32BE(o);
    if (o + 4 + n > b.length) { out.push(undefined); break; }
    out.push(decodeClusterMessage(b.subarray(o + 4, o + 4 + n)));
    o += 4 + n;
  }
  return out;
}

/** Undefined for anything that is not a well-formed message (counted by the caller). */
export function decodeClusterMessage(b: Buffer): ClusterMessage | undefined {
  if (b.length < 4) return undefined;
  const n = b.readUInt32BE(0);
  if (4 + n > b.length) return undefined;
  let head: Record<string, unknown>;
  try { head = JSON.parse(b.subarray(4, 4 + n).toString('utf8')) as Record<string, unknown>; } catch { return undefined; }
  if (typeof head !== 'object' || head === null || typeof head.from !== 'string') return undefined;
  const data = Buffer.from(b.subarray(4 + n));
  if (head.kind === 'oob' && typeof head.listener === 'string' && typeof head.address === 'string' && Number.isInteger(head.port)
    && (head.expiresAt === undefined || typeof head.expiresAt === 'number')) {
    return { kind: 'oob', from: head.from, listener: head.listener, address: head.address, port: head.port as number,
      ...(head.expiresAt !== undefined ? { expiresAt: head.expiresAt as number } : {}), data };
  }
  if (head.kind === 'reply' && typeof head.tag === 'string') return { kind: 'reply', from: head.from, tag: head.tag, data };
  if (head.kind === 'end-sessions' && typeof head.client === 'string' && (head.destination === undefined || typeof head.destination === 'string')) {
    return { kind: 'end-sessions', from: head.from, client: head.client, ...(head.destination !== undefined ? { destination: head.destination as string } : {}) };
  }
  return undefined;
}
