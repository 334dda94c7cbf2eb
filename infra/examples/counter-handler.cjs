// CommonJS on purpose: inline Lambda code (CloudFormation ZipFile) is saved as index.js.
// udp-gateway example handler (Lambda destination): counts packets per client and replies
// "<count> packets from <ip>:<port>". Counts live in this execution environment only (a demo:
// use DynamoDB for durable counts). Event: {"Messages":[{Tag,Remote:{IpAddress,Port},Data}]}.
const counts = new Map();
exports.handler = async (event) => {
  const replies = [];
  for (const m of event?.Messages ?? []) {
    if (!m?.Tag || !m.Remote) continue;
    const client = `${m.Remote.IpAddress}:${m.Remote.Port}`;
    const n = (counts.get(client) ?? 0) + 1;
    counts.set(client, n);
    if (counts.size > 10000) counts.delete(counts.keys().next().value); // bounded memory
    replies.push({ Tag: m.Tag, Data: Buffer.from(`${n} packets from ${client}\n`).toString('base64') });
  }
  return { Replies: replies };
};
