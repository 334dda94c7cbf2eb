/** Registers every destination kind shipped with the gateway. Import once at start-up. */
import { registerDestinationKind } from './index.js';
import type { DestinationKind } from '../gateway/destination.js';

const builtin: DestinationKind[] = [
];

for (const kind of builtin) registerDestinationKind(kind);
