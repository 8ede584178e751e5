import * as pulumi from "@pulumi/pulumi";
import { AlertTopic } from "./infra/alert-topic";
import { bundleArchive } from "./infra/bundle";
import { readStackConfig } from "./infra/config";
import { DataBucket } from "./infra/data-bucket";
import { GeneratorFunction } from "./infra/generator-function";
import { bucketWriteStatement } from "./infra/policies";

const config = readStackConfig(new pulumi.Config());

const alerts = new AlertTopic("alerts", { alertEmail: config.alertEmail });

const data = new DataBucket("data", {
  existingBucketName: config.inputBucketName,
  keyPrefix: config.keyPrefix,
  expireAfterDays: config.expireAfterDays,
});

const generateFiles = new GeneratorFunction("generate-files", {
  code: bundleArchive({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" }),
  handler: "functions/generate-files.handler",
  memoryMb: config.memoryMb,
  timeoutSeconds: config.timeoutSeconds,
  architecture: config.architecture,
  tracing: config.tracing,
  logRetentionDays: config.logRetentionDays,
  environment: {
    BUCKET_NAME: data.bucketName,
    KEY_PREFIX: config.keyPrefix,
    DEFAULT_FILE_COUNT: String(config.filesPerInvocation),
    DEFAULT_TARGET_SIZE_MB: String(config.targetFileSizeMb),
  },
  sinkStatements: data.bucketArn.apply((arn) => [bucketWriteStatement(arn, config.keyPrefix)]),
  schedule: {
    expression: config.scheduleExpression,
    enabled: config.scheduleEnabled,
    input: { file_count: config.filesPerInvocation, target_size_mb: config.targetFileSizeMb },
  },
  alertTopicArn: alerts.topic.arn,
});

export const functionName = generateFiles.function.name;
export const functionArn = generateFiles.function.arn;
export const bucketName = data.bucketName;
export const alertTopicArn = alerts.topic.arn;
export const deadLetterQueueUrl = generateFiles.deadLetterQueue.url;
export const invokeCommand = pulumi.interpolate`aws lambda invoke --function-name ${generateFiles.function.name} --cli-binary-format raw-in-base64-out --payload '{"file_count": ${config.filesPerInvocation}, "target_size_mb": ${config.targetFileSizeMb}}' response.json && cat response.json`;
