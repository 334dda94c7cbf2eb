/**
 * Metrics and alarms. The gateway exposes Prometheus text on its admin API (/metrics); a CloudWatch
 * agent sidecar in the same task scrapes it over localhost and writes Embedded Metric Format (EMF)
 * log events, from which CloudWatch creates metrics. Counters arrive as deltas per scrape
 * (CloudWatch docs, "Prometheus metric type conversion by the CloudWatch agent"), so Sum over a
 * period is the number of drops / failures in that period. Histograms are dropped by the agent.
 */
import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from './nag-suppressions.js';

export const METRIC_NAMESPACE = 'UdpGateway';
export const DEFAULT_CLOUDWATCH_AGENT_IMAGE = 'public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest';

export interface GatewayObservabilityProps {
  readonly taskDefinition: ecs.TaskDefinition;
  readonly adminPort: number;
  /** Log retention for the gateway and metrics log groups (default one month). */
  readonly retention?: logs.RetentionDays;
  readonly agentImage?: string;
  /** Alarm when more packets than this are dropped in 5 minutes (default 100: allow/deny refusals count as drops too). */
  readonly dropsThreshold?: number;
  /** Alarm when at least this many packets finally failed delivery in 5 minutes (default 1). */
  readonly failuresThreshold?: number;
}

export class GatewayObservability extends Construct {
  /** Gateway container logs (awslogs driver). */
  readonly logGroup: logs.LogGroup;
  /** EMF events written by the CloudWatch agent. */
  readonly metricsLogGroup: logs.LogGroup;
  readonly dropsAlarm: cloudwatch.Alarm;
  readonly failuresAlarm: cloudwatch.Alarm;
  /** Prometheus job name, the `job` dimension of every metric of this gateway. */
  readonly job: string;

  constructor(scope: Construct, id: string, props: GatewayObservabilityProps) {
    super(scope, id);
    const retention = props.retention ?? logs.RetentionDays.ONE_MONTH;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    this.metricsLogGroup = new logs.LogGroup(this, 'MetricsLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    this.job = `udpgw-${Names.uniqueId(this).slice(-24)}`;
    this.addAgent(props);
    this.dropsAlarm = this.alarm('Drops', 'udpgw_drops_total', props.dropsThreshold ?? 100, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      'UDP packets dropped (queue full, oversize, deny list, …) by the gateway');
    this.failuresAlarm = this.alarm('DeliveryFailures', 'udpgw_destination_failed_total', props.failuresThreshold ?? 1,
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 'packets a destination finally failed to deliver (after retries)');
  }

  /** A metric of this gateway, summed over all label values (reason, destination, where). */
  metric(name: string): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: name, dimensionsMap: { job: this.job }, statistic: 'Sum', period: Duration.minutes(5) });
  }

  private alarm(id: string, name: string, threshold: number, op: cloudwatch.ComparisonOperator, what: string): cloudwatch.Alarm {
    return this.metric(name).createAlarm(this, `${id}Alarm`, {
      threshold, evaluationPeriods: 1, comparisonOperator: op,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${what}: ${name} summed over 5 minutes`,
    });
  }

  private addAgent(props: GatewayObservabilityProps): void {
    const prometheus = [
      'global:', '  scrape_interval: 1m', '  scrape_timeout: 10s', 'scrape_configs:',
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
                  '^udpgw_packets_sent_total$', '^udpgw_destination_delivered_total$', '^udpgw_egress_refused_total$']),
                declaration([['job', 'reason']], ['^udpgw_drops_total$']),
                declaration([['job', 'destination']], ['^udpgw_destination_failed_total$', '^udpgw_destination_queued$']),
              ],
            },
          },
        },
      },
    };
    props.taskDefinition.addContainer('cloudwatch-agent', {
      image: ecs.ContainerImage.fromRegistry(props.agentImage ?? DEFAULT_CLOUDWATCH_AGENT_IMAGE),
      essential: false, // a metrics outage must not stop packet traffic
      memoryReservationMiB: 64,
      environment: { CW_CONFIG_CONTENT: Stack.of(this).toJsonString(agentConfig), PROMETHEUS_CONFIG_CONTENT: prometheus },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'cloudwatch-agent' }),
    });
    acknowledge(props.taskDefinition, 'AwsSolutions-ECS2', 'The only plain environment variables are the CloudWatch agent\'s '
      + 'scrape and EMF configuration (no secrets); the gateway\'s config, tag secret and admin token arrive as ECS secrets.');
    props.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [this.metricsLogGroup.logGroupArn],
    }));
  }
}
