/**
 * A gateway in a process of its own, for tests that kill it (kill -9): reads a JSON config file,
 * starts the gateway and prints {"udp": port} on stdout once it listens.
 *   node --import tsx test/support/gateway-child.ts <config.json>
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';

const file = process.argv[2]!;
const cfg = resolveConfig(JSON.parse(readFileSync(file, 'utf8')), dirname(file));
const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }) });
process.on('SIGTERM', () => { void gw.shutdown().then(() => process.exit(0)); });
process.stdout.write(`${JSON.stringify({ udp: gw.address().port })}\n`);
