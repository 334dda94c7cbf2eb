/**
 * Reload without a restart (SIGHUP, POST /v1/reload): read the config again with the loader `start`
 * used, validate it in full, and apply the difference (app/reload/diff.ts, app/reload/apply.ts).
 * An invalid config, or one that cannot be applied, leaves the running gateway as it was and says
 * why: one log line, udpgw_config_reloads_total{result}, and the report (the HTTP answer).
 * Reloads run one at a time, in the order asked.
 */
import type { ResolvedConfig } from './config/load.js';
import type { Gateway } from './gateway.js';
import { ConfigError, GatewayError, type ConfigProblem } from '../gateway/errors.js';
import { configHash, diffConfigs, effectiveConfig, isEmptyDiff, summarize, type ConfigDiff } from './reload/diff.js';
import { applyDiff } from './reload/apply.js';

export type ReloadResult = 'applied' | 'invalid' | 'failed';

export interface ReloadReport {
  readonly result: ReloadResult;
  /** One line: the changes, or why nothing was changed. */
  readonly summary: string;
  /** The running config's hash afterwards (unchanged unless applied). */
  readonly hash: string;
  readonly changes?: ConfigDiff;
  /** Keys changed in the file that keep their running value until a restart. */
  readonly restartRequired?: string[];
  /** Retired destinations and what was queued in each when its drain began. */
  readonly drained?: { id: string; queued: number }[];
  /** invalid: every problem with its path and the fix, as `validate` prints them. */
  readonly problems?: readonly ConfigProblem[];
  /** invalid, failed: the error code and message. */
  readonly code?: string;
  readonly message?: string;
  /** Set by a cluster primary: each worker's report. */
  readonly workers?: readonly (ReloadReport & { worker: number })[];
}

export interface ReloadHooks {
  /** Around the apply (sd_notify RELOADING=1 / READY=1). */
  readonly reloading?: () => void;
  readonly reloaded?: () => void;
}

export interface Reloader {
  reload(reason?: string): Promise<ReloadReport>;
}

/**
 * `load` reads the config as `start` did (same file, preset and environment); it throws a
 * ConfigError for an invalid one.
 */
export function createReloader(gw: Gateway, load: () => ResolvedConfig, hooks: ReloadHooks = {}): Reloader {
  let tail: Promise<unknown> = Promise.resolve();
  const m = gw.metrics;
  m.configInfo.set({ hash: configHash(gw.config) }, 1);
  m.configLoadedAt.set(Date.now() / 1000);
  return {
    reload(reason = 'request') {
      const run = tail.then(() => reloadOnce(gw, load, hooks, reason));
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

async function reloadOnce(gw: Gateway, load: () => ResolvedConfig, hooks: ReloadHooks, reason: string): Promise<ReloadReport> {
  const log = gw.logger.child({ component: 'reload', reason });
  const hash = configHash(gw.config);
  if (gw.state !== 'ready') return finish(gw, { result: 'failed', summary: `not reloaded: the gateway is ${gw.state}`, hash, code: 'UGW_ERR_RELOAD_FAILED', message: `the gateway is ${gw.state}` });
  let next: ResolvedConfig;
  try {
    next = load();
  } catch (err) {
    const e = err as GatewayError;
    if (!(err instanceof ConfigError)) {
      log.error({ err, code: e.code }, `reload failed, the running configuration is kept: ${e.message}`);
      return finish(gw, { result: 'failed', summary: `not reloaded: ${e.message}`, hash, code: e.code ?? 'UGW_ERR_RELOAD_FAILED', message: e.message });
    }
    const problems = err.problems;
    log.error({ code: e.code, problems }, `reload refused: invalid configuration, the running one is kept (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'})`);
    return finish(gw, { result: 'invalid', summary: 'invalid configuration: nothing changed', hash, problems, code: e.code ?? 'UGW_ERR_CONFIG_INVALID', message: e.message });
  }
  const diff = diffConfigs(gw.config, next);
  const effective = effectiveConfig(gw.config, next);
  const summary = summarize(diff);
  if (isEmptyDiff(diff)) {
    if (diff.restartRequired.length) log.warn({ restartRequired: diff.restartRequired }, `reload: ${summary}`);
    else log.info(`reload: ${summary}`);
    return finish(gw, { result: 'applied', summary, hash: configHash(gw.config), changes: diff, restartRequired: diff.restartRequired });
  }
  hooks.reloading?.();
  try {
    const applied = await applyDiff(gw, next, diff, effective);
    const after = configHash(gw.config);
    const line = { changes: diff, drained: applied.drained, hash: after, ...(applied.problems.length ? { problems: applied.problems } : {}) };
    if (applied.problems.length || diff.restartRequired.length) log.warn(line, `reload applied: ${summary}`);
    else log.info(line, `reload applied: ${summary}`);
    return finish(gw, {
      result: 'applied', summary, hash: after, changes: diff, restartRequired: diff.restartRequired, drained: applied.drained,
      ...(applied.problems.length ? { problems: applied.problems.map((message) => ({ path: '', message })) } : {}),
    });
  } catch (err) {
    const e = err as GatewayError;
    log.error({ err, code: e.code }, `reload failed, the running configuration is kept: ${e.message}`);
    return finish(gw, { result: 'failed', summary: `not applied: ${e.message}`, hash, code: e.code ?? 'UGW_ERR_RELOAD_FAILED', message: e.message });
  } finally {
    hooks.reloaded?.();
  }
}

function finish(gw: Gateway, report: ReloadReport): ReloadReport {
  gw.metrics.configReloads.inc({ result: report.result });
  if (report.result === 'applied') {
    gw.metrics.configInfo.reset();
    gw.metrics.configInfo.set({ hash: report.hash }, 1);
    gw.metrics.configLoadedAt.set(Date.now() / 1000);
  }
  return report;
}

/** The HTTP status of a report: 200 applied, 422 invalid config, 500 valid but not applied. */
export function reloadStatus(r: ReloadReport): number {
  return r.result === 'applied' ? 200 : r.result === 'invalid' ? 422 : 500;
}
