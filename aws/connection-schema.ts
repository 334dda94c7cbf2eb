/** The connection options every AWS destination accepts (schema only: no SDK import, so config
 *  validation does not load the AWS SDK). */
import { Type } from '@sinclair/typebox';

export interface AwsConnectionOptions {
  readonly region?: string;
  readonly endpoint?: string;
}

/** Options every AWS destination accepts, spread into its TypeBox schema. */
export const AwsConnectionSchema = {
  region: Type.Optional(Type.String({ minLength: 1, description: 'AWS region; default from the AWS chain (AWS_REGION, profile)' })),
  endpoint: Type.Optional(Type.String({ minLength: 1, pattern: '^https?://', description: 'service endpoint URL (e.g. http://127.0.0.1:5000 for moto); default AWS_ENDPOINT_URL[_<SERVICE>] or AWS' })),
};
