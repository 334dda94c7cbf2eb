/**
 * The Grafana dashboard (docs/grafana/udp-gateway.json) queries only what a real gateway exposes:
 * every metric name in every PromQL expression (panels and variables) is a family in /metrics after
 * real UDP traffic, and every label it groups or filters by is on that family's samples.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UdpClient, eventually } from '../support/udp-client.js';
import { ROOT } from '../support/cli.js';
import { TOKEN, startStatusGateway } from '../support/status-page-gateway.js';

interface Target { expr: string }
interface Panel { type: string; title: string; id: number; targets?: Target[]; panels?: Panel[]; datasource?: { uid: string } }
interface Dashboard { uid: string; panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } }

const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/grafana/udp-gateway.json'), 'utf8')) as Dashboard;

/** Functions, aggregations and keywords of PromQL this dashboard may use; any other word is a metric name. */
const PROMQL_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'delta', 'histogram_quantile', 'sum', 'avg', 'max', 'min', 'count', 'topk', 'bottomk',
  'clamp_min', 'clamp_max', 'abs', 'label_values', 'max_over_time', 'avg_over_time', 'vector', 'scalar']);
const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);
/** Labels Prometheus adds at scrape time, and the histogram's bucket label. */
const ADDED_LABELS = new Set(['job', 'instance', 'le']);

export interface Query { metrics: string[]; labels: string[] }

/** Metric names and label names of one PromQL expression (Grafana's label_values(metric, label) included). */
export function parseQuery(expr: string): Query {
  const labels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');                                         // string literals
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, _k, list: string) => {
    labels.push(...list.split(',').map((s) => s.trim()).filter(Boolean));
    return ' ';
  });
  rest = rest.replace(/\{([^}]*)\}/g, (_m, matchers: string) => {
    for (const m of matchers.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(m[1]!);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');                                                     // range selectors
  const lv = /^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)?[^,]*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(expr);
  if (lv) labels.push(lv[2]!);
  const metrics: string[] = [];
  for (const m of rest.matchAll(/(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = m;
    if (call) { if (!PROMQL_FUNCTIONS.has(word!)) throw new Error(`unknown PromQL function ${word} in ${expr}`); continue; }
    if (PROMQL_KEYWORDS.has(word!)) continue;
    if (lv && word === lv[2]) continue;
    metrics.push(word!);
  }
  return { metrics, labels: labels.filter((l) => !ADDED_LABELS.has(l)) };
}

function allPanels(panels: Panel[]): Panel[] { return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]); }

/** Every expression of the dashboard, with where it is. */
function expressions(): { where: string; expr: string }[] {
  const out = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

/** Families from # TYPE lines and, for each, the label names seen on its samples (histograms: _bucket/_sum/_count too). */
function families(text: string): Map<string, { type: string; labels: Set<string>; samples: number }> {
  const out = new Map<string, { type: string; labels: Set<string>; samples: number }>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, { type: m[2]!, labels: new Set(), samples: 0 });
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!m) continue;
    const f = out.get(m[1]!) ?? out.get(m[1]!.replace(/_(bucket|sum|count)$/, ''));
    if (!f) continue;
    f.samples++;
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) f.labels.add(l[1]!);
  }
  return out;
}

/** The family a queried name belongs to: itself, or a histogram's _bucket/_sum/_count. */
function familyOf(name: string, fams: ReturnType<typeof families>) {
  if (fams.has(name)) return fams.get(name);
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && fams.get(base)?.type === 'histogram' ? fams.get(base) : undefined;
}

let open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { await Promise.all(open.splice(0).map((o) => o.close())); });

describe('Grafana dashboard', () => {
  it('parses PromQL into metric and label names', () => {
    expect(parseQuery('histogram_quantile(0.99, sum by (destination, le) (rate(udpgw_destination_delivery_seconds_bucket{job=~"$job",destination=~"$destination"}[$__rate_interval])))'))
      .toEqual({ metrics: ['udpgw_destination_delivery_seconds_bucket'], labels: ['destination', 'destination'] });
    expect(parseQuery('sum(rate(a_total{x="rate(b)"}[5m])) / sum without (y) (c)')).toEqual({ metrics: ['a_total', 'c'], labels: ['y', 'x'] });
    expect(parseQuery('label_values(udpgw_packets_received_total{job=~"$job"}, listener)')).toEqual({ metrics: ['udpgw_packets_received_total'], labels: ['listener'] });
    expect(() => parseQuery('sum(rat(x_total[1m]))')).toThrow(/unknown PromQL function rat/);
  });

  it('is a dashboard of the issue\'s panels, each on the data source variable', () => {
    const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    expect(panels.every((p) => p.datasource?.uid === '${datasource}' && (p.targets ?? []).length > 0)).toBe(true);
    const all = expressions().map((e) => e.expr).join('\n');
    for (const needed of [/rate\(udpgw_packets_received_total/, /sum by \(where, reason\) \(rate\(udpgw_drops_total/, /histogram_quantile\(0\.99, /,
      /udpgw_destination_queued/, /udpgw_destination_sessions/]) expect(all).toMatch(needed);
  });

  it('queries only metrics and labels that a real gateway\'s /metrics has after traffic', async () => {
    const g = await startStatusGateway();
    const c = await UdpClient.open();
    open.push(c, g);
    for (let i = 0; i < 5; i++) { await c.send(`t${i}`, g.port('telemetry')); await c.send(`g${i}`, g.port('game')); await c.send(`d${i}`, g.port('guarded')); }
    await c.waitFor(10);
    await g.admin.inject({ method: 'POST', url: '/v1/send', headers: { authorization: `Bearer ${TOKEN}` }, payload: { Replies: [{ Tag: 'forged', Data: 'aGk=' }] } });
    let text = '';
    await eventually(async () => {
      text = await (await fetch(`${g.adminUrl}/metrics`)).text();
      return /^udpgw_destination_delivered_total\{destination="telemetry\/archive"\} 5$/m.test(text);
    }, 5000, 'the archive to deliver');
    const fams = families(text);

    const problems: string[] = [];
    const queried = new Set<string>();
    for (const { where, expr } of expressions()) {
      const q = parseQuery(expr);
      if (q.metrics.length === 0) problems.push(`${where}: no metric in ${expr}`);
      for (const name of q.metrics) {
        queried.add(name);
        const f = familyOf(name, fams);
        if (!f) { problems.push(`${where}: ${name} is not in /metrics`); continue; }
        // Labels are checked where the family has samples after this traffic (failures, disk buffers and
        // session events have none here; their names are still checked above).
        if (f.samples > 0) for (const l of q.labels) if (!f.labels.has(l)) problems.push(`${where}: ${name} has no label ${l} (it has ${[...f.labels].join(', ')})`);
      }
    }
    expect(problems).toEqual([]);
    // The traffic reached most of what the dashboard shows, so the label check above is not empty.
    const sampled = [...queried].filter((n) => (familyOf(n, fams)?.samples ?? 0) > 0);
    expect(sampled).toEqual(expect.arrayContaining(['udpgw_packets_received_total', 'udpgw_packets_sent_total', 'udpgw_drops_total', 'udpgw_egress_refused_total',
      'udpgw_destination_delivery_seconds_bucket', 'udpgw_destination_queued', 'udpgw_destination_sessions', 'udpgw_packet_source_messages_total']));
  });
});
