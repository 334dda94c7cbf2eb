// Counting handler: replies to each message with how many messages its client has sent so far,
// e.g. "3". State lives in module scope, so it is per worker thread (and lost on restart):
// keep shared state in a database, or run `workers: 1` when the count must be exact.
const counts = new Map();
const MAX_CLIENTS = 10_000; // bound the memory a scan of many addresses can take

const ENCODING = { base64: 'base64', hex: 'hex', utf8: 'utf8', ascii: 'latin1' };

export const handler = async (event) => {
  const Replies = [];
  for (const m of event.Messages) {
    const client = `${m.Remote.IpAddress}:${m.Remote.Port}`;
    if (!counts.has(client) && counts.size >= MAX_CLIENTS) counts.delete(counts.keys().next().value);
    const n = (counts.get(client) ?? 0) + 1;
    counts.set(client, n);
    Replies.push({ Tag: m.Tag, Data: Buffer.from(String(n)).toString(ENCODING[m.Formatter] ?? 'base64') });
  }
  return { Replies };
};
