/**
 * One DynamoDB item per packet (pure). Size as DynamoDB counts it: attribute names (UTF-8) plus
 * values: strings UTF-8 bytes, binary raw bytes, numbers at most 21 bytes (counted as 21 here).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Packet } from '../../gateway/plugin-kit.js';
import type { Expression } from '../../gateway/plugin-kit.js';

export type Item = Record<string, AttributeValue>;

export interface ItemLayout {
  readonly partitionKeyAttribute: string;
  readonly partitionKey: Expression;
  readonly sortKeyAttribute?: string;
  readonly ttlAttribute?: string;
  readonly ttlSeconds?: number;
}

export function packetItem(p: Packet, l: ItemLayout): Item {
  const item: Item = {
    tag: { S: p.tag },
    listener: { S: p.listener },
    remote: { S: `${p.remote.address}:${p.remote.port}` },
    remoteAddress: { S: p.remote.address },
    remotePort: { N: String(p.remote.port) },
    receivedAt: { S: new Date(p.receivedAt).toISOString() },
    data: { B: p.data },
  };
  item[l.partitionKeyAttribute] = { S: l.partitionKey(p) };
  if (l.sortKeyAttribute) item[l.sortKeyAttribute] = { N: String(p.receivedAt) };
  if (l.ttlAttribute && l.ttlSeconds) item[l.ttlAttribute] = { N: String(Math.floor(p.receivedAt / 1000) + l.ttlSeconds) };
  return item;
}

/** Identity of an item by its key attributes, to match UnprocessedItems back to packets. */
export function itemKey(item: Item, l: ItemLayout): string {
  const pk = item[l.partitionKeyAttribute]?.S ?? '';
  const sk = l.sortKeyAttribute ? item[l.sortKeyAttribute]?.N ?? '' : '';
  return `${pk}\u0000${sk}`;
}

export function itemBytes(item: Item): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) {
    n += Buffer.byteLength(name);
    if (v.S !== undefined) n += Buffer.byteLength(v.S);
    else if (v.B !== undefined) n += v.B.length;
    else n += 21; // DynamoDB: a number takes up to 21 bytes
  }
  return n;
}
