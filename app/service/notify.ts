/**
 * systemd readiness (Type=notify): READY=1 once every listener and the admin API are up,
 * RELOADING=1 / READY=1 around a reload, STOPPING=1 when the drain begins. Only when systemd set
 * $NOTIFY_SOCKET; otherwise (a terminal, Docker, Windows) nothing happens.
 *
 * Node has no AF_UNIX datagram socket, so each notification runs `systemd-notify` (systemd's own
 * client, always installed beside systemd), with the gateway's pid as MAINPID; the unit sets
 * NotifyAccess=all so that systemd accepts a message sent by that child. systemd-notify (systemd
 * 246 or later) waits until the manager has read the message (a barrier), so the message is not
 * lost when the child exits first. Why not the native addon: it is optional (a Windows or musl
 * build, or a failed compile, falls back to node:dgram), and readiness must not depend on it.
 */
import { spawn } from 'node:child_process';

export interface Notifier {
  ready(status?: string): void;
  reloading(): void;
  stopping(): void;
}

export const NO_NOTIFY: Notifier = { ready() {}, reloading() {}, stopping() {} };

export interface NotifyOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly pid?: number;
  /** The systemd-notify binary (default: from PATH). */
  readonly command?: string;
  readonly onError?: (err: Error) => void;
}

/** CLOCK_MONOTONIC in microseconds (what RELOADING=1 carries). Node's hrtime reads that clock on Linux. */
const monotonicUsec = (): string => String(process.hrtime.bigint() / 1000n);

export function systemdNotifier(opts: NotifyOptions = {}): Notifier {
  const env = opts.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return NO_NOTIFY;
  const pid = opts.pid ?? process.pid;
  let chain: Promise<void> = Promise.resolve();
  // One at a time, in order: READY=1 must not overtake the RELOADING=1 before it.
  const send = (...assignments: string[]) => {
    chain = chain.then(() => new Promise<void>((resolve) => {
      const child = spawn(opts.command ?? 'systemd-notify', [`--pid=${pid}`, ...assignments], { stdio: 'ignore', env });
      child.once('error', (err) => { opts.onError?.(err); resolve(); });
      child.once('exit', () => resolve());
    }));
  };
  return {
    ready: (status) => send('READY=1', ...(status ? [`STATUS=${status}`] : [])),
    reloading: () => send('RELOADING=1', `MONOTONIC_USEC=${monotonicUsec()}`),
    stopping: () => send('STOPPING=1'),
  };
}
