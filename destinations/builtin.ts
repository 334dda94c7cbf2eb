/** Registers every destination kind shipped with the gateway. Import once at start-up. */
import { registerDestinationKind } from './index.js';
import type { DestinationKind } from '../gateway/destination.js';
import { sqsKind } from './sqs/index.js';
import { lambdaKind } from './lambda/index.js';
import { stepFunctionsKind } from './stepfunctions/index.js';
import { snsKind } from './sns/index.js';
import { kinesisKind } from './kinesis/index.js';
import { firehoseKind } from './firehose/index.js';
import { s3Kind } from './s3/index.js';
import { dynamoDbKind } from './dynamodb/index.js';
import { cloudWatchLogsKind } from './cloudwatch-logs/index.js';
import { eventBridgeKind } from './eventbridge/index.js';
import { handlerDestination } from './handler/index.js';
import { fileDestination } from './file/index.js';
import { udpDestination } from './udp/index.js';
import { httpDestination } from './http/index.js';

const builtin: DestinationKind[] = [
  sqsKind,
  lambdaKind,
  stepFunctionsKind,
  snsKind,
  kinesisKind,
  firehoseKind,
  s3Kind,
  dynamoDbKind,
  cloudWatchLogsKind,
  eventBridgeKind,
  handlerDestination,
  fileDestination,
  udpDestination,
  httpDestination,
];

for (const kind of builtin) registerDestinationKind(kind);
