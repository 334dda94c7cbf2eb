/** Registers every packet source kind shipped with the gateway. Import once at start-up. */
import { registerPacketSourceKind, type PacketSourceKind } from './index.js';
import { snsHttpKind } from './sns-http.js';
import { sqsKind } from './sqs.js';

const builtin: PacketSourceKind[] = [
  snsHttpKind,
  sqsKind,
];

for (const kind of builtin) registerPacketSourceKind(kind);
