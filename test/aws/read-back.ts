/** Read back what AWS destinations delivered to moto, as payload bytes. */
import { SQSClient, CreateQueueCommand, ReceiveMessageCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { pollUntil } from '../contract/destination-contract.js';

/** Payload bytes from the single-message event JSON ({"Data": base64, …}). */
export function dataOfEventJson(text: string): Buffer {
  const m = JSON.parse(text) as { Data: string; Formatter: string };
  if (m.Formatter !== 'base64') throw new Error(`unexpected formatter ${m.Formatter}`);
  return Buffer.from(m.Data, 'base64');
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: 'us-east-1' });
}

let queueSeq = 0;
export async function createQueue(sqs: SQSClient, prefix: string, fifo = false): Promise<{ url: string; arn: string }> {
  queueSeq += 1;
  const name = `${prefix}-${queueSeq}-${Date.now()}${fifo ? '.fifo' : ''}`;
  const attrs: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attrs }));
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: a.Attributes!.QueueArn! };
}

/** Receive message bodies until `expected` arrived (bounded polling). */
export function receiveBodies(sqs: SQSClient, queueUrl: string, expected: number): Promise<string[]> {
  return pollUntil(async () => {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    return (r.Messages ?? []).map((m) => m.Body ?? '');
  }, expected);
}
