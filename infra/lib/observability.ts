/**
 * Metrics and alarms. The gateway exposes Prometheus text on its admin API (/metrics); a CloudWatch
 * agent sidecar in the same task scrapes it over localhost and writes Embedded Metric Format (EMF)
 * log events, from which CloudWatch creates metrics. Counters arrive as deltas per scrape
 * (CloudWatch docs, "Prometheus metric type conversion by the CloudWatch agent"), so Sum over a
 * period is the number of drops / failures in that period, and Average over one scrape interval is
 * the count per task. Histograms are dropped by the agent.
 *
 * Every alarm notifies one SNS topic (alarm and OK). Alarms on counters that only exist once
 * something happened (drops, failures) treat missing data as fine; the heartbeat alarm on a gauge
 * every task reports at every scrape treats missing data as breaching, so a dead agent or no
 * running task is not silent.
 */
import { Aws, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge } from './nag-suppressions.js';

export const METRIC_NAMESPACE = 'UdpGateway';
/** Pinned: a `latest` tag changes under a running service at the next task start. */
export const DEFAULT_CLOUDWATCH_AGENT_IMAGE = 'public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300072.0b1766';
/** Scrape interval of the agent; also the period of per-task metrics (one sample per task per period). */
export const SCRAPE_INTERVAL = Duration.minutes(1);
/** Where the agent writes (config translation, pid file, logs): scratch volumes, the root filesystem stays read-only. */
const AGENT_WRITABLE_PATHS = ['/opt/aws/amazon-cloudwatch-agent/etc', '/opt/aws/amazon-cloudwatch-agent/var',
  '/opt/aws/amazon-cloudwatch-agent/logs', '/etc/cwagentconfig', '/tmp'];

export interface GatewayObservabilityProps {
  readonly taskDefinition: ecs.TaskDefinition;
  readonly adminPort: number;
  /** Log retention for the gateway and metrics log groups (default one month). */
  readonly retention?: logs.RetentionDays;
  readonly agentImage?: string;
  /** Run the agent with a read-only root filesystem and scratch volumes for the paths it writes (default true). */
  readonly agentReadonlyRootFilesystem?: boolean;
  /** Alarm when more packets than this are dropped in 5 minutes (default 100: allow/deny refusals count as drops too). */
  readonly dropsThreshold?: number;
  /** Alarm when at least this many packets finally failed delivery in 5 minutes (default 1). */
  readonly failuresThreshold?: number;
  /** Topic every alarm notifies (default: one created here). */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * An SNS topic for alarm notifications, encrypted with its own key: CloudWatch cannot publish to a topic under the
 * AWS managed key alias/aws/sns (its key policy cannot be edited to admit cloudwatch.amazonaws.com).
 */
export function createAlarmTopic(scope: Construct, id: string): sns.Topic {
  const key = new kms.Key(scope, `${id}Key`, { description: 'udp-gateway alarm topic', enableKeyRotation: true });
  key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
  return new sns.Topic(scope, id, { displayName: 'udp-gateway alarms', enforceSSL: true, masterKey: key });
}

export class GatewayObservability extends Construct {
  /** Gateway container logs (awslogs driver). */
  readonly logGroup: logs.LogGroup;
  /** EMF events written by the CloudWatch agent. */
  readonly metricsLogGroup: logs.LogGroup;
  readonly alarmTopic: sns.ITopic;
  readonly dropsAlarm: cloudwatch.Alarm;
  readonly failuresAlarm: cloudwatch.Alarm;
  /** No gateway metrics at all for 5 minutes: the agent died, or no task runs. */
  readonly heartbeatAlarm: cloudwatch.Alarm;
  readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * Prometheus job name, the `job` dimension of every metric of this gateway: the deployed stack's
   * name (a CloudFormation token, so the same template deployed twice gets two jobs) and the
   * construct's id within the stack (two gateways in one stack).
   */
  readonly job: string;

  constructor(scope: Construct, id: string, props: GatewayObservabilityProps) {
    super(scope, id);
    const retention = props.retention ?? logs.RetentionDays.ONE_MONTH;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    this.metricsLogGroup = new logs.LogGroup(this, 'MetricsLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    this.job = `udpgw-${Aws.STACK_NAME}-${Names.uniqueId(this).slice(-24)}`;
    this.alarmTopic = props.alarmTopic ?? createAlarmTopic(this, 'AlarmTopic');
    this.addAgent(props);
    this.dropsAlarm = this.alarm('Drops', this.metric('udpgw_drops_total'), props.dropsThreshold ?? 100, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      'UDP packets dropped (queue full, oversize, deny list, …) by the gateway: udpgw_drops_total summed over 5 minutes');
    this.failuresAlarm = this.alarm('DeliveryFailures', this.metric('udpgw_destination_failed_total'), props.failuresThreshold ?? 1,
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      'packets a destination finally failed to deliver (after retries): udpgw_destination_failed_total summed over 5 minutes');
    this.heartbeatAlarm = this.alarm('Heartbeat', this.metric('udpgw_destination_queued', { statistic: 'SampleCount' }), 1,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      'no gateway metrics for 5 minutes (udpgw_destination_queued is reported by every task at every scrape): the CloudWatch '
      + 'agent sidecar died, or no gateway task is running', cloudwatch.TreatMissingData.BREACHING);
  }

  /** A metric of this gateway, summed over all label values (reason, destination, where). */
  metric(name: string, opts: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: name, dimensionsMap: { job: this.job }, statistic: 'Sum', period: Duration.minutes(5), ...opts });
  }

  /** Packets received per task per scrape interval (Average of the per-scrape deltas, one sample per task). */
  packetsPerTaskMetric(): cloudwatch.Metric {
    return this.metric('udpgw_packets_received_total', { statistic: 'Average', period: SCRAPE_INTERVAL });
  }

  /** An alarm that notifies the alarm topic when it fires and when it recovers. */
  alarm(id: string, metric: cloudwatch.Metric, threshold: number, op: cloudwatch.ComparisonOperator, description: string,
    treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING, evaluationPeriods = 1): cloudwatch.Alarm {
    const a = metric.createAlarm(this, `${id}Alarm`, { threshold, evaluationPeriods, comparisonOperator: op, treatMissingData, alarmDescription: description });
    a.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    a.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(a);
    return a;
  }

  private addAgent(props: GatewayObservabilityProps): void {
    const prometheus = [
      'global:', `  scrape_interval: ${SCRAPE_INTERVAL.toSeconds()}s`, '  scrape_timeout: 10s', 'scrape_configs:',
      `  - job_name: ${this.job}`, '    metrics_path: /metrics', '    static_configs:', `      - targets: ['localhost:${props.adminPort}']`,
    ].join('\n');
    const declaration = (dimensions: string[][], selectors: string[]) =>
      ({ source_labels: ['job'], label_matcher: `^${this.job}$`, dimensions, metric_selectors: selectors });
    const agentConfig = {
      logs: {
        force_flush_interval: 5,
        metrics_collected: {
          prometheus: {
            log_group_name: this.metricsLogGroup.logGroupName,
            prometheus_config_path: 'env:PROMETHEUS_CONFIG_CONTENT',
            emf_processor: {
              metric_namespace: METRIC_NAMESPACE,
              metric_declaration: [
                declaration([['job']], ['^udpgw_drops_total$', '^udpgw_destination_failed_total$', '^udpgw_packets_received_total$',
                  '^udpgw_packets_sent_total$', '^udpgw_destination_delivered_total$', '^udpgw_egress_refused_total$', '^udpgw_destination_queued$']),
                declaration([['job', 'reason']], ['^udpgw_drops_total$', '^udpgw_egress_refused_total$']),
                declaration([['job', 'path']], ['^udpgw_packets_sent_total$']),
                declaration([['job', 'destination']], ['^udpgw_destination_failed_total$', '^udpgw_destination_queued$']),
              ],
            },
          },
        },
      },
    };
    const readonly = props.agentReadonlyRootFilesystem ?? true;
    const agent = props.taskDefinition.addContainer('cloudwatch-agent', {
      image: ecs.ContainerImage.fromRegistry(props.agentImage ?? DEFAULT_CLOUDWATCH_AGENT_IMAGE),
      essential: false, // a metrics outage must not stop packet traffic (the heartbeat alarm reports it)
      memoryReservationMiB: 64,
      readonlyRootFilesystem: readonly,
      environment: { CW_CONFIG_CONTENT: Stack.of(this).toJsonString(agentConfig), PROMETHEUS_CONFIG_CONTENT: prometheus },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'cloudwatch-agent' }),
    });
    if (readonly) {
      AGENT_WRITABLE_PATHS.forEach((containerPath, i) => {
        const name = `agent-scratch-${i}`;
        props.taskDefinition.addVolume({ name });
        agent.addMountPoints({ sourceVolume: name, containerPath, readOnly: false });
      });
    }
    acknowledge(props.taskDefinition, 'AwsSolutions-ECS2', 'The only plain environment variables are the CloudWatch agent\'s '
      + 'scrape and EMF configuration (no secrets); the gateway\'s config, tag secret, admin token and secret headers arrive as ECS secrets.');
    props.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [this.metricsLogGroup.logGroupArn],
    }));
  }
}
