import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlertTopic } from "./alert-topic";
import { ApiKeySecret } from "./api-key-secret";
import { bundleArchive } from "./bundle";
import type { DatabaseStackConfig, EmitStackConfig, IndexStackConfig, StackConfig } from "./config";
import { RunDashboard, type WatchedFunction } from "./dashboard";
import { DataBucket } from "./data-bucket";
import { deployment } from "./deployment";
import { emitFanOutDefinition } from "./emit-fan-out";
import { verifyFanOutDefinition } from "./verify-fan-out";
import { FanOut } from "./fan-out";
import { GeneratorFunction } from "./generator-function";
import { TARGET_VARIABLES, type EventTarget } from "../src/events/request";
import { MALLOC_ENV } from "../src/files/pool";
import { EMIT_RUN_METRICS, FILE_RUN_METRICS, type RunMetric } from "../src/core/run-metrics";
import {
  bucketFanOutStatements,
  verifyOutputStatements,
  bucketKeyStatement,
  opsKeyPolicy,
  vpcAccessStatements,
  bucketWriteStatement,
  emitRunStatements,
  storedDefinitionStatements,
  eventBridgePutStatement,
  firehosePutStatement,
  kinesisPutStatement,
  sqsQueueArn,
  sqsSendStatement,
  kinesisStreamArn,
  secretReadStatement,
  databaseSecretStatements,
  type PolicyStatement,
} from "./policies";

type Common = Pick<StackConfig, "architecture" | "tracing" | "logRetentionDays"> & {
  insightsLayerArn?: string;
  opsKey?: { arn: pulumi.Input<string>; sqsViaService: pulumi.Input<string> };
};

/** A function in the configured VPC: its VPC settings and the statements Lambda needs for them (none without a VPC). */
function inVpc(vpc: StackConfig["vpc"]): { vpc?: NonNullable<StackConfig["vpc"]>; statements: pulumi.Output<PolicyStatement[]> } {
  if (!vpc) return { statements: pulumi.output([]) };
  return { vpc, statements: deployment().apply((d) => vpcAccessStatements(d, vpc)) };
}

/** The invoke command a stack output prints, ready to paste. */
function invokeCommand(fn: GeneratorFunction, payload: Record<string, unknown>): pulumi.Output<string> {
  const qualifier = fn.qualifier ? ` --qualifier ${fn.qualifier}` : "";
  return pulumi.interpolate`aws lambda invoke --function-name ${fn.function.name}${qualifier} --cli-binary-format raw-in-base64-out --payload '${JSON.stringify(payload)}' response.json && cat response.json`;
}

/** The one statement an emit target needs, on its exact ARN (an ingest URL needs none). */
function targetStatements(target: EventTarget, d: { partition: string; region: string; accountId: string }): PolicyStatement[] {
  const at = `${d.partition}:%s:${d.region}:${d.accountId}`;
  switch (target.kind) {
    case "http":
      return [];
    case "kinesis":
      return [kinesisPutStatement(kinesisStreamArn(d.partition, d.region, d.accountId, target.streamName))];
    case "firehose":
      return [firehosePutStatement(`arn:${at.replace("%s", "firehose")}:deliverystream/${target.deliveryStreamName}`)];
    case "sqs":
      return [sqsSendStatement(sqsQueueArn(d.partition, d.region, target.queueUrl))];
    case "eventbridge":
      return [eventBridgePutStatement(`arn:${at.replace("%s", "events")}:event-bus/${target.eventBusName}`)];
  }
}

/** The environment variable naming the target (as `readEmitEnvironment` reads it). */
function targetVariable(target: EventTarget): Record<string, string> {
  const value =
    target.kind === "http"
      ? target.url
      : target.kind === "kinesis"
        ? target.streamName
        : target.kind === "firehose"
          ? target.deliveryStreamName
          : target.kind === "sqs"
            ? target.queueUrl
            : target.eventBusName;
  return { [TARGET_VARIABLES[target.kind]]: value };
}

/** `emit-events`: the tutoring-event simulator, to the ingest API, Kinesis, Firehose, SQS or EventBridge. */
function emitEventsFunction(emit: EmitStackConfig, common: Common, alertTopicArn: pulumi.Input<string>, data: DataBucket, keyPrefix: string, vpc: StackConfig["vpc"]): GeneratorFunction {
  const network = inVpc(vpc);
  const sinkStatements: pulumi.Input<PolicyStatement[]> = pulumi
    .all([deployment(), data.bucketArn, bucketKeyStatements(data), network.statements])
    .apply(([d, bucketArn, key, net]) => [...targetStatements(emit.target, d), ...emitRunStatements(bucketArn, keyPrefix), ...storedDefinitionStatements(bucketArn, keyPrefix), ...key, ...net]);
  return new GeneratorFunction("emit-events", {
    code: bundleArchive({ handler: "functions/emit-events.ts" }),
    handler: "functions/emit-events.handler",
    memoryMb: emit.memoryMb,
    timeoutSeconds: emit.timeoutSeconds,
    ...common,
    environment: {
      ...targetVariable(emit.target),
      STREAM_COUNT: String(emit.streamCount),
      EVENTS_PER_RUN: String(emit.eventsPerRun),
      EVENTS_PER_SECOND: String(emit.eventsPerSecond),
      MAX_FAILED_RATIO: String(emit.maxFailedRatio),
      ...(emit.shape ? { EMIT_SHAPE: emit.shape, EMIT_ARRIVALS: emit.arrivals } : {}),
      ...(emit.streamSkew ? { EMIT_STREAM_SKEW: `zipf:${emit.streamSkew.zipf}` } : {}),
      // The emit fan-out's summaries, the stored datasets it reads, and how many emitters it may run at once.
      BUCKET_NAME: data.bucketName,
      KEY_PREFIX: keyPrefix,
      EMIT_FAN_OUT_CONCURRENCY: String(emit.fanOutConcurrency),
    },
    sinkStatements,
    schedule: { expression: emit.scheduleExpression, enabled: emit.scheduleEnabled, input: {} },
    // A retry would send again the events that already landed; a failed run goes to the DLQ instead.
    asyncRetries: 0,
    ...(emit.reservedConcurrency !== undefined ? { reservedConcurrency: emit.reservedConcurrency } : {}),
    ...(emit.provisionedConcurrency !== undefined ? { provisionedConcurrency: emit.provisionedConcurrency } : {}),
    ...(network.vpc ? { vpc: network.vpc } : {}),
    alertTopicArn,
  });
}

/** Use of the bucket's SSE-KMS key through S3, for a function that reads or writes the bucket; none without one. */
function bucketKeyStatements(data: DataBucket): pulumi.Output<PolicyStatement[]> {
  if (!data.kmsKeyArn) return pulumi.output([]);
  return pulumi.all([deployment(), data.kmsKeyArn, data.bucketArn]).apply(([d, keyArn, bucketArn]) => [bucketKeyStatement(keyArn, bucketArn, `s3.${d.region}.${d.dnsSuffix}`)]);
}

/** `index-documents`: merchant metrics to Elasticsearch, the API key in a secret only it may read. */
function indexDocumentsFunction(index: IndexStackConfig, common: Common, alertTopicArn: pulumi.Input<string>, vpc: StackConfig["vpc"]) {
  const network = inVpc(vpc);
  const secret = index.apiKey
    ? new ApiKeySecret("elasticsearch-api-key", {
        description: "Elasticsearch API key (encoded) for synthgen index-documents; only that function may read it",
        value: index.apiKey,
      }).secret
    : undefined;
  const fn = new GeneratorFunction("index-documents", {
    code: bundleArchive({ handler: "functions/index-documents.ts" }),
    handler: "functions/index-documents.handler",
    memoryMb: index.memoryMb,
    timeoutSeconds: index.timeoutSeconds,
    ...common,
    environment: {
      ELASTICSEARCH_NODE: index.node,
      ELASTICSEARCH_INDEX: index.index,
      METRICS_SEED: String(index.seed),
      ...(secret ? { ELASTICSEARCH_API_KEY_SECRET_ARN: secret.arn } : {}),
    },
    sinkStatements: pulumi.all([secret ? secret.arn.apply((arn) => [secretReadStatement(arn)]) : [], network.statements]).apply(([read, net]) => [...read, ...net]),
    ...(network.vpc ? { vpc: network.vpc } : {}),
    // Documents have deterministic ids, so a retry updates what the failed attempt indexed.
    schedule: { expression: index.scheduleExpression, enabled: index.scheduleEnabled, input: {} },
    alertTopicArn,
    ...(index.reservedConcurrency !== undefined ? { reservedConcurrency: index.reservedConcurrency } : {}),
  });
  return { fn, secret };
}

/**
 * `load-database`: datasets and stored scenarios into the stack's database, in the VPC. Its role
 * reads the one secret with the database's credentials (and its key only through Secrets Manager)
 * and the stored definitions; TLS to the database is verified against the CAs Lambda's Node.js
 * runtime ships for RDS (NODE_EXTRA_CA_CERTS).
 */
function loadDatabaseFunction(database: DatabaseStackConfig, common: Common, alertTopicArn: pulumi.Input<string>, data: DataBucket, keyPrefix: string, vpc: StackConfig["vpc"]): GeneratorFunction {
  const network = inVpc(vpc);
  return new GeneratorFunction("load-database", {
    code: bundleArchive({ handler: "functions/load-database.ts" }),
    handler: "functions/load-database.handler",
    memoryMb: database.memoryMb,
    timeoutSeconds: database.timeoutSeconds,
    ...common,
    environment: {
      DATABASE_URL: database.url,
      DATABASE_SECRET_ARN: database.secretArn,
      BUCKET_NAME: data.bucketName,
      KEY_PREFIX: keyPrefix,
      NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE,
    },
    sinkStatements: pulumi
      .all([deployment(), data.bucketArn, bucketKeyStatements(data), network.statements])
      .apply(([d, bucketArn, key, net]) => [
        ...databaseSecretStatements(database.secretArn, database.secretKmsKeyArn, `secretsmanager.${d.region}.${d.dnsSuffix}`),
        ...storedDefinitionStatements(bucketArn, keyPrefix),
        ...key,
        ...net,
      ]),
    ...(network.vpc ? { vpc: network.vpc } : {}),
    // A load is one transaction: a failed attempt left nothing, and the same run id again is a no-op once loaded.
    schedule: { expression: database.scheduleExpression, enabled: database.scheduleEnabled, input: {} },
    alertTopicArn,
    ...(database.reservedConcurrency !== undefined ? { reservedConcurrency: database.reservedConcurrency } : {}),
  });
}

/** Where Lambda's Node.js runtimes keep the Amazon RDS CA certificates, which Node 20 and later load only when NODE_EXTRA_CA_CERTS names them. */
export const RDS_CA_BUNDLE = "/var/runtime/ca-cert.pem";

/** A function as the dashboard watches it: its names as CloudWatch's metrics carry them, and its run metrics. */
function watched(fn: GeneratorFunction, service: string, runMetrics: readonly RunMetric[]): pulumi.Output<WatchedFunction> {
  return pulumi
    .all([fn.function.name, fn.deadLetterQueue.name, fn.logGroup.name])
    .apply(([functionName, deadLetterQueueName, logGroupName]) => ({ service, functionName, deadLetterQueueName, logGroupName, runMetrics }));
}

/** Declares every resource of the stack from its config; returns the stack outputs. */
export function createStack(config: StackConfig) {
  const alerts = new AlertTopic("alerts", { alertEmail: config.alertEmail });
  // The key of the functions' logs and dead-letter queues, when asked for.
  const opsKey =
    config.opsKmsKey && "create" in config.opsKmsKey
      ? new aws.kms.Key("ops-key", {
          description: "synthgen function logs and dead-letter queues",
          enableKeyRotation: true,
          deletionWindowInDays: 7,
          policy: deployment().apply((d) => JSON.stringify(opsKeyPolicy(d))),
        })
      : undefined;
  const opsKeyArn = opsKey ? opsKey.arn : config.opsKmsKey && "arn" in config.opsKmsKey ? pulumi.output(config.opsKmsKey.arn) : undefined;
  const common: Common = {
    architecture: config.architecture,
    tracing: config.tracing,
    logRetentionDays: config.logRetentionDays,
    ...(config.lambdaInsightsLayerArn ? { insightsLayerArn: config.lambdaInsightsLayerArn } : {}),
    ...(opsKeyArn ? { opsKey: { arn: opsKeyArn, sqsViaService: deployment().apply((d) => `sqs.${d.region}.${d.dnsSuffix}`) } } : {}),
  };

  const data = new DataBucket("data", {
    existingBucketName: config.inputBucketName,
    keyPrefix: config.keyPrefix,
    expireAfterDays: config.expireAfterDays,
    forceDestroy: config.forceDestroy,
    ...(config.bucketKmsKey ? { kmsKey: config.bucketKmsKey } : {}),
  });

  const generateFiles = new GeneratorFunction("generate-files", {
    code: bundleArchive({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" }),
    handler: "functions/generate-files.handler",
    memoryMb: config.memoryMb,
    ephemeralStorageMb: config.ephemeralStorageMb,
    timeoutSeconds: config.timeoutSeconds,
    ...common,
    environment: {
      BUCKET_NAME: data.bucketName,
      KEY_PREFIX: config.keyPrefix,
      DEFAULT_FILE_COUNT: String(config.filesPerInvocation),
      DEFAULT_TARGET_SIZE_MB: String(config.targetFileSizeMb),
      ...(config.fileFormat !== "ndjson" ? { DEFAULT_FORMAT: config.fileFormat } : {}),
      ...(config.parquetCodec !== "snappy" ? { DEFAULT_PARQUET_CODEC: config.parquetCodec } : {}),
      FAN_OUT_CONCURRENCY: String(config.fanOutConcurrency),
      ...(config.verifyOutput ? { VERIFY_OUTPUT_URI: config.verifyOutput.uri } : {}),
      ...MALLOC_ENV,
    },
    sinkStatements: pulumi.all([data.bucketArn, bucketKeyStatements(data), deployment()]).apply(([arn, key, d]) => [
      bucketWriteStatement(arn, config.keyPrefix),
      ...bucketFanOutStatements(arn, config.keyPrefix),
      ...key,
      // The verify state machine's slices read the pipeline's output: that prefix (and its key), nothing else of its bucket.
      ...(config.verifyOutput
        ? verifyOutputStatements({
            bucketArn: `arn:${d.partition}:s3:::${config.verifyOutput.bucket}`,
            prefix: config.verifyOutput.prefix,
            kmsKeyArn: config.verifyOutput.kmsKeyArn,
            viaService: `s3.${d.region}.${d.dnsSuffix}`,
          })
        : []),
    ]),
    schedule: {
      expression: config.scheduleExpression,
      enabled: config.scheduleEnabled,
      input: { file_count: config.filesPerInvocation, target_size_mb: config.targetFileSizeMb },
    },
    alertTopicArn: alerts.topic.arn,
    ...(config.reservedConcurrency !== undefined ? { reservedConcurrency: config.reservedConcurrency } : {}),
  });

  const fanOut = new FanOut("fan-out", { functionArn: generateFiles.function.arn, maxConcurrency: config.fanOutConcurrency });
  const bigRun = JSON.stringify({ file_count: 10_000, target_size_mb: config.targetFileSizeMb, run_id: "loadtest-001" });
  const verify = config.verifyOutput ? new FanOut("verify", { functionArn: generateFiles.function.arn, maxConcurrency: config.fanOutConcurrency, definition: verifyFanOutDefinition }) : undefined;
  const verifyRun = JSON.stringify({ run: { file_count: 10_000, target_size_mb: config.targetFileSizeMb, run_id: "loadtest-001" }, output: config.verifyOutput?.uri });

  const emit = config.emit ? emitEventsFunction(config.emit, common, alerts.topic.arn, data, config.keyPrefix, config.vpc) : undefined;
  const emitFanOut = emit && config.emit ? new FanOut("emit-fan-out", { functionArn: emit.invokeArn, maxConcurrency: config.emit.fanOutConcurrency, definition: emitFanOutDefinition }) : undefined;
  const bigEmit = JSON.stringify({ shape: "constant:100000/30m", stream_count: 1000, run_id: "emit-loadtest-001" });
  const index = config.index ? indexDocumentsFunction(config.index, common, alerts.topic.arn, config.vpc) : undefined;
  const loadDatabase = config.database ? loadDatabaseFunction(config.database, common, alerts.topic.arn, data, config.keyPrefix, config.vpc) : undefined;
  const dashboard = new RunDashboard("runs", {
    functions: [
      watched(generateFiles, "generate-files", FILE_RUN_METRICS),
      ...(emit ? [watched(emit, "emit-events", EMIT_RUN_METRICS)] : []),
      ...(index ? [watched(index.fn, "index-documents", [])] : []),
      ...(loadDatabase ? [watched(loadDatabase, "load-database", [])] : []),
    ],
    machines: [
      fanOut.stateMachine.arn.apply((arn) => ({ label: "fan-out", arn })),
      ...(emitFanOut ? [emitFanOut.stateMachine.arn.apply((arn) => ({ label: "emit fan-out", arn }))] : []),
      ...(verify ? [verify.stateMachine.arn.apply((arn) => ({ label: "verify", arn }))] : []),
    ],
  });

  return {
    functionName: generateFiles.function.name,
    functionArn: generateFiles.function.arn,
    bucketName: data.bucketName,
    ...(data.kmsKeyArn ? { bucketKmsKeyArn: data.kmsKeyArn } : {}),
    alertTopicArn: alerts.topic.arn,
    dashboardUrl: dashboard.url,
    ...(opsKeyArn ? { opsKmsKeyArn: opsKeyArn } : {}),
    deadLetterQueueUrl: generateFiles.deadLetterQueue.url,
    invokeCommand: invokeCommand(generateFiles, { file_count: config.filesPerInvocation, target_size_mb: config.targetFileSizeMb }),
    fanOutStateMachineArn: fanOut.stateMachine.arn,
    // Starting the same run_id again (under a new execution name) resumes a partly failed run.
    startFanOutCommand: pulumi.interpolate`aws stepfunctions start-execution --state-machine-arn ${fanOut.stateMachine.arn} --input '${bigRun}'`,
    ...(verify
      ? {
          verifyStateMachineArn: verify.stateMachine.arn,
          // Checks what the pipeline made of that run: the execution fails PipelineCheckFailed when it lost, added or changed records.
          startVerifyCommand: pulumi.interpolate`aws stepfunctions start-execution --state-machine-arn ${verify.stateMachine.arn} --input '${verifyRun}'`,
        }
      : {}),
    ...(emit
      ? {
          emitFunctionName: emit.function.name,
          emitScheduleRuleName: emit.scheduleRule.name,
          emitDeadLetterQueueUrl: emit.deadLetterQueue.url,
          emitInvokeCommand: invokeCommand(emit, {}),
          ...(emitFanOut
            ? {
                emitFanOutStateMachineArn: emitFanOut.stateMachine.arn,
                // The plan step refuses what the deployment or the target cannot carry, before anything is sent.
                startEmitFanOutCommand: pulumi.interpolate`aws stepfunctions start-execution --state-machine-arn ${emitFanOut.stateMachine.arn} --input '${bigEmit}'`,
              }
            : {}),
        }
      : {}),
    ...(index
      ? {
          indexFunctionName: index.fn.function.name,
          indexDeadLetterQueueUrl: index.fn.deadLetterQueue.url,
          indexInvokeCommand: invokeCommand(index.fn, {}),
          backfillInvokeCommand: invokeCommand(index.fn, { hours: 720 }),
          ...(index.secret ? { elasticsearchApiKeySecretArn: index.secret.arn } : {}),
        }
      : {}),
    ...(loadDatabase
      ? {
          loadDatabaseFunctionName: loadDatabase.function.name,
          loadDatabaseDeadLetterQueueUrl: loadDatabase.deadLetterQueue.url,
          loadDatabaseInvokeCommand: invokeCommand(loadDatabase, { scenario: "shop", create_tables: true, run_id: "seed-001" }),
        }
      : {}),
  };
}
