/**
 * Registers every packet source kind shipped with the gateway. Import once at start-up.
 * The sqs source's module (and the AWS SDK) is loaded when such a source starts.
 */
import { registerPacketSourceKind, type PacketSource, type PacketSourceKind } from '../gateway/extension/packet-source.js';
import { snsHttpKind } from '../packet-source/sns-http/index.js';
import { SqsOptionsSchema } from '../packet-source/sqs/options.js';

const sqsKind: PacketSourceKind<typeof SqsOptionsSchema> = {
  type: 'sqs',
  options: SqsOptionsSchema,
  create(name, options, ctx): PacketSource {
    let real: PacketSource | undefined;
    return {
      async start() {
        real = (await import('../packet-source/sqs/index.js')).sqsKind.create(name, options, ctx);
        await real.start();
      },
      close: async () => { await real?.close(); },
      status: () => real?.status?.() ?? { state: 'starting' },
    };
  },
};

const builtin: PacketSourceKind[] = [
  snsHttpKind,
  sqsKind,
];

for (const kind of builtin) registerPacketSourceKind(kind);
