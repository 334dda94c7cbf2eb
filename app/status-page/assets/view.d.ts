// Types of view.js (plain browser JavaScript) for the TypeScript that imports it: the tests.
export interface StatsSample {
  at: number;
  pid?: number;
  destinations: { id: string; latency: { le: number[]; counts: number[]; sum: number; count: number } }[];
  [key: string]: unknown;
}
export class History<S extends { at: number } = StatsSample> {
  constructor(windowMs?: number, max?: number);
  readonly windowMs: number;
  readonly max: number;
  readonly samples: S[];
  push(stats: S): void;
  get latest(): S | undefined;
  rates(get: (s: S) => number | undefined): number[];
  rate(get: (s: S) => number | undefined): number | undefined;
  span(ms: number): [S, S] | undefined;
}
export function quantile(q: number, le: number[], counts: number[], total: number): number | undefined;
export function recentLatency(history: History<StatsSample>, id: string, ms: number): { p50: number; p99: number; count: number } | undefined;
export function sparkPoints(values: number[], w: number, h: number, slots?: number): string;
export function formatCount(n: number): string;
export function formatRate(r: number | undefined): string;
export function formatSeconds(s: number | undefined): string;
export function formatBytes(n: number): string;
