/** Public API of the package. */
export { createGateway, Gateway, type GatewayOptions } from './gateway.js';
export { runGateway, type RunningGateway } from './run.js';
export { loadConfig, resolveConfig, defaultConfig, type ResolvedConfig } from './config/load.js';
export { createTagCodec, type TagCodec, type TagClaims } from '../gateway/tag.js';
export { selectTagMac } from '../net/tag-mac.js';
export { toEvent, toEventMessage, parseReplies, type GatewayEvent, type EventMessage, type ReplyBody, type ReplyMessage } from '../gateway/wire/event.js';
export { encodeData, decodeData } from '../gateway/wire/formatter.js';
export { parseEgressDocument, type OutOfBandPacket } from '../gateway/wire/egress-message.js';
export { defineDestinationKind, type Destination, type DestinationKind, type BatchResult, type DeliveryOutcome } from '../gateway/extension/destination.js';
export { registerDestinationKind, registerPacketSourceKind, registerRouterKind } from '../gateway/extension/registry.js';
export { GatewayError, ConfigError, ERRORS, type ErrorCode } from '../gateway/errors.js';
export * from '../gateway/wire/handler-kit.js';
export type { Packet, Reply, Endpoint, Formatter } from '../gateway/packet.js';
