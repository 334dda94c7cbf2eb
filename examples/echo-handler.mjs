// Echo handler: replies to every message with the same Data (in the same formatter).
// Written for the udp-gateway `handler` destination and, unchanged, for the hosted
// Proxylity UDP Gateway's Lambda destination: event {"Messages":[…]} in, {"Replies":[…]} out.
export const handler = async (event) => ({
  Replies: event.Messages.map((m) => ({ Tag: m.Tag, Data: m.Data })),
});
