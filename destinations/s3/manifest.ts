/** Manifest of the `s3` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { S3Options } from './options.js';

export const s3Kind = defineDestinationKind({
  type: 's3',
  options: S3Options,
  load: async () => (await import('./index.js')).createS3Destination,
});
