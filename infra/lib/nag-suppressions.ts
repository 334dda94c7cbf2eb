/**
 * cdk-nag (AwsSolutions pack) findings this design accepts. Each acknowledgement sits next to the
 * construct it concerns and carries its reason; tests fail on any finding not acknowledged here.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** IAM5 findings are per action/resource: acknowledge each with one shared reason. */
export function acknowledgeWildcards(scope: IConstruct, findings: readonly string[], reason: string): void {
  for (const f of findings) acknowledge(scope, `AwsSolutions-IAM5[${f}]`, reason);
}
