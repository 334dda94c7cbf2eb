import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ERRORS, GatewayError } from '../../gateway/errors.js';

describe('error table', () => {
  it('docs/errors.md lists exactly the codes of gateway/errors.ts, with the same text', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(UGW_ERR_[A-Z_]+)` \| (.*) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(rows)).toEqual(ERRORS);
  });

  it('codes follow UGW_ERR_<AREA>_<WHAT> and errors carry code and cause', () => {
    for (const code of Object.keys(ERRORS)) expect(code).toMatch(/^UGW_ERR_[A-Z]+_[A-Z_]+$/);
    const cause = new Error('root');
    const e = new GatewayError('UGW_ERR_LISTENER_BIND', 'cannot bind', { cause });
    expect([e.code, e.cause, e instanceof Error]).toEqual(['UGW_ERR_LISTENER_BIND', cause, true]);
  });
});
