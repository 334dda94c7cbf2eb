/**
 * A rule's conditions, compiled once: every condition given must hold. Pure: a request in, a boolean out.
 * The expression is the AWS destinations' template language (`${data[0:2]:hex}`), over the first datagram.
 */
import type { Static } from '@sinclair/typebox';
import { checkCidr, createCidrMatcher, parseExpression, type Packet, type RouteRequest } from '../../gateway/plugin-kit.js';
import type { RuleSchema } from './options.js';

export type Rule = Static<typeof RuleSchema>;
export type Matcher = (req: RouteRequest, first: Packet) => boolean;

/** Compiles a rule; throws naming the rule (`at`) and what is wrong. */
export function compileRule(rule: Rule, at: string): Matcher {
  const tests: Matcher[] = [];
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  if ((rule.equals !== undefined || rule.matches !== undefined) && rule.expression === undefined) {
    throw new Error(`${at}: "equals" and "matches" compare the value of "expression": add one, e.g. expression: "\${data[0:2]:hex}"`);
  }
  if (rule.expression !== undefined) {
    const expr = parseExpression(rule.expression);
    if (rule.equals !== undefined) { const set = new Set(list(rule.equals)); tests.push((_r, p) => set.has(expr(p))); }
    if (rule.matches !== undefined) { const re = regex(rule.matches, `${at}/matches`); tests.push((_r, p) => re.test(expr(p))); }
    if (rule.equals === undefined && rule.matches === undefined) tests.push((_r, p) => expr(p).length > 0);
  }
  if (rule.prefix !== undefined) { const b = Buffer.from(rule.prefix, 'hex'); tests.push((_r, p) => startsWith(p.data, b)); }
  if (rule.prefixText !== undefined) { const b = Buffer.from(rule.prefixText, 'utf8'); tests.push((_r, p) => startsWith(p.data, b)); }
  if (rule.regex !== undefined) { const re = regex(rule.regex, `${at}/regex`); tests.push((_r, p) => re.test(p.data.toString('latin1'))); }
  if (rule.network !== undefined) {
    for (const c of rule.network) { const e = checkCidr(c); if (e) throw new Error(`${at}/network: ${e}`); }
    const inNetwork = createCidrMatcher(rule.network);
    tests.push((r) => inNetwork(r.remote.address));
  }
  if (rule.listener !== undefined) { const names = new Set(list(rule.listener)); tests.push((r) => names.has(r.listener)); }
  if (tests.length === 0) return () => true;
  return (r, p) => tests.every((t) => t(r, p));
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function regex(source: string, at: string): RegExp {
  try { return new RegExp(source, 's'); } catch (err) { throw new Error(`${at}: ${(err as Error).message}`); }
}
