/** Registers every destination kind shipped with the gateway. Import once at start-up. */
import { registerDestinationKind } from './index.js';
import type { DestinationKind } from '../gateway/destination.js';
import { sqsKind } from './sqs/index.js';
import { handlerDestination } from './handler/index.js';
import { fileDestination } from './file/index.js';
import { udpDestination } from './udp/index.js';
import { httpDestination } from './http/index.js';

const builtin: DestinationKind[] = [
  sqsKind,
  handlerDestination,
  fileDestination,
  udpDestination,
  httpDestination,
];

for (const kind of builtin) registerDestinationKind(kind);
