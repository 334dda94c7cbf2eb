/** The gateway's udp proxy path on the native transport again with flow offload off
 *  (UDPGW_FLOW_OFFLOAD=off: every datagram through the pipeline), so both paths are checked whatever
 *  the default. The file runs in its own process, so the switch is this file's alone. */
process.env.UDPGW_FLOW_OFFLOAD = 'off';
await import('./gateway-native.test.js');
await import('../core/proxy.test.js');
