/**
 * The transport contract, the core pipeline and the gateway's udp proxy path again with the
 * addon's UDP GSO and GRO on (UDPGW_OFFLOAD=all), so both modes are checked whatever the default;
 * offload-off.test.ts does the same with both off. Each test file runs in its own process.
 */
import { expect, it } from 'vitest';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport } from '../../net/native.js';
import { describeTransportContract } from './transport-contract.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const addon = loadNativeAddon().addon;

if (required && addon) {
  addon.setOffload!('all'); // sockets opened from now on, i.e. by every test below
  it('the mode is all for the sockets of this file', () => expect(addon.offload!().mode).toBe('all'));
  describeTransportContract('native, offload all', nativeTransport);
  await import('../core/pipeline.test.js');
  await import('./gateway-native.test.js');
} else {
  // Reported as skipped, not passed: the pipeline, gateway and transport contract suites above need the addon.
  it.skip('offload suites: the native addon is not required here (UDPGW_TRANSPORT=dgram, or not Linux)');
}
