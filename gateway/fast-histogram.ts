/**
 * A Prometheus histogram for the per-packet hot path. prom-client's labelled observe() builds a
 * label object and a hash string on every call (about 250 B per packet in bench/hot-path.ts);
 * here a child keeps its buckets in a Float64Array and observe() only increments numbers.
 * It registers in a prom-client Registry as a custom metric, in prom-client's own output format.
 */
import type { Registry } from 'prom-client';

export interface HistogramChild { observe(value: number): void }

interface Series { labels: Record<string, string>; counts: Float64Array; sum: number; count: number }

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[], registry: Registry) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** A child for one label set; keep it and call observe() on it. */
  labels(labels: Record<string, string>): HistogramChild {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) { s = { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }; this.series.set(key, s); }
    const series = s, bounds = this.buckets;
    return {
      observe(value: number): void {
        if (!Number.isFinite(value)) return;
        series.sum += value;
        series.count++;
        for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) { series.counts[i]!++; return; }
      },
    };
  }

  /** prom-client's metric shape: cumulative _bucket series with le, then _sum and _count. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.buckets.forEach((le, i) => { acc += s.counts[i]!; values.push({ labels: { ...s.labels, le }, value: acc, metricName: `${this.name}_bucket` }); });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void { this.series.clear(); }
}
