/**
 * Configuration schema (TypeBox = JSON Schema). Defaults are filled in, unknown keys are errors,
 * the result is validated once at start-up and frozen. Destination options are validated by the
 * destination kind's own schema (see gateway/config/load.ts), so each kind owns its keys.
 */
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 0, maximum: 65535, description: 'a UDP port; 0 picks a free one' });
/** A listener's receive coalescing when its config does not set it (docs/performance.md, "Receive coalescing"). */
export const DEFAULT_RECEIVE_COALESCE_MICROS = 100;
const Cidr = Type.String({ minLength: 1, description: 'CIDR (10.0.0.0/8, 2001:db8::/32) or a single address' });
export const FormatterSchema = Type.Union([Type.Literal('base64'), Type.Literal('hex'), Type.Literal('utf8'), Type.Literal('ascii'), Type.Literal('coap')]);

export const BatchSchema = Type.Object({
  maxPackets: Type.Integer({ minimum: 1, default: 100 }),
  maxBytes: Type.Integer({ minimum: 1, default: 1_048_576 }),
  lingerMs: Type.Integer({ minimum: 0, default: 5 }),
}, { additionalProperties: false, default: {} });

export const RetrySchema = Type.Object({
  maxAttempts: Type.Integer({ minimum: 1, default: 5, description: 'attempts in all, including the first' }),
  baseDelayMs: Type.Integer({ minimum: 1, default: 50 }),
  maxDelayMs: Type.Integer({ minimum: 1, default: 5_000 }),
}, { additionalProperties: false, default: {} });

/** A dead-letter target is a destination of any kind: `{ type, …its options, retry? }`. Two
 *  shorthands stay accepted: `{ file }` (= type file) and `{ sqsQueueUrl, region?, endpoint? }` (= type sqs). */
export const DeadLetterSchema = Type.Union([
  Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ sqsQueueUrl: Type.String({ minLength: 1 }), region: Type.Optional(Type.String()), endpoint: Type.Optional(Type.String()) }, { additionalProperties: false }),
  Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
], { description: '{ file: <path> }, { sqsQueueUrl: <url> }, or a destination { type: <kind>, … }' });

/** Keys every destination has, whatever its type. */
export const CommonDestinationSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'letters, digits, _ . and - only' })),
  type: Type.String({ minLength: 1 }),
  batch: BatchSchema,
  queue: Type.Object({ maxPackets: Type.Integer({ minimum: 1, default: 10_000 }) }, { additionalProperties: false, default: {} }),
  inFlight: Type.Integer({ minimum: 1, default: 4, description: 'batches being sent at once' }),
  retry: RetrySchema,
  deadLetter: Type.Optional(DeadLetterSchema),
  buffer: Type.Optional(Type.Object({
    disk: Type.Object({
      path: Type.String({ minLength: 1, description: 'a directory of its own for this destination (relative to the config file)' }),
      maxBytes: Type.Integer({ minimum: 65_536, default: 1_073_741_824, description: 'past this, packets go to the dead-letter (or are dropped, reason buffer-full)' }),
      fsync: Type.Union([Type.Literal('always'), Type.Literal('interval'), Type.Literal('never')], { default: 'interval', description: 'when written packets are synced to the device' }),
      fsyncIntervalMs: Type.Integer({ minimum: 1, default: 1_000 }),
    }, { additionalProperties: false }),
  }, { additionalProperties: false })),
  sample: Type.Optional(Type.Object({
    every: Type.Integer({ minimum: 1, description: 'only one packet in `every` goes to this destination (the others are counted as sampled-out)' }),
  }, { additionalProperties: false })),
});
export const COMMON_DESTINATION_KEYS = Object.keys(CommonDestinationSchema.properties);

export const ListenerSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'letters, digits, _ . and - only' }),
  host: Type.String({ default: '127.0.0.1', description: 'address to bind: 0.0.0.0, ::, 127.0.0.1, …' }),
  port: Port,
  formatter: Type.Optional(FormatterSchema),
  receiveBufferBytes: Type.Optional(Type.Integer({ minimum: 4096 })),
  sendBufferBytes: Type.Optional(Type.Integer({ minimum: 4096 })),
  maxDatagramBytes: Type.Integer({ minimum: 1, maximum: 65_507, default: 65_507 }),
  receiveCoalesceMicros: Type.Integer({ minimum: 0, maximum: 10_000, default: DEFAULT_RECEIVE_COALESCE_MICROS, description: 'when the socket wakes up more than twice per this many µs (over 8 wake-ups), read it on a timer every this many µs instead of on every datagram, so datagrams arrive and leave in larger batches (native transport); adds at most this to latency while traffic is that dense; 0 turns it off' }),
  allow: Type.Optional(Type.Array(Cidr)),
  deny: Type.Optional(Type.Array(Cidr)),
  /** A listener protocol between the socket and the pipeline: `{ type: wireguard, … }` (its options are
   *  checked by the protocol kind's own schema). Absent: plain UDP. */
  protocol: Type.Optional(Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true })),
  rateLimit: Type.Optional(Type.Object({
    packetsPerSecond: Type.Optional(Type.Integer({ minimum: 1, description: 'per client address' })),
    bytesPerSecond: Type.Optional(Type.Integer({ minimum: 1, description: 'per client address (payload bytes)' })),
    burstSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 1, description: 'a client may send this many seconds of its rates at once' }),
    maxClients: Type.Integer({ minimum: 1, default: 100_000, description: 'client addresses remembered; the least recently seen is forgotten first' }),
  }, { additionalProperties: false })),
  destinations: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1 }),
}, { additionalProperties: false });

export const EgressSchema = Type.Object({
  /** Networks out-of-band sends may reach, in addition to recently seen clients. */
  allow: Type.Array(Cidr, { default: [] }),
  /** A client seen on a listener within this window may receive out-of-band packets from it. 0 disables. */
  recentClientSeconds: Type.Integer({ minimum: 0, default: 3600 }),
  /** Most recent clients remembered per listener. */
  maxRecentClients: Type.Integer({ minimum: 1, default: 100_000 }),
  /** address: a client seen at an address may receive on any port; address-port: only on the port it sent from. */
  policy: Type.Union([Type.Literal('address'), Type.Literal('address-port')], { default: 'address', description: 'address-port remembers the port each client sent from, and sends out of band only to that address and port' }),
}, { additionalProperties: false, default: {} });

/** Several nodes as one gateway: flow ownership, cluster-wide egress policy and session control through Redis (docs/cluster.md). */
export const ClusterSchema = Type.Object({
  redis: Type.String({ minLength: 1, description: 'redis://host:port or rediss://host:port (TLS); Valkey and ElastiCache speak the same protocol' }),
  nodeId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$', description: 'this node\'s name in the cluster; default: hostname-pid (hostname-w<slot> for --workers)' })),
  keyPrefix: Type.String({ default: 'udpgw:', maxLength: 128, description: 'prefix of every key and channel (one cluster per prefix)' }),
  flushMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000, description: 'seen clients are written to Redis in one pipeline this often' }),
  heartbeatMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 2000, description: 'liveness key refreshed this often; it expires after 3 of these' }),
  maxPendingWrites: Type.Integer({ minimum: 1, default: 100_000, description: 'seen clients waiting for the next flush; more are counted (pending-overflow) and retried on their next packet' }),
  lookupTimeoutMs: Type.Integer({ minimum: 1, default: 500, description: 'a Redis command slower than this fails (the packet is handled locally)' }),
  ownerCacheMs: Type.Integer({ minimum: 0, default: 1000, description: 'how long a looked-up owner is reused' }),
}, { additionalProperties: false });

export const ConfigSchema = Type.Object({
  secret: Type.Optional(Type.String({ minLength: 16, description: 'tag signing secret; generated if absent' })),
  previousSecrets: Type.Array(Type.String({ minLength: 16 }), { default: [] }),
  replyWindowSeconds: Type.Integer({ minimum: 1, default: 60 }),
  formatter: Type.Optional(FormatterSchema),
  shutdownDeadlineMs: Type.Integer({ minimum: 0, default: 10_000 }),
  transport: Type.Union([Type.Literal('auto'), Type.Literal('native'), Type.Literal('dgram')], {
    default: 'auto', description: 'auto: the recvmmsg/sendmmsg addon where it is built (Linux), else node:dgram',
  }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  }, { additionalProperties: false, default: {} }),
  admin: Type.Object({
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 9555, description: 'a TCP port; 0 picks a free one' }),
    token: Type.Optional(Type.String({ minLength: 8, description: 'bearer token for POST /v1/send; sends are refused without one' })),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'a request (headers and body) must arrive within this, else 408 and the connection is closed' }),
    maxConnections: Type.Integer({ minimum: 1, default: 256, description: 'open connections at once; more are closed on accept' }),
  }, { additionalProperties: false, default: {} }),
  egress: EgressSchema,
  cluster: Type.Optional(ClusterSchema),
  listeners: Type.Array(ListenerSchema, { minItems: 1 }),
  packetSources: Type.Array(Type.Object({}, { additionalProperties: true }), { default: [] }),
}, { additionalProperties: false });

export type GatewayConfig = Static<typeof ConfigSchema>;
export type ListenerConfig = Static<typeof ListenerSchema>;
export type CommonDestinationConfig = Omit<Static<typeof CommonDestinationSchema>, 'deadLetter'> & { name: string };
/** A destination entry after validation: common keys plus the kind's options; its dead-letter
 *  target resolved the same way (a destination entry of its own, without a dead-letter). */
export type DestinationConfig = CommonDestinationConfig & { options: Record<string, unknown>; deadLetter?: DestinationConfig };
