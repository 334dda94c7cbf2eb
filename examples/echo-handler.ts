// Typed echo handler: replies to every message with the same Data (in the same formatter).
// Load it with `type: handler`, `module: examples/echo-handler.ts` (TypeScript is loaded with tsx).
// Outside this repository import the types from 'udp-gateway/handler' instead.
import type { GatewayEvent, ReplyBody } from '../gateway/wire/event.js';

export const handler = async (event: GatewayEvent): Promise<ReplyBody> => ({
  Replies: event.Messages.map((m) => ({ Tag: m.Tag, Data: m.Data })),
});
