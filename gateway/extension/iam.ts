/**
 * The IAM face of a plugin manifest: what a kind with given options needs to be allowed, so that
 * infra/ can build a least-privilege task role from the config alone (pure: no CDK, no I/O).
 */

/** One IAM policy statement (Effect Allow). Every resource is an exact ARN or an ARN pattern the
 *  service requires (for example an S3 key prefix); a destination action never gets "*". */
export interface IamStatement { readonly actions: string[]; readonly resources: string[] }

/** Where names (not ARNs) resolve: the stack's partition, region and account (CDK tokens are fine). */
export interface ArnContext { readonly partition: string; readonly region: string; readonly account: string }
