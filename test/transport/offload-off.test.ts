/**
 * The transport contract, the core pipeline and the gateway's udp proxy path again with the
 * addon's UDP offload off (UDPGW_OFFLOAD=off), so both modes are checked whatever the default;
 * offload-all.test.ts does the same with GSO and GRO on. Each test file runs in its own process.
 */
import { expect, it } from 'vitest';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport } from '../../net/native.js';
import { describeTransportContract } from './transport-contract.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const addon = loadNativeAddon().addon;

if (required && addon) {
  addon.setOffload!('off'); // sockets opened from now on, i.e. by every test below
  it('the mode is off for the sockets of this file', () => expect(addon.offload!().mode).toBe('off'));
  describeTransportContract('native, offload off', nativeTransport);
  await import('../core/pipeline.test.js');
  await import('./gateway-native.test.js');
} else {
  // Reported as skipped, not passed: the pipeline, gateway and transport contract suites above need the addon.
  it.skip('offload suites: the native addon is not required here (UDPGW_TRANSPORT=dgram, or not Linux)');
}
