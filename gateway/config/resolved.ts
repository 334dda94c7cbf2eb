/** The configuration as the core receives it: validated, defaults filled in, each destination's and
 *  packet source's options checked by its kind, frozen (app/config/load.ts produces it). */
import type { GatewayConfig, DestinationConfig } from './schema.js';

export interface PacketSourceConfig { readonly name: string; readonly type: string; readonly listener?: string; readonly options: Record<string, unknown> }

export interface ResolvedListener extends Omit<GatewayConfig['listeners'][number], 'destinations' | 'protocol'> {
  readonly destinations: readonly DestinationConfig[];
  /** The listener protocol and its options, validated by the protocol kind. */
  readonly protocol?: { readonly type: string; readonly options: Record<string, unknown> };
}

export interface ResolvedConfig extends Omit<GatewayConfig, 'listeners' | 'packetSources'> {
  readonly listeners: readonly ResolvedListener[];
  readonly packetSources: readonly PacketSourceConfig[];
  /** Directory relative paths (handler modules, files) are resolved against. */
  readonly baseDir: string;
}

