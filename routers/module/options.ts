/** Options of the `module` router: a user's routing function. */
import { Type } from '@sinclair/typebox';

export const ModuleRouterOptions = Type.Object({
  module: Type.String({ minLength: 1, description: 'path of a JS or TS module (relative to the config file) exporting the routing function' }),
  export: Type.String({ minLength: 1, default: 'route', description: 'the function\'s export name ("default" for a default export)' }),
  timeoutMs: Type.Integer({ minimum: 1, default: 1_000, description: 'time limit of one call; past it the session fails (counted)' }),
}, { additionalProperties: false });
