/** Options of the `s3` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';

export const S3Options = Type.Object({
  bucket: Type.String({ minLength: 1 }),
  prefix: Type.String({ default: 'udp-gateway/', description: 'key prefix, usually ending in "/"' }),
  forcePathStyle: Type.Optional(Type.Boolean({ description: 'path-style URLs; default true when endpoint is set (moto, MinIO)' })),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type S3Options = Static<typeof S3Options>;
