/** The engine on a real UDP socket: applies its actions, ticks it, records what happened. */
import dgram from 'node:dgram';
import type { WireGuardAction, WireGuardEngine } from '../../../../listener-protocols/wireguard/index.js';

type Delivery = Extract<WireGuardAction, { type: 'deliver' }>;

export interface EngineSocket {
  port: number;
  received: Buffer[];
  deliveries: Delivery[];
  apply(actions: WireGuardAction[]): void;
  close(): Promise<void>;
}

export async function startEngineSocket(engine: WireGuardEngine, address: string, onDeliver?: (d: Delivery) => WireGuardAction[]): Promise<EngineSocket> {
  const socket = dgram.createSocket('udp4');
  const state: EngineSocket = {
    port: 0, received: [], deliveries: [],
    apply(actions) {
      for (const a of actions) {
        if (a.type === 'send') socket.send(a.data, a.to.port, a.to.address);
        else if (a.type === 'deliver') {
          state.deliveries.push(a);
          if (onDeliver) state.apply(onDeliver(a));
        }
      }
    },
    async close() {
      clearInterval(ticker);
      await new Promise<void>((r) => socket.close(() => r()));
    },
  };
  socket.on('message', (msg, rinfo) => {
    state.received.push(Buffer.from(msg));
    state.apply(engine.receive(msg, { address: rinfo.address, port: rinfo.port }, Date.now()));
  });
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  state.port = socket.address().port;
  const ticker = setInterval(() => state.apply(engine.tick(Date.now())), 100);
  return state;
}
