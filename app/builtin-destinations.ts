/**
 * Registers every destination kind shipped with the gateway. Import once at start-up.
 * AWS kinds register their option schemas only; a kind's module (and so its AWS SDK client) is
 * loaded when a destination of that kind is created, so a gateway without AWS destinations does
 * not load the AWS SDK (about 350 ms of start-up for the ten clients).
 */
import type { TSchema } from '@sinclair/typebox';
import { registerDestinationKind } from '../gateway/extension/destination-registry.js';
import type { DestinationKind } from '../gateway/extension/destination.js';
import { handlerDestination } from '../destinations/handler/index.js';
import { fileDestination } from '../destinations/file/index.js';
import { udpDestination } from '../destinations/udp/index.js';
import { httpDestination } from '../destinations/http/index.js';
import { SqsOptions } from '../destinations/sqs/options.js';
import { LambdaOptions } from '../destinations/lambda/options.js';
import { StepFunctionsOptions } from '../destinations/stepfunctions/options.js';
import { SnsOptions } from '../destinations/sns/options.js';
import { KinesisOptions } from '../destinations/kinesis/options.js';
import { FirehoseOptions } from '../destinations/firehose/options.js';
import { S3Options } from '../destinations/s3/options.js';
import { DynamoDbOptions } from '../destinations/dynamodb/options.js';
import { CloudWatchLogsOptions } from '../destinations/cloudwatch-logs/options.js';
import { EventBridgeOptions } from '../destinations/eventbridge/options.js';

/** A kind whose module is imported on first create(); its schema and batch defaults are known up front. */
function lazyKind(type: string, options: TSchema, load: () => Promise<DestinationKind>, batchDefaults?: DestinationKind['batchDefaults']): DestinationKind {
  return {
    type, options, ...(batchDefaults ? { batchDefaults } : {}),
    create: async (name, opts, ctx) => (await load()).create(name, opts, ctx),
  };
}

const requestResponse = { lingerMs: 0 };

const builtin: DestinationKind[] = [
  handlerDestination,
  fileDestination,
  udpDestination,
  httpDestination,
  lazyKind('sqs', SqsOptions, async () => (await import('../destinations/sqs/index.js')).sqsKind),
  lazyKind('lambda', LambdaOptions, async () => (await import('../destinations/lambda/index.js')).lambdaKind, requestResponse),
  lazyKind('stepfunctions', StepFunctionsOptions, async () => (await import('../destinations/stepfunctions/index.js')).stepFunctionsKind, requestResponse),
  lazyKind('sns', SnsOptions, async () => (await import('../destinations/sns/index.js')).snsKind),
  lazyKind('kinesis', KinesisOptions, async () => (await import('../destinations/kinesis/index.js')).kinesisKind),
  lazyKind('firehose', FirehoseOptions, async () => (await import('../destinations/firehose/index.js')).firehoseKind),
  lazyKind('s3', S3Options, async () => (await import('../destinations/s3/index.js')).s3Kind),
  lazyKind('dynamodb', DynamoDbOptions, async () => (await import('../destinations/dynamodb/index.js')).dynamoDbKind),
  lazyKind('cloudwatch-logs', CloudWatchLogsOptions, async () => (await import('../destinations/cloudwatch-logs/index.js')).cloudWatchLogsKind),
  lazyKind('eventbridge', EventBridgeOptions, async () => (await import('../destinations/eventbridge/index.js')).eventBridgeKind),
];

for (const kind of builtin) registerDestinationKind(kind);
