// The status page's arithmetic, with no DOM: the history of /v1/stats samples (bounded), rates
// between samples, latency quantiles from histogram buckets, sparkline points, number formats.
// Plain browser JavaScript (an ES module); test/core/status-page.test.ts imports it in Node too.

/** The samples of the last `windowMs` (and at most `max` of them), oldest first. */
export class History {
  constructor(windowMs = 5 * 60_000, max = 600) {
    this.windowMs = windowMs;
    this.max = max;
    this.samples = [];
  }

  push(stats) {
    const last = this.samples[this.samples.length - 1];
    if (last && last.pid !== stats.pid) this.samples.length = 0; // another process (a worker, a restart): its own counters
    else if (last && stats.at <= last.at) return; // a stale or repeated answer
    this.samples.push(stats);
    while (this.samples.length > this.max || (this.samples.length > 1 && stats.at - this.samples[0].at > this.windowMs)) this.samples.shift();
  }

  get latest() { return this.samples[this.samples.length - 1]; }

  /** Per-second rates of `get(sample)` between consecutive samples (a value that went back, a restart, counts from zero). */
  rates(get) {
    const out = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1], b = this.samples[i];
      const va = get(a), vb = get(b);
      if (va === undefined || vb === undefined) { out.push(0); continue; }
      const delta = vb >= va ? vb - va : vb;
      out.push(delta / ((b.at - a.at) / 1000));
    }
    return out;
  }

  /** The latest rate of `get`, or undefined before two samples. */
  rate(get) {
    const r = this.rates(get);
    return r.length ? r[r.length - 1] : undefined;
  }

  /** The newest sample and the oldest one at most `ms` before it. */
  span(ms) {
    const b = this.latest;
    if (!b) return undefined;
    const a = this.samples.find((s) => b.at - s.at <= ms) ?? b;
    return [a, b];
  }
}

/** Prometheus's histogram_quantile over cumulative buckets (`le` finite bounds, `counts` cumulative, `total` the +Inf count). */
export function quantile(q, le, counts, total) {
  if (!(total > 0)) return undefined;
  const rank = q * total;
  for (let i = 0; i < le.length; i++) {
    if (counts[i] >= rank) {
      const lower = i === 0 ? 0 : le[i - 1], below = i === 0 ? 0 : counts[i - 1];
      const inBucket = counts[i] - below;
      return inBucket > 0 ? lower + (le[i] - lower) * ((rank - below) / inBucket) : le[i];
    }
  }
  return le[le.length - 1]; // in the +Inf bucket: the highest finite bound, as Prometheus answers
}

/** p50 and p99 of one destination's deliveries over the last `ms` (bucket differences between two samples). */
export function recentLatency(history, id, ms) {
  const span = history.span(ms);
  if (!span) return undefined;
  const [a, b] = span;
  const lb = b.destinations.find((d) => d.id === id)?.latency;
  if (!lb) return undefined;
  const la = a === b ? undefined : a.destinations.find((d) => d.id === id)?.latency;
  const base = la && la.count <= lb.count ? la : { counts: lb.counts.map(() => 0), count: 0, sum: 0 };
  const counts = lb.counts.map((c, i) => c - (base.counts[i] ?? 0));
  const total = lb.count - base.count;
  if (!(total > 0)) return undefined;
  return { p50: quantile(0.5, lb.le, counts, total), p99: quantile(0.99, lb.le, counts, total), count: total };
}

/** An SVG polyline's points for `values` in a w×h box (the last `slots` values, right-aligned). */
export function sparkPoints(values, w, h, slots = values.length) {
  const shown = values.slice(-slots);
  if (shown.length === 0) return '';
  const max = Math.max(...shown, 0) || 1;
  const step = slots > 1 ? w / (slots - 1) : 0;
  const x0 = w - step * (shown.length - 1);
  return shown.map((v, i) => `${(x0 + i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' ');
}

const counts = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const rates = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export const formatCount = (n) => counts.format(n);

export function formatRate(r) {
  if (r === undefined) return '…';
  return r >= 100 ? counts.format(r) : rates.format(r);
}

export function formatSeconds(s) {
  if (s === undefined) return '—';
  if (s < 0.001) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

export function formatBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
