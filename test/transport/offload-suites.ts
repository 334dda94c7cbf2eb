/**
 * The transport contract, the core pipeline, the gateway's udp proxy path and flow offload again with the addon's
 * UDP offload set to one mode for every socket the calling test file opens (offload-all.test.ts,
 * offload-off.test.ts), so both modes are checked whatever the default. Each test file runs in its
 * own process, so the mode set here is that file's alone.
 */
import { expect, it } from 'vitest';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport } from '../../net/native.js';
import { describeTransportContract } from './transport-contract.js';

export async function offloadSuites(mode: 'all' | 'off'): Promise<void> {
  const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
  const addon = loadNativeAddon().addon;
  if (!required || !addon) {
    // Reported as skipped, not passed: the pipeline, gateway and transport contract suites need the addon.
    it.skip('offload suites: the native addon is not required here (UDPGW_TRANSPORT=dgram, or not Linux)');
    return;
  }
  addon.setOffload!(mode); // sockets opened from now on, i.e. by every test below
  it(`the mode is ${mode} for the sockets of this file`, () => expect(addon.offload!().mode).toBe(mode));
  describeTransportContract(`native, offload ${mode}`, nativeTransport);
  await import('../core/pipeline.test.js');
  await import('./gateway-native.test.js');
  await import('./native-flow.test.js');
  await import('./gateway-offload.test.js');
}
