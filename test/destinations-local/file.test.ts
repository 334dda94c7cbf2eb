import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileDestination, encodeBatch, type FileOptions } from '../../destinations/file/index.js';
import type { Destination } from '../../gateway/extension/destination.js';
import { fileKind } from '../../destinations/file/manifest.js';
import type { EventMessage } from '../../gateway/wire/event.js';
import { context, packet } from './helpers.js';

let dir: string;
const open: Destination[] = [];

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ugw-file-')); });
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close?.()));
  rmSync(dir, { recursive: true, force: true });
});

function file(options: FileOptions): Destination {
  const d = createFileDestination('archive', options, context(dir));
  open.push(d);
  return d;
}

const lines = (path: string): EventMessage[] =>
  readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EventMessage);

describe('file destination', () => {
  it('appends one NDJSON line per packet that parses back to the exact bytes, creating directories', async () => {
    const d = file({ path: 'nested/deeper/packets.ndjson' });
    const bytes = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x22]);
    const a = packet(bytes, { remote: { address: '::1', port: 9 } }), b = packet('line two', { formatter: 'utf8' });
    const r = await d.sendBatch([a, b], new AbortController().signal);
    expect(r.outcomes).toEqual([{ status: 'delivered' }, { status: 'delivered' }]);
    await d.sendBatch([packet('third')], new AbortController().signal);
    const got = lines(join(dir, 'nested/deeper/packets.ndjson'));
    expect(got).toHaveLength(3);
    expect(Buffer.from(got[0]!.Data, 'base64')).toEqual(bytes);
    expect(got[0]!).toMatchObject({ Tag: a.tag, Remote: { IpAddress: '::1', Port: 9 }, Local: { Domain: 'edge', Port: 5555 }, Formatter: 'base64' });
    expect(got[1]!).toMatchObject({ Tag: b.tag, Data: 'line two', Formatter: 'utf8' });
    expect(Buffer.from(got[2]!.Data, 'base64').toString()).toBe('third');
  });

  it('rotates by size, keeps maxFiles rotated files, and loses no line of the kept files', async () => {
    const d = file({ path: 'r.ndjson', maxBytes: 1_000, maxFiles: 2 });
    const lineBytes = encodeBatch([packet('p-00')], false).length;
    for (let i = 0; i < 40; i++) await d.sendBatch([packet(`p-${String(i).padStart(2, '0')}`)], new AbortController().signal);
    expect(readdirSync(dir).sort()).toEqual(['r.ndjson', 'r.ndjson.1', 'r.ndjson.2']);
    const perFile = Math.floor(1_000 / lineBytes);
    const sequence = ['r.ndjson.2', 'r.ndjson.1', 'r.ndjson'].flatMap((f) => lines(join(dir, f)))
      .map((m) => Buffer.from(m.Data, 'base64').toString());
    expect(lines(join(dir, 'r.ndjson.1'))).toHaveLength(perFile);
    // The newest lines, in order, without a gap, ending with the last packet written.
    const first = Number(sequence[0]!.slice(2));
    expect(sequence).toEqual(sequence.map((_, i) => `p-${String(first + i).padStart(2, '0')}`));
    expect(sequence.at(-1)).toBe('p-39');
    expect(d.status?.()).toMatchObject({ rotations: Math.floor(40 / perFile) - (40 % perFile === 0 ? 1 : 0) });
  });

  it('maxFiles 0: rotation starts the file afresh and keeps no rotated file', async () => {
    const d = file({ path: 'z.ndjson', maxBytes: 1_000, maxFiles: 0 });
    const lineBytes = encodeBatch([packet('p-00')], false).length;
    for (let i = 0; i < 40; i++) await d.sendBatch([packet(`p-${String(i).padStart(2, '0')}`)], new AbortController().signal);
    expect(readdirSync(dir)).toEqual(['z.ndjson']);
    const kept = lines(join(dir, 'z.ndjson')).map((m) => Buffer.from(m.Data, 'base64').toString());
    expect(kept.length).toBeLessThanOrEqual(Math.floor(1_000 / lineBytes));
    expect(kept.at(-1)).toBe('p-39');
    expect((d.status?.() as { rotations: number }).rotations).toBeGreaterThan(0);
  });

  it('appends to an existing file and counts its size toward rotation', async () => {
    writeFileSync(join(dir, 'a.ndjson'), 'x'.repeat(990) + '\n');
    const d = file({ path: 'a.ndjson', maxBytes: 1_000 });
    await d.sendBatch([packet('after restart')], new AbortController().signal);
    expect(readFileSync(join(dir, 'a.ndjson.1'), 'utf8')).toBe('x'.repeat(990) + '\n');
    expect(lines(join(dir, 'a.ndjson'))).toHaveLength(1);
  });

  it('writes raw datagrams followed by a newline when raw is set', async () => {
    const d = file({ path: 'raw.log', raw: true });
    await d.sendBatch([packet('<13>syslog one'), packet('metric:1|c')], new AbortController().signal);
    expect(readFileSync(join(dir, 'raw.log'), 'utf8')).toBe('<13>syslog one\nmetric:1|c\n');
  });

  it('reports retryable when the file cannot be written, and serves again once it can', async () => {
    mkdirSync(join(dir, 'blocked.ndjson'));
    const d = file({ path: 'blocked.ndjson' });
    const r = await d.sendBatch([packet('x')], new AbortController().signal);
    expect(r.outcomes[0]).toMatchObject({ status: 'retryable' });
    expect((r.outcomes[0] as { reason: string }).reason).toContain('EISDIR');
    rmSync(join(dir, 'blocked.ndjson'), { recursive: true });
    expect((await d.sendBatch([packet('y')], new AbortController().signal)).outcomes).toEqual([{ status: 'delivered' }]);
    expect(existsSync(join(dir, 'blocked.ndjson'))).toBe(true);
  });

  it('serialises concurrent batches without interleaving lines', async () => {
    const d = file({ path: 'c.ndjson', maxBytes: 4_000 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => d.sendBatch([packet(`a${i}`), packet(`b${i}`)], new AbortController().signal)));
    const all = readdirSync(dir).flatMap((f) => lines(join(dir, f)));
    expect(all).toHaveLength(40);
  });

  it('has the documented defaults', () => {
    const p = fileKind.options.properties;
    expect([p.maxBytes.default, p.maxFiles.default, p.raw.default]).toEqual([64 * 1024 * 1024, 5, false]);
  });
});
