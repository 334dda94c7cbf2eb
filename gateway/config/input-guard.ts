/**
 * Bounds on a raw configuration before anything walks it (schema defaults, validation, cloning):
 * a hostile or broken file or environment must end in one ConfigError, quickly, not in a hang, a
 * RangeError or a polluted prototype. Iterative walk; what it refuses, with the path:
 *   - a top level that is not a mapping;
 *   - nesting deeper than MAX_DEPTH, more than MAX_NODES values, an array longer than MAX_ITEMS;
 *   - a cycle (a YAML anchor inside itself), a sparse array;
 *   - the keys __proto__, constructor and prototype (no configuration uses them).
 */
import type { ConfigProblem } from '../errors.js';

export const CONFIG_LIMITS = Object.freeze({ maxDepth: 32, maxNodes: 100_000, maxItems: 10_000, maxStringBytes: 1_048_576 });
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The first problem of the raw configuration's shape, or undefined when it is within bounds. */
export function configShapeProblem(raw: unknown): ConfigProblem | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { path: '', message: `the configuration must be a mapping (listeners:, …), got ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw}` };
  }
  const { maxDepth, maxNodes, maxItems, maxStringBytes } = CONFIG_LIMITS;
  const onPath = new Set<object>(); // ancestors of the value being looked at: a cycle meets one
  const stack: { value: unknown; path: string; depth: number; leave?: object }[] = [{ value: raw, path: '', depth: 0 }];
  let nodes = 0;
  while (stack.length) {
    const { value, path, depth, leave } = stack.pop()!;
    if (leave) { onPath.delete(leave); continue; }
    if (++nodes > maxNodes) return { path, message: `more than ${maxNodes} values in all: not a configuration` };
    if (typeof value === 'string' && value.length > maxStringBytes) return { path, message: `a string longer than ${maxStringBytes} characters` };
    if (value === null || typeof value !== 'object') continue;
    if (onPath.has(value)) return { path, message: 'refers to itself (a YAML alias inside its own anchor)' };
    if (depth >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
    onPath.add(value);
    stack.push({ value: undefined, path, depth, leave: value });
    if (Array.isArray(value)) {
      if (value.length > maxItems) return { path, message: `a list of ${value.length} items: at most ${maxItems}` };
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return { path: `${path}/${i}`, message: 'a hole in a list (no item at this index)' };
        stack.push({ value: value[i], path: `${path}/${i}`, depth: depth + 1 });
      }
      continue;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return { path, message: 'not a plain mapping' };
    const keys = Object.keys(value);
    if (keys.length > maxItems) return { path, message: `a mapping of ${keys.length} keys: at most ${maxItems}` };
    for (const k of keys) {
      if (FORBIDDEN_KEYS.has(k)) return { path: `${path}/${k}`, message: `the key "${k}" is not allowed: remove it` };
      stack.push({ value: (value as Record<string, unknown>)[k], path: `${path}/${k}`, depth: depth + 1 });
    }
  }
  return undefined;
}
