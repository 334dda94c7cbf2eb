import { dgramTransport } from '../../gateway/transport/dgram.js';
import { describeTransportContract } from './transport-contract.js';

describeTransportContract('dgram', dgramTransport);
