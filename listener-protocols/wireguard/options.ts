/** Options of a `protocol: { type: wireguard, … }` listener. */
import { Type, type Static } from '@sinclair/typebox';

const Key = Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'a 32-byte key in base64, as wg genkey / wg pubkey write it' });

export const WireGuardPeerSchema = Type.Object({
  publicKey: Key,
  allowedIPs: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'inner source addresses this peer may use (CIDR), as in wg' }),
  presharedKey: Type.Optional(Key),
  name: Type.Optional(Type.String({ minLength: 1 })),
  endpoint: Type.Optional(Type.String({ pattern: '^(\\[[0-9a-fA-F:.]+\\]|[0-9.]+):\\d{1,5}$', description: 'host:port to reach the peer before it has sent anything' })),
  persistentKeepalive: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'seconds; 0 or absent: off' })),
}, { additionalProperties: false });

export const WireGuardOptions = Type.Object({
  privateKey: Type.Optional(Key),
  privateKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the private key (wg genkey > file), relative to the config file' })),
  address: Type.String({ minLength: 2, description: "the gateway's address inside the tunnel (devices send to it; replies come from it)" }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 5555, description: 'the inner UDP port devices send to' }),
  peers: Type.Array(WireGuardPeerSchema, { minItems: 1 }),
  underLoadHandshakesPerSecond: Type.Integer({ minimum: 1, default: 1000, description: 'above this, handshakes without a valid cookie get a cookie reply (MAC2)' }),
}, { additionalProperties: false });

export type WireGuardListenerOptions = Static<typeof WireGuardOptions>;
