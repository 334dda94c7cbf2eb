/** Schema validation that fills defaults, refuses unknown keys and lists every problem by its path. */
import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import type { ConfigProblem } from '../errors.js';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = compiled.get(schema);
  if (!c) { c = TypeCompiler.Compile(schema); compiled.set(schema, c); }
  return c;
}

/** Returns the value with defaults applied, or the list of problems (paths prefixed with `at`). */
export function validate<S extends TSchema>(schema: S, input: unknown, at = ''): { value: Static<S> } | { problems: ConfigProblem[] } {
  const notLists = listShapeProblems(schema, input, at);
  if (notLists.length) return { problems: notLists };
  const value = Value.Default(schema, Value.Clone(input));
  const c = checker(schema);
  if (c.Check(value)) return { value: value as Static<S> };
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const e of c.Errors(value)) {
    const path = at + e.path;
    const message = describe(e.type, e.message, e.value, e.schema);
    const key = `${path} ${message}`;
    // Union members each report, and a missing key also fails its type: keep one line per path.
    if (seen.has(key) || problems.some((p) => p.path === path && (e.type === ValueErrorType.Union || p.message === 'is required'))) continue;
    seen.add(key);
    problems.push({ path, message });
  }
  return { problems: collapse(problems) };
}

/**
 * A mapping where the schema wants a list. Checked before defaults are filled in: TypeBox's
 * Value.Default turns such a mapping into a list (Object.assign([], value)), so { "65535": x }
 * became a 65,536-item list and { length: 1e8 } a 100,000,000-item one before validation began.
 */
function listShapeProblems(schema: TSchema, value: unknown, path: string): ConfigProblem[] {
  const s = schema as { type?: unknown; items?: TSchema; properties?: Record<string, TSchema> };
  if (value === undefined) return [];
  if (s.type === 'array') {
    if (!Array.isArray(value)) return [{ path, message: `Expected a list, got ${describeKind(value)}` }];
    return s.items ? value.flatMap((v, i) => listShapeProblems(s.items!, v, `${path}/${i}`)) : [];
  }
  if (s.type === 'object' && s.properties && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(s.properties).flatMap(([k, sub]) => (Object.hasOwn(value, k) ? listShapeProblems(sub, (value as Record<string, unknown>)[k], `${path}/${k}`) : []));
  }
  return [];
}

function describeKind(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? 'a mapping' : typeof v;
}

function describe(type: ValueErrorType, message: string, value: unknown, schema: TSchema): string {
  if (type === ValueErrorType.ObjectAdditionalProperties) return 'unknown key: remove it or check its spelling';
  if (type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  const hint = schema.description ? ` (${schema.description})` : '';
  return `${message}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}${hint}`;
}

/** An unknown key is reported by TypeBox at the key's own path: keep that, drop duplicates of it. */
function collapse(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i);
}
