/**
 * Loads a handler module from any folder, in its worker thread, as Node would load it there, plus
 * two things Node cannot know:
 * - `udp-gateway` and `udp-gateway/<export>` (the handler kit) are the running gateway's own
 *   package, whether or not it is installed where the handler lives: for `import` (a resolve hook)
 *   and for `require` (Module._resolveFilename);
 * - a `.ts` or `.js` file with import/export statements, in a folder whose package.json declares no
 *   "type" (or that has none), is an ES module (tsx would otherwise compile a `.ts` one as CommonJS
 *   and Node refuses it with "Cannot require() ES Module … in a cycle").
 * TypeScript (.ts, .mts, .cts) is compiled by tsx, registered by the pool's bootstrap (ESM) and here
 * (CommonJS).
 */
import Module, { createRequire, register } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type ModuleFormat = 'module' | 'commonjs';

export interface LoaderInit {
  /** `udp-gateway` and `udp-gateway/<sub>` -> the absolute file of that export of the running gateway. */
  readonly aliases: Readonly<Record<string, string>>;
  /** File URL of tsx's CommonJS register API (CommonJS TypeScript handlers, and aliases to .ts sources). */
  readonly tsxCjs?: string;
}

const TS = /\.[cm]?ts$/;
/** An import or export statement at the start of a line (not `import(`, which CommonJS has too). */
const ESM_SYNTAX = /^[ \t]*(?:import[ \t]*[\w{*'"]|export[ \t]+[\w{*]|export[ \t]*\{)/m;

/** Node's rule for .mjs/.cjs/.mts/.cts; for .js/.ts the nearest package.json's "type", else the file's own syntax. */
export function moduleFormat(file: string): ModuleFormat {
  const ext = extname(file);
  if (ext === '.mjs' || ext === '.mts') return 'module';
  if (ext === '.cjs' || ext === '.cts') return 'commonjs';
  const declared = packageType(dirname(file));
  if (declared) return declared;
  const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return ESM_SYNTAX.test(source) ? 'module' : 'commonjs';
}

function packageType(dir: string): ModuleFormat | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      try {
        const type = (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type;
        return type === 'module' ? 'module' : type === 'commonjs' ? 'commonjs' : undefined;
      } catch { return undefined; }
    }
    if (dirname(d) === d) return undefined;
  }
}

// The ESM resolve hook, as a module of its own (hooks run on the loader thread).
const HOOKS = `
let aliases = {}, handler = {};
export function initialize(data) { aliases = data.aliases; handler = data.handler; }
export async function resolve(specifier, context, next) {
  if (Object.hasOwn(aliases, specifier)) return next(aliases[specifier], context);
  const r = await next(specifier, context);
  return r.url === handler.url ? { ...r, format: handler.format } : r;
}`;

/** Import (ESM) or require (CommonJS) the handler module at `file`. */
export async function importHandlerModule(file: string, init: LoaderInit): Promise<Record<string, unknown>> {
  const format = moduleFormat(file);
  const url = pathToFileURL(file).href;
  aliasForRequire(init.aliases);
  const needsTsxCjs = TS.test(file) || Object.values(init.aliases).some((f) => TS.test(f));
  if (init.tsxCjs && needsTsxCjs) (createRequire(import.meta.url)(new URL(init.tsxCjs).pathname) as { register(): void }).register();
  if (format === 'commonjs') return createRequire(import.meta.url)(file) as Record<string, unknown>;
  const aliases = Object.fromEntries(Object.entries(init.aliases).map(([k, f]) => [k, pathToFileURL(f).href]));
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { aliases, handler: { url, format } } });
  return (await import(url)) as Record<string, unknown>;
}

/** `require('udp-gateway/handler')` from any folder: the gateway's own file. */
function aliasForRequire(aliases: Readonly<Record<string, string>>): void {
  const M = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
  const original = M._resolveFilename;
  M._resolveFilename = function (request: string, ...rest: unknown[]) {
    return original.call(this, Object.hasOwn(aliases, request) ? aliases[request]! : request, ...rest);
  };
}
