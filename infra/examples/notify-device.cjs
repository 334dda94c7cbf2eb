// CommonJS on purpose: inline Lambda code (CloudFormation ZipFile) is saved as index.js.
// Push a packet to a device through the gateway's SNS packet topic (out-of-band egress).
// Invoke with {"address":"203.0.113.5","port":51234,"text":"wake up"}. Equivalent to
// sendPackets({ topicArn }, [{ address, port, data }]) from 'udp-gateway/publisher', inlined so
// the function needs no bundling: the Node.js runtime ships @aws-sdk/client-sns.
const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');
const sns = new SNSClient({});
exports.handler = async (event) => {
  const { address, port, text } = event ?? {};
  if (typeof address !== 'string' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error('event needs {"address": "<ip>", "port": 1-65535, "text": "…"}');
  }
  const doc = { Messages: [{ Data: Buffer.from(String(text ?? '')).toString('base64'), Remote: { Address: address, Port: port } }] };
  const out = await sns.send(new PublishCommand({ TopicArn: process.env.TOPIC_ARN, Message: JSON.stringify(doc) }));
  return { messageId: out.MessageId };
};
