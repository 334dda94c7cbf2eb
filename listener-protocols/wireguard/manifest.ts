/** Manifest of the `wireguard` listener protocol: type, options schema, lazy loader. */
import { defineListenerProtocolKind } from '../../gateway/plugin-kit.js';
import { WireGuardOptions } from './options.js';

export const wireguardKind = defineListenerProtocolKind({
  type: 'wireguard',
  options: WireGuardOptions,
  load: async () => (await import('./listener-protocol.js')).createWireGuardProtocol,
});
