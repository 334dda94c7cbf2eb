// `node --import ./trace-imports.mjs …`: appends every module URL the process resolves to the file
// named by UDPGW_TRACE_IMPORTS (one per line), to check what a command loads.
import { register } from 'node:module';

const hooks = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(file) { out = file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(out, r.url + '\\n');
  return r;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: process.env.UDPGW_TRACE_IMPORTS });
