/**
 * The one import for people who write a destination, a packet source or a router (`udp-gateway/plugin`), as
 * Quilkin's prelude serves filter authors: the extension interfaces, the outcome helpers, the wire
 * formats and the out-of-band delivery path. The built-in plugins import the core through this file
 * only (the layering check in `npm test` holds them to it), so what they use is what users get.
 * Walk-through: docs/architecture.md, "Add a destination".
 */
export {
  defineDestinationKind, createFromKind, delivered, retryable, failed, allOutcomes,
  type Destination, type DestinationKind, type DestinationFactory, type DestinationContext, type DestinationLimits,
  type BatchResult, type DeliveryOutcome, type ClientSender, type SessionInfo, type DestinationSessions,
} from './extension/destination.js';
export {
  definePacketSourceKind, type PacketSource, type PacketSourceKind, type PacketSourceFactory, type PacketSourceContext, type OutOfBandEgress,
} from './extension/packet-source.js';
export {
  registerDestinationKind, registerPacketSourceKind, registerListenerProtocolKind, registerRouterKind, routerKinds, resolveRouterConfig,
} from './extension/registry.js';
export {
  defineListenerProtocolKind, type ListenerProtocol, type ListenerProtocolKind, type ListenerProtocolFactory, type ListenerProtocolContext,
  type ProtocolDatagram,
} from './extension/listener-protocol.js';
export {
  defineRouterKind, isProxy, toBuffer,
  type Router, type RouterKind, type RouterFactory, type RouterContext, type RouteRequest, type RouteDecision,
  type ProxyDecision, type RouteTarget, type RoutedSession, type SessionControl, type Bytes,
} from './extension/router.js';
export type { IamStatement, ArnContext } from './extension/iam.js';
export type { OffloadedFlow, OffloadReading } from './extension/transport.js';
export type { Packet, Reply, Endpoint, Formatter, Datagram, InnerAddresses } from './packet.js';
export { GatewayError, type ConfigProblem } from './errors.js';
export { packageRoot } from './package.js';
export { toEvent, toEventMessage, parseReplies, type GatewayEvent, type EventMessage } from './wire/event.js';
export { repliesFrom, formatterOfBatch, type ReplyStats } from './wire/replies.js';
export { encodeData, decodeData } from './wire/formatter.js';
export { registerDataFormatter, type DataFormatter } from './extension/data-formatter.js';
export { deliverDocument, deliverDocumentRouted, countDelivery, isMalformed, needsAttention, summarize, type DeliveryReport } from './out-of-band/deliver.js';
export { sourceMetrics, type SourceMetrics } from './out-of-band/source-metrics.js';
export { SeenIds, ReplayWindow, type ReplayCheck } from './out-of-band/seen-ids.js';
export { DEFAULT_HTTP_LIMITS, limitedHttpServer, type HttpLimits } from './out-of-band/http-limits.js';
export { withLimits } from './fanout/limits.js';
export {
  parseExpression, checkExpression, ExpressionError, EXPRESSION_FORMAT, EXPRESSION_HELP, type Expression,
} from './wire/expression.js';
export { encodeProxyV2, decodeProxyV2, PROXY_V2_SIGNATURE, type ProxyV2Header, type ProxyTransport } from './wire/proxy-protocol.js';
export { createBalancer, hashAddress, BALANCES, type Balance, type Balancer } from './routing/balance.js';
export { BalanceSchema, BackendListSchema, WeightsSchema, PoolSchema } from './routing/schema.js';
export { createCidrMatcher, checkCidr } from './cidr.js';
export { parseSessionSelector, endSessions, type SessionSelector } from './routing/session-control.js';
