/**
 * Reload with --workers N: every worker reloads. The primary (which gets SIGHUP from systemd's
 * ExecReload) sends each live worker a reload message and gathers their reports. POST /v1/reload
 * lands on one worker (node:cluster shares the admin port): that worker asks the primary, which
 * reloads them all and hands the combined report back for the HTTP answer.
 *
 *   primary ─udpgw:reload {id}─► each worker ─udpgw:reloaded {id, report}─► primary
 *   worker ─udpgw:reload-ask {id}─► primary … ─udpgw:reload-all {id, report}─► that worker
 */
import type { Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ReloadReport } from '../reload.js';

const RELOAD = 'udpgw:reload';
const RELOADED = 'udpgw:reloaded';
const ASK = 'udpgw:reload-ask';
const ALL = 'udpgw:reload-all';

interface Msg { type?: string; id?: string; reason?: string; report?: ReloadReport }

export interface PrimaryReloads {
  /** Reload every live worker; one report, with each worker's under `workers`. */
  reloadAll(reason: string): Promise<ReloadReport>;
  /** A worker's message: true when it was a reload message (handled). */
  onMessage(worker: Worker, m: unknown): boolean;
}

export function primaryReloads(live: () => readonly Worker[], logger: Logger): PrimaryReloads {
  const waiting = new Map<string, (report: ReloadReport) => void>();
  const reloadAll = async (reason: string): Promise<ReloadReport> => {
    const workers = live().filter((w) => w.isConnected());
    const reports = await Promise.all(workers.map((w) => new Promise<ReloadReport & { worker: number }>((resolve) => {
      const id = randomUUID();
      const gone = () => { waiting.delete(id); resolve({ worker: w.id, result: 'failed', summary: 'the worker exited during the reload', hash: '', code: 'UGW_ERR_RELOAD_FAILED' }); };
      w.once('exit', gone);
      waiting.set(id, (report) => { w.off('exit', gone); resolve({ ...report, worker: w.id }); });
      w.send({ type: RELOAD, id, reason } satisfies Msg);
    })));
    const combined = combine(reports);
    logger.info({ result: combined.result, workers: reports.map((r) => ({ worker: r.worker, result: r.result, hash: r.hash })) }, `reload of ${reports.length} workers: ${combined.result}`);
    return combined;
  };
  const onMessage = (worker: Worker, raw: unknown): boolean => {
    const m = raw as Msg;
    if (m?.type === RELOADED && m.id && m.report) { waiting.get(m.id)?.(m.report); waiting.delete(m.id); return true; }
    if (m?.type === ASK && m.id) {
      const id = m.id;
      void reloadAll(m.reason ?? 'POST /v1/reload').then((report) => { if (worker.isConnected()) worker.send({ type: ALL, id, report } satisfies Msg); });
      return true;
    }
    return false;
  };
  return { reloadAll, onMessage };
}

/** The worst result wins; the first worker's summary and changes stand for all (they read one file). */
function combine(reports: readonly (ReloadReport & { worker: number })[]): ReloadReport {
  if (reports.length === 0) return { result: 'failed', summary: 'no live workers', hash: '', code: 'UGW_ERR_RELOAD_FAILED' };
  const worst = reports.find((r) => r.result === 'invalid') ?? reports.find((r) => r.result === 'failed') ?? reports[0]!;
  const { worker: _w, ...first } = worst;
  return { ...first, workers: reports };
}

/**
 * In a worker: answer the primary's reload messages with this process's reload, and return what
 * POST /v1/reload runs here (ask the primary to reload every worker).
 */
export function workerReloads(reload: (reason: string) => Promise<ReloadReport>): () => Promise<ReloadReport> {
  const asked = new Map<string, (r: ReloadReport) => void>();
  process.on('message', (raw: unknown) => {
    const m = raw as Msg;
    if (m?.type === RELOAD && m.id) {
      const id = m.id;
      void reload(m.reason ?? 'primary').then((report) => process.send?.({ type: RELOADED, id, report } satisfies Msg));
    } else if (m?.type === ALL && m.id && m.report) {
      asked.get(m.id)?.(m.report);
      asked.delete(m.id);
    }
  });
  return () => new Promise<ReloadReport>((resolve) => {
    if (!process.send) { void reload('POST /v1/reload').then(resolve); return; }
    const id = randomUUID();
    asked.set(id, resolve);
    process.send({ type: ASK, id, reason: 'POST /v1/reload' } satisfies Msg);
  });
}
