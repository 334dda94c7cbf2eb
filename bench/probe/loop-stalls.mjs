// Preload for latency investigations: records event-loop stalls over 1.5 ms (a 1 ms interval timer) and
// GC pauses, and prints the stalls between 3.5 s and 7.5 s after start with any overlapping GC.
//   node --import ./bench/probe/loop-stalls.mjs --import tsx app/cli.ts start --config <file>
import { PerformanceObserver, performance } from 'node:perf_hooks';
const gcs = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push([e.startTime, e.duration, e.detail?.kind]); }).observe({ entryTypes: ['gc'] });
let last = performance.now(); const stalls = [];
setInterval(() => { const now = performance.now(); const d = now - last - 1; if (d > 1.5) stalls.push([last, d]); last = now; }, 1).unref();
setTimeout(() => {
  const w0 = 3500, w1 = 7500; // latency window (ms since start)
  const st = stalls.filter(([t]) => t > w0 && t < w1);
  const out = st.map(([t, d]) => { const g = gcs.find(([gt, gd]) => gt < t + d && gt + gd > t - 0.5); return `${t.toFixed(1)} +${d.toFixed(2)}ms ${g ? `GC ${g[1].toFixed(2)}ms kind ${g[2]}` : 'no GC'}`; });
  process.stderr.write(`stalls>1.5ms in window: ${st.length}\n${out.slice(0, 40).join('\n')}\n`);
}, 9000).unref();
