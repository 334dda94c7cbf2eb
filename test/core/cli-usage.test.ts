/**
 * The command line as a user meets it, in real processes: every command answers --help and -h,
 * --version prints the version, and a usage error is one line naming the problem, exit code 2,
 * never a stack trace.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCliAsync, stopAll } from '../support/cli.js';

afterEach(() => stopAll());

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Run a list of command lines, two at a time (the machine has two cores). */
async function runAll(lines: string[][]) {
  const out: Awaited<ReturnType<typeof runCliAsync>>[] = [];
  for (let i = 0; i < lines.length; i += 2) out.push(...await Promise.all(lines.slice(i, i + 2).map((a) => runCliAsync(a))));
  return out;
}

describe('CLI usage', () => {
  it('every command answers --help and -h on stdout, exit 0, without doing anything', async () => {
    const lines = [['--help'], ['-h'], ['help'], [], ...['start', 'validate', 'send', 'proxy', 'service'].flatMap((c) => [[c, '--help'], [c, '-h']])];
    const results = await runAll(lines);
    results.forEach((r, i) => {
      const cmd = lines[i]![0];
      const what = `udp-gateway ${lines[i]!.join(' ')}`;
      expect({ what, status: r.status, stderr: r.stderr }).toEqual({ what, status: 0, stderr: '' });
      expect(r.stdout).toContain(cmd && !cmd.startsWith('-') && cmd !== 'help' ? `usage: udp-gateway ${cmd}` : 'usage: udp-gateway <command>');
    });
  });

  it('--version and -v print the version', async () => {
    for (const r of await runAll([['--version'], ['-v']])) expect([r.status, r.stdout]).toEqual([0, `udp-gateway ${version}\n`]);
  });

  it.each([
    [['start', '--prot', '6000'], /^udp-gateway start: unknown option --prot: did you mean --port\? \(see udp-gateway start --help\)$/],
    [['start', '--config'], /^udp-gateway start: option --config needs a value/],
    [['start', '--workers', '0'], /^udp-gateway start: --workers must be a whole number from 1 to \d+, got "0"/],
    [['start', '--port', 'abc'], /^udp-gateway start: --port must be a whole number from 0 to 65535, got "abc"/],
    [['start', 'extra'], /^udp-gateway start: unexpected argument "extra"/],
    [['send', '--to', 'nohostport', 'hi'], /^udp-gateway send: --to "nohostport" must be host:port/],
    [['send', '--wait', '-5'], /^udp-gateway send: option --wait needs a value|^udp-gateway send: --wait must be/],
    [['validate', 'a.yaml', 'b.yaml'], /^udp-gateway validate: validate takes one file, got 2/],
    [['proxy', '--to', 'a:1'], /^udp-gateway proxy: --listen <host:port> is needed/],
    [['proxy', '--listen', ':2203'], /^udp-gateway proxy: at least one --to/],
    [['frobnicate'], /^udp-gateway: unknown command "frobnicate": use one of start, validate, send, proxy/],
  ])('%j is a one-line usage error, exit 2', async (args, message) => {
    const r = await runCliAsync(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('validate --help is help, not a file named --help', async () => {
    const r = await runCliAsync(['validate', '--help']);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).not.toMatch(/cannot read|--help: /);
  });

  it('a failure that is not a usage error is one coded line, exit 1, no stack trace', async () => {
    const r = await runCliAsync(['validate', join(ROOT, 'no-such-config.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^UGW_ERR_CONFIG_READ: cannot read .*no-such-config\.yaml: no such file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
