/**
 * What reading offloaded flows costs the event loop: the session table's idle sweep and the
 * listener's recent-clients refresh read every flow (net/native-flow.ts), so with many sessions
 * that read is a stall of the loop. Pins `--sessions` session sockets (no traffic) to one listener
 * and times reading them all: with an addon call per flow (flow() into one shared Float64Array, as
 * the gateway read flows until 2026-11-30) and as the gateway reads them now (OffloadedFlow.read:
 * the flow's state read in place, in the addon's own memory, no call).
 *   node --import tsx bench/flow-reads.ts [--sessions=10000] [--rounds=20]
 * 127.0.0.1 only (nothing is sent); every socket is closed at the end.
 */
import { parseArgs } from 'node:util';
import { loadNativeAddon, type NativeSocket } from '../net/native-addon.js';
import { nativeTransport, type NativeTransport } from '../net/native.js';
import { NativeUpstreamSockets, type NativeUpstreamSocket } from '../net/native-upstream-sockets.js';
import type { OffloadedFlow } from '../gateway/extension/transport.js';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '20' } } });
const n = Number(values.sessions), rounds = Number(values.rounds);
const addon = loadNativeAddon().addon;
if (!addon) throw new Error('the native addon is not built');
const listener = (await nativeTransport.bind({ host: '127.0.0.1', port: 0, maxDatagramBytes: 1500 }, () => {}, () => {})) as NativeTransport;
const sockets = new NativeUpstreamSockets<{ data: Uint8Array }>(addon, { refused: () => {}, dropped: () => {} });
const hooks = { reply: () => {}, foreign: () => {}, error: () => {} };
const links: NativeUpstreamSocket<{ data: Uint8Array }>[] = [], flows: OffloadedFlow[] = [];
for (let i = 0; i < n; i++) {
  const link = sockets.open({ address: '127.0.0.1', port: 9, family: 4 }, hooks);
  links.push(link);
  const flow = listener.offload({ address: `127.0.0.${2 + Math.floor(i / 60000)}`, port: 1 + (i % 60000) }, sockets.offloadTarget(link)!);
  if (!flow) throw new Error(`pin ${i} refused`);
  flows.push(flow);
}
const time = (f: () => void): number => { const t0 = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - t0) / 1e6; };
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const out = new Float64Array(8);
const calls: number[] = [], inPlace: number[] = [];
for (let r = 0; r < rounds; r++) {
  calls.push(time(() => { for (const l of links) (l.socket as NativeSocket).flow!(out); }));
  inPlace.push(time(() => { for (const f of flows) f.read(); }));
}
const fmt = (a: number[]) => `${median(a).toFixed(2)} ms (${(median(a) * 1e6 / n).toFixed(0)} ns a flow)`;
console.log(`${n} offloaded flows, read all, median of ${rounds}: an addon call per flow ${fmt(calls)}; in place (OffloadedFlow.read) ${fmt(inPlace)}`);
for (const l of links) sockets.close(l);
await listener.close();
