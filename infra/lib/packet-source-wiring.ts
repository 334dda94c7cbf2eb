/**
 * Out-of-band ingress on AWS: an SNS topic (SignatureVersion 2 = SHA256 signatures) that
 * applications publish packets to, delivered to the gateway either through an SQS queue the
 * gateway polls (with a dead-letter queue) or straight to the gateway's HTTPS endpoint.
 */
import { Aws, CfnOutput, Duration } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** How SNS reaches the gateway. */
export type PacketSourceWiringProps =
  | { readonly kind: 'sqs'; readonly maxReceiveCount?: number }
  /** SNS POSTs to this public HTTPS URL (the NLB's TLS listener in front of the sns-http source). */
  | { readonly kind: 'https'; readonly endpointUrl: string };

export class PacketSourceWiring extends Construct {
  readonly topic: sns.Topic;
  readonly queue?: sqs.Queue;
  readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: PacketSourceWiringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      signatureVersion: '2',
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    if (props.kind === 'sqs') {
      this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14),
      });
      // A message that fails maxReceiveCount times (unparseable, refused by egress policy) moves to the DLQ.
      this.queue = new sqs.Queue(this, 'Queue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true,
        visibilityTimeout: Duration.seconds(30),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      });
      // Raw delivery: the queue body is the publisher's {"Messages":[…]} document itself; trust comes
      // from the queue policy (only this topic may send), so no SNS signature is needed on this path.
      this.topic.addSubscription(new subs.SqsSubscription(this.queue, { rawMessageDelivery: true }));
    } else {
      this.topic.addSubscription(new subs.UrlSubscription(props.endpointUrl, { protocol: sns.SubscriptionProtocol.HTTPS }));
    }
    new CfnOutput(this, 'TopicArn', {
      value: this.topic.topicArn,
      // Named after the deployed stack (a token), so the plain template can be deployed more than once.
      exportName: `${Aws.STACK_NAME}-PacketTopicArn`,
      description: 'Publish {"Messages":[{"Data","Remote":{"Address","Port"}}]} here to send UDP packets to clients',
    });
  }
}
