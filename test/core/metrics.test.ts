import { describe, expect, it } from 'vitest';
import { Metrics } from '../../gateway/metrics.js';

const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

describe('hot-path counters', () => {
  it('hot children add up on scrape, once, alongside prom-client increments', async () => {
    const m = new Metrics();
    const a = m.packetsIn.hot({ listener: 'a' }), b = m.packetsIn.hot({ listener: 'b' }), a2 = m.packetsIn.hot({ listener: 'a' });
    a.inc(3); a.inc(); b.inc(10); a2.inc(2);
    m.packetsIn.inc({ listener: 'a' }, 5);
    let text = await m.registry.metrics();
    expect(line(text, 'udpgw_packets_received_total{listener="a"}')).toBe('udpgw_packets_received_total{listener="a"} 11');
    expect(line(text, 'udpgw_packets_received_total{listener="b"}')).toBe('udpgw_packets_received_total{listener="b"} 10');
    text = await m.registry.metrics(); // a second scrape does not add the same increments again
    expect(line(text, 'udpgw_packets_received_total{listener="a"}')).toBe('udpgw_packets_received_total{listener="a"} 11');
    b.inc(1);
    const value = await m.packetsIn.get();
    expect(value.values.find((v) => v.labels.listener === 'b')?.value).toBe(11);
  });

  it('one hot child per label set: asking again (a listener rebuilt by a reload) does not grow the list', async () => {
    const m = new Metrics();
    const first = m.packetsIn.hot({ listener: 'a' });
    first.inc(2);
    for (let i = 0; i < 100; i++) m.packetsIn.hot({ listener: 'a' }).inc();
    m.drops.hot({ where: 'a', reason: 'x' }).inc();
    m.drops.hot({ reason: 'x', where: 'a' }).inc(); // same labels in another order
    m.drops.hot({ where: 'a', reason: 'y' }).inc();
    expect(m.packetsIn.hotChildren).toBe(1);
    expect(m.drops.hotChildren).toBe(2);
    const text = await m.registry.metrics();
    expect(line(text, 'udpgw_packets_received_total{listener="a"}')).toBe('udpgw_packets_received_total{listener="a"} 102');
    expect(line(text, 'udpgw_drops_total{where="a",reason="x"}')).toBe('udpgw_drops_total{where="a",reason="x"} 2');
  });

  it('a hot child never incremented adds no series', async () => {
    const m = new Metrics();
    m.delivered.hot({ destination: 'x/y' });
    expect(await m.registry.metrics()).not.toContain('destination="x/y"');
  });
});
