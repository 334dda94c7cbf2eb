/** The transport contract, pipeline and udp proxy path with the addon's UDP GSO and GRO on (UDPGW_OFFLOAD=all). */
import { offloadSuites } from './offload-suites.js';

await offloadSuites('all');
