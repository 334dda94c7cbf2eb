/**
 * Logs and metrics as the README documents them, from a real gateway process: the README's metric
 * table and GET /metrics name the same families with the same labels, and no log line carries a
 * key twice (the handler destination's lines and `delivery failed` included).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UdpClient, eventually } from '../support/udp-client.js';
import { ROOT, duplicateKeys, startGateway, stopAll } from '../support/cli.js';

let clients: UdpClient[] = [];
afterEach(async () => { stopAll(); await Promise.all(clients.map((c) => c.close())); clients = []; });

/** The README's metrics table: family name -> label names (parenthesised value lists removed). */
function readmeMetrics(): Map<string, string[]> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| metric | labels | meaning |'));
  const rows = table.split('\n').slice(2).filter((l) => l.startsWith('|'));
  const out = new Map<string, string[]>();
  for (const row of rows) {
    const [names, labels] = row.split(/(?<!\\)\|/).slice(1, 3).map((c) => c!.trim());
    const labelNames = labels!.replace(/\([^)]*\)/g, '').split(',').map((s) => s.trim()).filter(Boolean).sort();
    for (const n of names!.matchAll(/`(udpgw_[a-z_]+)`/g)) out.set(n[1]!, labelNames);
  }
  return out;
}

/** Families (from # TYPE) and, for each, the label sets of its samples (histogram `le` left out). */
function scrape(text: string): Map<string, Set<string>> {
  const families = new Map<string, Set<string>>();
  for (const m of text.matchAll(/^# TYPE (\S+) \S+$/gm)) families.set(m[1]!, new Set());
  for (const line of text.split('\n')) {
    const m = /^(udpgw_[a-z_]+)(?:\{([^}]*)\})? /.exec(line);
    if (!m) continue;
    const family = [...families.keys()].filter((f) => m[1]!.startsWith(f)).sort((a, b) => b.length - a.length)[0]!;
    const labels = [...(m[2] ?? '').matchAll(/([a-z_]+)="/g)].map((x) => x[1]!).filter((l) => l !== 'le').sort();
    families.get(family)!.add(labels.join(','));
  }
  return families;
}

describe('observability as documented', () => {
  it('README metric table = /metrics, and no log line repeats a key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-obs-'));
    writeFileSync(join(dir, 'h.mjs'), `export const handler = async (event) => {
  const text = Buffer.from(event.Messages[0].Data, 'base64').toString();
  if (text === 'fail') throw new Error('refused on purpose');
  if (text === 'slow') await new Promise((r) => setTimeout(r, 2000));
  return { Replies: event.Messages.map((m) => ({ Tag: m.Tag, Data: m.Data })) };
};
`);
    writeFileSync(join(dir, 'gw.yaml'), `secret: observability-secret-0123456789
admin: { port: 0, token: observe-token }
listeners:
  - name: edge
    port: 0
    destinations:
      - type: handler
        module: ./h.mjs
        timeoutMs: 300
        retry: { maxAttempts: 1 }
      - name: archive
        type: file
        path: out/archive.ndjson
`);
    const gw = await startGateway(['start', '--config', join(dir, 'gw.yaml')]);
    const c = await UdpClient.open(); clients.push(c);
    await c.send('hello', gw.udpPort);
    await c.waitFor(1);                                                       // path="reply"
    const send = (body: unknown) => fetch(`${gw.adminUrl}/v1/send`, { method: 'POST', headers: { authorization: 'Bearer observe-token', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await send({ Messages: [{ Data: 'aGk=', Remote: { Address: '127.0.0.1', Port: c.port } }] })).status).toBe(200); // path="out_of_band"
    expect((await send({ Replies: [{ Tag: 'forged', Data: 'aGk=' }] })).status).toBe(207);   // refused: tag-malformed
    await c.waitFor(2);
    await c.send('fail', gw.udpPort);
    await gw.waitForLog((l) => l.msg === 'delivery failed', 10_000, 'delivery failed');
    await c.send('slow', gw.udpPort);
    await gw.waitForLog((l) => /timed out/.test(String(l.msg)), 10_000, 'handler timeout');

    let text = '';
    await eventually(async () => /udpgw_destination_delivered_total\{destination="edge\/archive"\} [1-9]/.test(text = await (await fetch(`${gw.adminUrl}/metrics`)).text()), 10_000, 'archive delivered');
    const documented = readmeMetrics();
    const scraped = scrape(text);
    expect([...scraped.keys()].sort()).toEqual([...documented.keys()].sort());
    for (const [family, labelSets] of scraped) {
      for (const labels of labelSets) expect({ family, labels }).toEqual({ family, labels: documented.get(family)!.join(',') });
    }
    // The series this run must have produced, with the documented labels.
    expect(text).toMatch(/udpgw_bytes_sent_total\{listener="edge",path="reply"\} 5/);
    expect(text).toMatch(/udpgw_bytes_sent_total\{listener="edge",path="out_of_band"\} 2/);

    for (const raw of gw.rawLogs.filter((l) => l.startsWith('{'))) expect({ line: raw, duplicates: duplicateKeys(raw) }).toEqual({ line: raw, duplicates: [] });
    const failedLine = gw.rawLogs.find((l) => l.includes('"delivery failed"'))!;
    expect(failedLine.match(/"destination":/g)).toHaveLength(1);
    expect(JSON.parse(failedLine)).toMatchObject({ listener: 'edge', destination: 'handler', packets: 1 });
  });

  it('the duplicate-key check itself finds a repeated key', () => {
    expect(duplicateKeys('{"destination":"sqs","x":{"destination":"a"},"destination":"s/sqs"}')).toEqual(['destination']);
    expect(duplicateKeys('{"a":"x,\\"a\\":1","b":[{"a":1},{"a":2}]}')).toEqual([]);
  });
});
