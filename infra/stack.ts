import * as pulumi from "@pulumi/pulumi";
import { AlertTopic } from "./alert-topic";
import { bundleArchive } from "./bundle";
import type { StackConfig } from "./config";
import { DataBucket } from "./data-bucket";
import { GeneratorFunction } from "./generator-function";
import { bucketWriteStatement } from "./policies";

/** Declares every resource of the stack from its config; returns the stack outputs. */
export function createStack(config: StackConfig) {
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

  const payload = JSON.stringify({ file_count: config.filesPerInvocation, target_size_mb: config.targetFileSizeMb });
  return {
    functionName: generateFiles.function.name,
    functionArn: generateFiles.function.arn,
    bucketName: data.bucketName,
    alertTopicArn: alerts.topic.arn,
    deadLetterQueueUrl: generateFiles.deadLetterQueue.url,
    invokeCommand: pulumi.interpolate`aws lambda invoke --function-name ${generateFiles.function.name} --cli-binary-format raw-in-base64-out --payload '${payload}' response.json && cat response.json`,
  };
}
