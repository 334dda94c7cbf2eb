/**
 * Registers every destination kind shipped with the gateway. Import once at start-up.
 * AWS kinds register their option schemas only; a kind's module (and so its AWS SDK client) is
 * loaded when a destination of that kind is created, so a gateway without AWS destinations does
 * not load the AWS SDK (about 350 ms of start-up for the ten clients).
 */
import type { TSchema } from '@sinclair/typebox';
import { registerDestinationKind } from './index.js';
import type { DestinationKind } from '../gateway/destination.js';
import { handlerDestination } from './handler/index.js';
import { fileDestination } from './file/index.js';
import { udpDestination } from './udp/index.js';
import { httpDestination } from './http/index.js';
import { SqsOptions } from './sqs/options.js';
import { LambdaOptions } from './lambda/options.js';
import { StepFunctionsOptions } from './stepfunctions/options.js';
import { SnsOptions } from './sns/options.js';
import { KinesisOptions } from './kinesis/options.js';
import { FirehoseOptions } from './firehose/options.js';
import { S3Options } from './s3/options.js';
import { DynamoDbOptions } from './dynamodb/options.js';
import { CloudWatchLogsOptions } from './cloudwatch-logs/options.js';
import { EventBridgeOptions } from './eventbridge/options.js';

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
  lazyKind('sqs', SqsOptions, async () => (await import('./sqs/index.js')).sqsKind),
  lazyKind('lambda', LambdaOptions, async () => (await import('./lambda/index.js')).lambdaKind, requestResponse),
  lazyKind('stepfunctions', StepFunctionsOptions, async () => (await import('./stepfunctions/index.js')).stepFunctionsKind, requestResponse),
  lazyKind('sns', SnsOptions, async () => (await import('./sns/index.js')).snsKind),
  lazyKind('kinesis', KinesisOptions, async () => (await import('./kinesis/index.js')).kinesisKind),
  lazyKind('firehose', FirehoseOptions, async () => (await import('./firehose/index.js')).firehoseKind),
  lazyKind('s3', S3Options, async () => (await import('./s3/index.js')).s3Kind),
  lazyKind('dynamodb', DynamoDbOptions, async () => (await import('./dynamodb/index.js')).dynamoDbKind),
  lazyKind('cloudwatch-logs', CloudWatchLogsOptions, async () => (await import('./cloudwatch-logs/index.js')).cloudWatchLogsKind),
  lazyKind('eventbridge', EventBridgeOptions, async () => (await import('./eventbridge/index.js')).eventBridgeKind),
];

for (const kind of builtin) registerDestinationKind(kind);
