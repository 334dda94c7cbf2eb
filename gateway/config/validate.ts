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
  const got = value === undefined ? '' : `, got ${JSON.stringify(value)}`;
  const hint = schema.description ? ` (${schema.description})` : '';
  const allowed = literals(schema);
  if (type === ValueErrorType.Union && allowed) return `must be one of ${allowed.join(', ')}${got}: use one of these`;
  if (type === ValueErrorType.Union && schema.description) return `must be ${schema.description}${got}`;
  const range = RANGE_ERRORS.has(type) ? rangeOf(schema) : undefined;
  if (range) return `must be ${range}${got}${hint}: set a value in that range`;
  if (type === ValueErrorType.Integer) return `must be a whole number${got}${hint}`;
  if (type === ValueErrorType.StringPattern && schema.description) return `must be ${schema.description}${got}`;
  return `${message}${got}${hint}`;
}

const RANGE_ERRORS = new Set([
  ValueErrorType.IntegerMaximum, ValueErrorType.IntegerMinimum, ValueErrorType.NumberMaximum, ValueErrorType.NumberMinimum,
  ValueErrorType.ArrayMinItems, ValueErrorType.ArrayMaxItems, ValueErrorType.StringMinLength, ValueErrorType.StringMaxLength,
]);

/** "a whole number from 0 to 65535", "a list of at least 1 entries", …, from the schema's bounds. */
function rangeOf(schema: TSchema): string | undefined {
  const numeric = schema.type === 'integer' || schema.type === 'number';
  const [lo, hi] = numeric ? [schema.minimum, schema.maximum]
    : schema.type === 'array' ? [schema.minItems, schema.maxItems] : [schema.minLength, schema.maxLength];
  if (lo === undefined && hi === undefined) return undefined;
  const bounds = lo !== undefined && hi !== undefined ? `from ${lo} to ${hi}` : lo !== undefined ? `at least ${lo}` : `at most ${hi}`;
  if (numeric) return `${schema.type === 'integer' ? 'a whole number' : 'a number'} ${bounds}`;
  return schema.type === 'array' ? `a list of ${bounds} entries` : `${bounds} characters long`;
}

/** The allowed values of a union of literals ("base64", "hex", …), quoted as they are written. */
function literals(schema: TSchema): string[] | undefined {
  const members = schema.anyOf as TSchema[] | undefined;
  if (!members || !members.every((m) => m.const !== undefined)) return undefined;
  return members.map((m) => JSON.stringify(m.const));
}

/** An unknown key is reported by TypeBox at the key's own path: keep that, drop duplicates of it. */
function collapse(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i);
}
