/** The transport contract, pipeline and udp proxy path with the addon's UDP offload off (UDPGW_OFFLOAD=off). */
import { offloadSuites } from './offload-suites.js';

await offloadSuites('off');
