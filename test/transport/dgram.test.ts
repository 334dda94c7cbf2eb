import { dgramTransport } from '../../net/dgram.js';
import { describeTransportContract } from './transport-contract.js';

describeTransportContract('dgram', dgramTransport);
