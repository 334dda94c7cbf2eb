/**
 * dynamodb: one item per packet, BatchWriteItem. Items listed in UnprocessedItems (throttled or
 * over capacity) come back 'retryable'; the rest 'delivered'.
 * Keys must be unique within a batch (DynamoDB refuses duplicate keys in one BatchWriteItem):
 * the default partition key is the packet's tag, which is unique per packet.
 */
import { DynamoDBClient, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { delivered, retryable, type Destination, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { compileExpression } from '../../aws/create-error.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { itemBytes, itemKey, packetItem, type ItemLayout } from './item.js';
import { DynamoDbOptions } from './options.js';
export { DynamoDbOptions } from './options.js';

// DynamoDB BatchWriteItem: at most 25 put requests per call, 16 MB per call; an item at most 400 KB.
export const DYNAMODB_MAX_ITEMS = 25;
export const DYNAMODB_MAX_ITEM_BYTES = 409_600;
export const DYNAMODB_MAX_CALL_BYTES = 16_777_216;

export function createDynamoDbDestination(name: string, o: DynamoDbOptions): Destination {
  const client = new DynamoDBClient(awsClientConfig(o));
  const layout: ItemLayout = { ...o, partitionKey: compileExpression(name, 'partitionKey', o.partitionKey) };
  const item = memoPerPacket((p: Packet) => packetItem(p, layout));
  const limits = {
    maxBatchPackets: DYNAMODB_MAX_ITEMS,
    maxBatchBytes: DYNAMODB_MAX_CALL_BYTES,
    maxPacketBytes: DYNAMODB_MAX_ITEM_BYTES,
    packetBytes: (p: Packet) => itemBytes(item(p)),
  };
  return {
    kind: 'dynamodb', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      if (chunk.length === 0) return { outcomes: [] };
      const res = await client.send(new BatchWriteItemCommand({
        RequestItems: { [o.tableName]: chunk.map((p) => ({ PutRequest: { Item: item(p) } })) },
      }));
      const unprocessed = new Set((res.UnprocessedItems?.[o.tableName] ?? [])
        .map((r) => (r.PutRequest?.Item ? itemKey(r.PutRequest.Item, layout) : '')));
      const outcomes: DeliveryOutcome[] = chunk.map((p) =>
        unprocessed.has(itemKey(item(p), layout)) ? retryable('UnprocessedItems: throughput exceeded, resubmit') : delivered);
      return { outcomes };
    }),
    close: closeOnce(client),
  };
}

