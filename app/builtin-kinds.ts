/**
 * The kinds shipped with the gateway (destinations, packet sources, routers), registered once at start-up. The only file that lists the
 * plugins: the core knows none of them. Each entry is a manifest (options schema, batch defaults,
 * IAM statements); a kind's module, and with it its AWS SDK client, is loaded only when a
 * destination or source of that kind is created (the ten AWS clients cost about 350 ms to import).
 */
import { wireguardKind } from '../listener-protocols/wireguard/manifest.js';
import { coapFormatter } from '../formatters/coap/manifest.js';
import { registerDataFormatter } from '../gateway/extension/data-formatter.js';
import {
  registerDestinationKind, registerListenerProtocolKind, registerPacketSourceKind, registerRouterKind,
  type AnyDestinationKind, type AnyListenerProtocolKind, type AnyPacketSourceKind, type AnyRouterKind,
} from '../gateway/extension/registry.js';
import { handlerKind } from '../destinations/handler/manifest.js';
import { fileKind } from '../destinations/file/manifest.js';
import { udpKind } from '../destinations/udp/manifest.js';
import { httpKind } from '../destinations/http/manifest.js';
import { sqsKind } from '../destinations/sqs/manifest.js';
import { lambdaKind } from '../destinations/lambda/manifest.js';
import { stepfunctionsKind } from '../destinations/stepfunctions/manifest.js';
import { snsKind } from '../destinations/sns/manifest.js';
import { kinesisKind } from '../destinations/kinesis/manifest.js';
import { firehoseKind } from '../destinations/firehose/manifest.js';
import { s3Kind } from '../destinations/s3/manifest.js';
import { dynamodbKind } from '../destinations/dynamodb/manifest.js';
import { cloudwatchLogsKind } from '../destinations/cloudwatch-logs/manifest.js';
import { eventbridgeKind } from '../destinations/eventbridge/manifest.js';
import { snsHttpSourceKind } from '../packet-source/sns-http/manifest.js';
import { sqsSourceKind } from '../packet-source/sqs/manifest.js';
import { staticRouterKind } from '../routers/static/manifest.js';
import { rulesRouterKind } from '../routers/rules/manifest.js';
import { moduleRouterKind } from '../routers/module/manifest.js';
import { redisRouterKind } from '../routers/redis/manifest.js';

export const builtinDestinationKinds: readonly AnyDestinationKind[] = [
  handlerKind, fileKind, udpKind, httpKind,
  sqsKind, lambdaKind, stepfunctionsKind, snsKind, kinesisKind, firehoseKind, s3Kind, dynamodbKind, cloudwatchLogsKind, eventbridgeKind,
];

export const builtinPacketSourceKinds: readonly AnyPacketSourceKind[] = [snsHttpSourceKind, sqsSourceKind];

/** Routers of the udp destination's sessions (its `router` block). */
export const builtinRouterKinds: readonly AnyRouterKind[] = [staticRouterKind, rulesRouterKind, moduleRouterKind, redisRouterKind];

for (const kind of builtinDestinationKinds) registerDestinationKind(kind);
for (const kind of builtinPacketSourceKinds) registerPacketSourceKind(kind);

export const builtinListenerProtocolKinds: readonly AnyListenerProtocolKind[] = [wireguardKind];
for (const kind of builtinListenerProtocolKinds) registerListenerProtocolKind(kind);

registerDataFormatter(coapFormatter);
for (const kind of builtinRouterKinds) registerRouterKind(kind);
