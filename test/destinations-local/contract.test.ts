/** The shared destination contract (test/contract/) run against the four local kinds, on real I/O. */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { destinationContract, pollUntil } from '../contract/destination-contract.js';
import { createFileDestination } from '../../destinations/file/index.js';
import { createHandlerDestination } from '../../destinations/handler/index.js';
import { createHttpDestination } from '../../destinations/http/index.js';
import { createUdpDestination } from '../../destinations/udp/index.js';
import type { GatewayEvent } from '../../gateway/wire/event.js';
import { context } from './helpers.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fromBase64Lines = (text: string): Buffer[] => text.split('\n').filter(Boolean).map((l) => Buffer.from(l, 'base64'));

function readLinesOnce(path: string): () => Promise<Buffer[]> {
  let done = false;
  return async () => {
    if (done || !existsSync(path)) return [];
    done = true;
    return fromBase64Lines(readFileSync(path, 'utf8'));
  };
}

destinationContract('file (NDJSON)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ugw-contract-'));
  const path = join(dir, 'out.ndjson');
  return {
    destination: createFileDestination('archive', { path }, context(dir)),
    ordered: true,
    readBack: async () => readFileSync(path, 'utf8').split('\n').filter(Boolean)
      .map((l) => Buffer.from((JSON.parse(l) as { Data: string }).Data, 'base64')),
    broken: () => createFileDestination('archive', { path: dir }, context(dir)), // a directory cannot be appended to
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

destinationContract('handler (worker threads)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ugw-contract-'));
  const record = join(dir, 'record.txt');
  const destination = await createHandlerDestination('rec', { module: 'recorder.mjs', workers: 1, env: { RECORD_FILE: record } }, context(fixtures));
  return {
    destination,
    readBack: (n) => pollUntil(readLinesOnce(record), n),
    broken: () => createHandlerDestination('rec', { module: 'recorder.mjs', workers: 1, env: { FAIL: '1' } }, context(fixtures)),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

destinationContract('handler (in-process)', async () => {
  // In-process a handler shares the process's env (the env option is refused), so this recorder
  // has its file and failure baked in: a module written per instance.
  const dir = mkdtempSync(join(tmpdir(), 'ugw-contract-'));
  const record = join(dir, 'record.txt');
  const recorder = (fail: boolean): string => {
    const file = join(dir, fail ? 'failing.mjs' : 'recorder.mjs');
    writeFileSync(file, `import { appendFileSync } from 'node:fs';
export const handler = async (event) => {
  ${fail ? "throw new Error('recorder told to fail');" : ''}
  appendFileSync(${JSON.stringify(record)}, event.Messages.map((m) => m.Data + '\\n').join(''));
  return {};
};`);
    return file;
  };
  const create = (fail: boolean) => createHandlerDestination('rec', { module: recorder(fail), workers: 1, isolation: 'in-process' }, context(dir));
  return {
    destination: await create(false),
    readBack: (n) => pollUntil(readLinesOnce(record), n),
    broken: () => create(true),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

destinationContract('http (POST to a local server)', async () => {
  const got: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const m of (JSON.parse(Buffer.concat(chunks).toString()) as GatewayEvent).Messages) got.push(Buffer.from(m.Data, 'base64'));
      res.statusCode = 204;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const closed = http.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  return {
    destination: createHttpDestination('web', { url: `http://127.0.0.1:${port}/` }, context('/')),
    ordered: true,
    readBack: async () => got.splice(0),
    broken: () => createHttpDestination('web', { url: `http://127.0.0.1:${deadPort}/` }, context('/')),
    teardown: async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); },
  };
});

// Both upstream implementations: native session sockets (auto, where the addon loads) and node:dgram.
for (const upstream of ['auto', 'dgram'] as const) {
  destinationContract(`udp (proxy to a local backend), ${upstream === 'auto' ? 'default' : 'dgram'} sessions`, async () => {
    const backend: Socket = createSocket('udp4');
    const got: Buffer[] = [];
    backend.on('message', (m) => got.push(m));
    backend.bind(0, '127.0.0.1');
    await once(backend, 'listening');
    const label = `127.0.0.1:${backend.address().port}`;
    return {
      destination: await createUdpDestination('proxy', { backends: [label] }, context('/'), upstream),
      readBack: (n) => pollUntil(async () => got.splice(0), n, 40, 10),
      broken: async () => { // UDP is fire and forget: the one local failure is a closed destination
        const d = await createUdpDestination('proxy', { backends: [label] }, context('/'), upstream);
        await d.close?.();
        return d;
      },
      teardown: async () => { backend.close(); },
    };
  });
}
