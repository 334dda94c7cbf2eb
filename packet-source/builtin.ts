/** Registers every packet source kind shipped with the gateway. Import once at start-up. */
import { registerPacketSourceKind, type PacketSourceKind } from './index.js';

const builtin: PacketSourceKind[] = [
];

for (const kind of builtin) registerPacketSourceKind(kind);
