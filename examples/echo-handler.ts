// Typed echo handler: replies to every message with the same Data (in the same formatter).
// Load it with `type: handler`, `module: examples/echo-handler.ts` (TypeScript is compiled by tsx).
// Copy it into any folder: 'udp-gateway/handler' always resolves to the running gateway's own kit.
import type { UdpGatewayHandler } from 'udp-gateway/handler';

export const handler: UdpGatewayHandler = async (event) => ({
  Replies: event.Messages.map((m) => ({ Tag: m.Tag, Data: m.Data })),
});
