/** The WireGuard listener protocol: a pure engine the listener drives with datagrams, sends and ticks. */
export { WireGuardEngine, type WireGuardEngineOptions, type PeerStatus } from './engine.js';
export type { Endpoint, InnerUdpPacket, PeerConfig, WireGuardAction } from './types.js';
export { HANDSHAKE_FAILURE_REASONS, type DropReason, type WireGuardCounters } from './counters.js';
export { DEFAULT_LIMITS, type WireGuardLimits } from './constants.js';
export { decodeKey, generatePresharedKey, generatePrivateKey, isKey, publicKeyOf } from './keys.js';
export { buildInnerPacket, parseInnerPacket, swapped } from './inner-packet.js';
