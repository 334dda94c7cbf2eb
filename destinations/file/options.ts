/** Options of the `file` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { Type } from '@sinclair/typebox';

export const FileOptionsSchema = Type.Object({
  path: Type.String({ minLength: 1, description: 'file to append to, relative to the config file' }),
  maxBytes: Type.Integer({ minimum: 1, default: 64 * 1024 * 1024, description: 'rotate before the file would grow past this' }),
  maxFiles: Type.Integer({ minimum: 0, default: 5, description: 'rotated files kept (path.1 … path.N)' }),
  raw: Type.Boolean({ default: false, description: 'write the datagram bytes and "\\n" instead of JSON' }),
}, { additionalProperties: false });
