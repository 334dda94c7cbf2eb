/** Public API of the package. */
export { createGateway, Gateway, type GatewayOptions } from './gateway.js';
export { runGateway, type RunningGateway } from './run.js';
export { loadConfig, resolveConfig, defaultConfig, type ResolvedConfig } from './config/load.js';
export { createTagCodec, type TagCodec, type TagClaims } from './tag.js';
export { toEvent, toEventMessage, parseReplies, type GatewayEvent, type EventMessage, type ReplyBody, type ReplyMessage } from './event.js';
export { encodeData, decodeData } from './formatter.js';
export { parseEgressDocument, type OutOfBandPacket } from './egress-message.js';
export { defineDestinationKind, type Destination, type DestinationKind, type BatchResult, type DeliveryOutcome } from './destination.js';
export { registerDestinationKind } from '../destinations/index.js';
export { GatewayError, ConfigError, ERRORS, type ErrorCode } from './errors.js';
export * from './handler-kit.js';
export type { Packet, Reply, Endpoint, Formatter } from './packet.js';
