/** Registry of destination kinds: type name → kind (schema of its options + factory). */
import type { DestinationKind } from './destination.js';

const kinds = new Map<string, DestinationKind>();

export function registerDestinationKind(kind: DestinationKind): void {
  kinds.set(kind.type, kind);
}

export function destinationKind(type: string): DestinationKind | undefined {
  return kinds.get(type);
}

export function destinationTypes(): string[] {
  return [...kinds.keys()].sort();
}
