/**
 * Chooses the UDP transport: the native recvmmsg/sendmmsg addon where it loads (Linux, built at
 * install), else node:dgram. One log line says which path is in use and why.
 */
import { GatewayError } from '../gateway/errors.js';
import { dgramTransport } from './dgram.js';
import { loadNativeAddon } from './native-addon.js';
import { nativeTransport } from './native.js';
import type { TransportFactory } from '../gateway/extension/transport.js';

export type TransportPreference = 'auto' | 'native' | 'dgram';
export const TRANSPORT_PREFERENCES: readonly TransportPreference[] = ['auto', 'native', 'dgram'];

/** The part of a pino logger used here. */
export interface TransportLogger {
  info(obj: object, msg: string): void;
}

/** UDPGW_TRANSPORT=auto|native|dgram, if set and valid; it overrides the configured preference. */
export function transportPreferenceFromEnv(env: NodeJS.ProcessEnv = process.env): TransportPreference | undefined {
  const v = env.UDPGW_TRANSPORT;
  return TRANSPORT_PREFERENCES.find((p) => p === v);
}

/** `platform` is process.platform (a test passes another): off Linux the addon is never tried. */
export function selectTransport(preference: TransportPreference, logger: TransportLogger, platform: NodeJS.Platform = process.platform): TransportFactory {
  if (preference === 'dgram') {
    logger.info({ transport: 'dgram', preference }, 'udp transport: dgram (configured)');
    return dgramTransport;
  }
  const load = loadNativeAddon(platform);
  if (load.addon) {
    logger.info({ transport: 'native', preference, addon: load.path }, 'udp transport: native recvmmsg/sendmmsg addon');
    return nativeTransport;
  }
  if (preference === 'native') {
    throw new GatewayError('UGW_ERR_LISTENER_BIND', `udp transport "native" was configured but is unavailable: ${load.reason}`);
  }
  logger.info({ transport: 'dgram', preference, reason: load.reason }, `udp transport: dgram (native unavailable: ${load.reason})`);
  return dgramTransport;
}
