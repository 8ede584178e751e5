import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, ofType, promiseOf, resetResources, settle, single, type MockResource } from "./support/pulumi-mocks";
import { loadProgram, type LoadedProgram } from "./support/program";
import { simulate, simulateServiceAccess } from "./support/iam";
import type { ConfigSource } from "../infra/config";

// Mocks first, then config, and only then the program: index.ts reads config at import time
// (loadProgram does the three in that order for each stack config).
installMocks();
pulumi.runtime.setAllConfig({});

import { readStackConfig } from "../infra/config";
import { createStack } from "../infra/stack";

const FUNCTION = "aws:lambda/function:Function";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const BUCKET = "aws:s3/bucket:Bucket";

/** A config source over plain values, as `pulumi config set` would store them. */
function source(values: Record<string, string>): ConfigSource {
  return {
    get: (k) => values[k],
    getNumber: (k) => (values[k] === undefined ? undefined : Number(values[k])),
    getBoolean: (k) => (values[k] === undefined ? undefined : values[k] === "true"),
    getSecret: (k) => (values[k] === undefined ? undefined : pulumi.secret(values[k] as string)),
  };
}

async function stackWith(values: Record<string, string>) {
  resetResources();
  const outputs = createStack(readStackConfig(source(values)));
  await promiseOf(outputs.invokeCommand);
  await settle();
  return outputs;
}

/** The generate-files function's inline policy (other components have their own). */
const generatorPolicy = () => ofType(ROLE_POLICY).find((p) => p.name === "generate-files-policy")!;

type Statement = { Sid?: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown };
function statements(policy: MockResource): Statement[] {
  return (JSON.parse(policy.inputs.policy as string) as { Statement: Statement[] }).Statement;
}
const asList = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe("the stack with default config (index.ts)", () => {
  let program: LoadedProgram;

  before(async () => {
    program = await loadProgram({});
  });

  it("creates an encrypted, private bucket that aborts incomplete multipart uploads after a day, expires nothing, and that pulumi destroy can delete with its data", () => {
    assert.equal(single("aws:s3/bucket:Bucket").inputs.forceDestroy, true);
    const sse = single("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    assert.equal(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
    const pab = single("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    assert.deepEqual([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets], [true, true, true, true]);
    const rules = single("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as Record<string, any>[];
    assert.deepEqual(
      rules.map((r) => r.id),
      ["abort-incomplete-multipart-uploads"],
    );
    assert.equal(rules[0]!.abortIncompleteMultipartUpload.daysAfterInitiation, 1);
  });

  it("deploys the bundled function on Node.js 22, arm64, 512 MB, 300 s", () => {
    const fn = single(FUNCTION).inputs;
    assert.equal(fn.runtime, "nodejs22.x");
    assert.deepEqual(fn.architectures, ["arm64"]);
    assert.equal(fn.memorySize, 512);
    assert.deepEqual(fn.ephemeralStorage, { size: 512 });
    assert.equal(fn.timeout, 300);
    assert.equal(fn.handler, "functions/generate-files.handler");
    assert.equal(fn.tracingConfig.mode, "PassThrough");
    assert.deepEqual(fn.environment.variables, {
      BUCKET_NAME: "data-bucket-abc123",
      KEY_PREFIX: "",
      DEFAULT_FILE_COUNT: "10",
      DEFAULT_TARGET_SIZE_MB: "3.5",
      FAN_OUT_CONCURRENCY: "50",
      // A fixed glibc mmap threshold: freed encoder buffers go back to the system (src/files/pool.ts).
      MALLOC_MMAP_THRESHOLD_: "131072",
    });
    // The mock engine does not carry archive contents; test/bundle.spec.ts runs the archive's files.
    assert.equal((fn.code as { __pulumiArchive?: boolean }).__pulumiArchive, true);
  });

  it("keeps logs 7 days in the function's own log group", () => {
    const group = single("aws:cloudwatch/logGroup:LogGroup");
    assert.equal(group.inputs.retentionInDays, 7);
    assert.equal(single(FUNCTION).inputs.loggingConfig.logGroup, `${group.inputs.namePrefix}abc123`);
  });

  it("grants only put/abort-multipart and read-back under the key prefix, its own logs and its own DLQ: no * action", () => {
    const st = statements(generatorPolicy());
    const byId = Object.fromEntries(st.map((s) => [s.Sid, s]));
    assert.deepEqual(byId.WriteGeneratedObjects!.Action, ["s3:PutObject", "s3:AbortMultipartUpload"]);
    assert.equal(byId.WriteGeneratedObjects!.Resource, "arn:aws:s3:::data-bucket-abc123/*");
    assert.equal(byId.OwnLogGroup!.Resource, `arn:aws:logs:us-east-1:123456789012:/aws/lambda/generate-files-abc123:*`);
    assert.deepEqual(byId.OwnDeadLetterQueue!.Resource, "arn:aws:sqs:us-east-1:123456789012:generate-files-dlq-abc123");
    assert.equal(byId.XRay, undefined);
    assert.deepEqual([byId.ReadGeneratedObjects!.Action, byId.ReadGeneratedObjects!.Resource], ["s3:GetObject", "arn:aws:s3:::data-bucket-abc123/*"]);
    assert.deepEqual(
      [byId.ReplaceFailedManifests!.Action, byId.ReplaceFailedManifests!.Resource],
      ["s3:DeleteObject", ["arn:aws:s3:::data-bucket-abc123/_manifests/*.failed.json", "arn:aws:s3:::data-bucket-abc123/*/_manifests/*.failed.json"]],
    );
    assert.deepEqual(
      [byId.ListUnderKeyPrefix!.Action, byId.ListUnderKeyPrefix!.Resource, byId.ListUnderKeyPrefix!.Condition],
      ["s3:ListBucket", "arn:aws:s3:::data-bucket-abc123", { StringLike: { "s3:prefix": "*" } }],
    );
    for (const s of st) {
      for (const action of asList(s.Action)) assert.ok(!action.includes("*"), `action ${action}`);
      for (const resource of asList(s.Resource)) assert.notEqual(resource, "*");
    }
  });

  it("sends failed async invocations to a DLQ kept 14 days after 2 retries", () => {
    const queue = single("aws:sqs/queue:Queue");
    assert.equal(queue.inputs.messageRetentionSeconds, 14 * 24 * 3600);
    const invoke = single("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs;
    assert.equal(invoke.maximumRetryAttempts, 2);
    assert.equal(invoke.destinationConfig.onFailure.destination, "arn:aws:sqs:us-east-1:123456789012:generate-files-dlq-abc123");
  });

  it("schedules the original hourly 10 × 3.5 MB run, disabled, with the event's id and time as run identity", () => {
    const rule = single("aws:cloudwatch/eventRule:EventRule").inputs;
    assert.equal(rule.scheduleExpression, "rate(1 hour)");
    assert.equal(rule.state, "DISABLED");
    const target = single("aws:cloudwatch/eventTarget:EventTarget").inputs;
    assert.deepEqual(target.inputTransformer.inputPaths, { id: "$.id", time: "$.time" });
    assert.deepEqual(JSON.parse(target.inputTransformer.inputTemplate), { file_count: 10, target_size_mb: 3.5, run_id: "<id>", time: "<time>" });
    assert.equal(target.deadLetterConfig.arn, "arn:aws:sqs:us-east-1:123456789012:generate-files-dlq-abc123");
    assert.ok(target.retryPolicy.maximumRetryAttempts > 0);
    const permission = single("aws:lambda/permission:Permission").inputs;
    assert.equal(permission.principal, "events.amazonaws.com");
    assert.equal(permission.sourceArn, "arn:aws:events:us-east-1:123456789012:generate-files-schedule-abc123");
  });

  it("alarms on errors > 5, any throttle, duration > 80% of the timeout and any DLQ message, all to the alert topic", () => {
    const alarms = Object.fromEntries(ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.inputs.metricName, a.inputs]));
    assert.deepEqual(Object.keys(alarms).sort(), ["ApproximateNumberOfMessagesVisible", "Duration", "Errors", "Throttles"]);
    assert.deepEqual([alarms.Errors.threshold, alarms.Errors.comparisonOperator, alarms.Errors.period], [5, "GreaterThanThreshold", 300]);
    assert.deepEqual([alarms.Throttles.threshold, alarms.Throttles.comparisonOperator], [1, "GreaterThanOrEqualToThreshold"]);
    assert.deepEqual([alarms.Duration.threshold, alarms.Duration.statistic], [240_000, "Maximum"]);
    assert.deepEqual([alarms.ApproximateNumberOfMessagesVisible.threshold, alarms.ApproximateNumberOfMessagesVisible.dimensions], [0, { QueueName: "generate-files-dlq-abc123" }]);
    const topicArn = "arn:aws:sns:us-east-1:123456789012:alerts-topic-abc123";
    for (const alarm of Object.values(alarms) as { alarmActions: string[] }[]) assert.deepEqual(alarm.alarmActions, [topicArn]);
    assert.equal(ofType("aws:sns/topicSubscription:TopicSubscription").length, 0);
  });

  it("exports the function, bucket, topic, DLQ and a ready invoke command", async () => {
    assert.equal(program.outputs.functionName, "generate-files-function-abc123");
    assert.equal(program.outputs.bucketName, "data-bucket-abc123");
    assert.match(program.outputs.alertTopicArn as string, /^arn:aws:sns:/);
    assert.match(program.outputs.deadLetterQueueUrl as string, /^https:\/\/sqs\./);
    assert.equal(
      program.outputs.invokeCommand,
      `aws lambda invoke --function-name generate-files-function-abc123 --cli-binary-format raw-in-base64-out --payload '{"file_count":10,"target_size_mb":3.5}' response.json && cat response.json`,
    );
  });
});

describe("stack config: each key changes what it should", () => {
  it("memoryMb, timeoutSeconds, architecture, tracing and ephemeralStorageMb shape the function (and the duration alarm)", async () => {
    await stackWith({ memoryMb: "3538", timeoutSeconds: "600", architecture: "x86_64", tracing: "true", ephemeralStorageMb: "4096" });
    const fn = single(FUNCTION).inputs;
    assert.deepEqual([fn.memorySize, fn.timeout, fn.architectures, fn.tracingConfig.mode, fn.ephemeralStorage], [3538, 600, ["x86_64"], "Active", { size: 4096 }]);
    const duration = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.inputs.metricName === "Duration")!;
    assert.equal(duration.inputs.threshold, 480_000);
    const xray = statements(generatorPolicy()).find((s) => s.Sid === "XRay")!;
    assert.deepEqual(xray.Action, ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]);
  });

  it("filesPerInvocation and targetFileSizeMb set the defaults and the schedule's payload", async () => {
    const outputs = await stackWith({ filesPerInvocation: "100", targetFileSizeMb: "5" });
    const env = single(FUNCTION).inputs.environment.variables;
    assert.deepEqual([env.DEFAULT_FILE_COUNT, env.DEFAULT_TARGET_SIZE_MB], ["100", "5"]);
    const template = JSON.parse(single("aws:cloudwatch/eventTarget:EventTarget").inputs.inputTransformer.inputTemplate);
    assert.deepEqual([template.file_count, template.target_size_mb], [100, 5]);
    assert.match(await promiseOf(outputs.invokeCommand), /'\{"file_count":100,"target_size_mb":5\}'/);
  });

  it("scheduleExpression and scheduleEnabled set the rule", async () => {
    await stackWith({ scheduleExpression: "cron(0 6 * * ? *)", scheduleEnabled: "true" });
    const rule = single("aws:cloudwatch/eventRule:EventRule").inputs;
    assert.deepEqual([rule.scheduleExpression, rule.state], ["cron(0 6 * * ? *)", "ENABLED"]);
  });

  it("fileFormat sets the function's default format (ndjson, the default, adds nothing)", async () => {
    await stackWith({ fileFormat: "parquet" });
    assert.equal(single(FUNCTION).inputs.environment.variables.DEFAULT_FORMAT, "parquet");
  });

  it("parquetCodec sets the codec of Parquet files whose event names none (snappy, the default, adds nothing); the function reads it", async () => {
    await stackWith({ fileFormat: "parquet", parquetCodec: "gzip" });
    const vars = { ...single(FUNCTION).inputs.environment.variables } as Record<string, string>;
    assert.equal(vars.DEFAULT_PARQUET_CODEC, "gzip");
    const { readEnvironment } = await import("../functions/environment");
    const { parseGenerateRequest } = await import("../src/files/request");
    const env = readEnvironment(vars);
    const defaults = { fileCount: 1, targetSizeMb: 1, format: env.defaultFormat, ...(env.defaultParquetCodec ? { parquetCodec: env.defaultParquetCodec } : {}) };
    assert.equal(parseGenerateRequest({}, defaults, { now: new Date() }).parquetCodec, "gzip");
    assert.equal(parseGenerateRequest({ parquet_codec: "uncompressed" }, defaults, { now: new Date() }).parquetCodec, "uncompressed", "the event's own codec wins");
    assert.equal(parseGenerateRequest({ format: "csv" }, defaults, { now: new Date() }).parquetCodec, undefined, "no codec for other formats");
    await stackWith({ fileFormat: "parquet" });
    assert.equal(single(FUNCTION).inputs.environment.variables.DEFAULT_PARQUET_CODEC, undefined);
    assert.throws(() => readStackConfig(source({ parquetCodec: "lz4" })), /config parquetCodec must be one of snappy, gzip, zstd, uncompressed \(got "lz4"\)/);
    // zstd is for the function, on nodejs22.x: accepted by the stack whatever Node runs Pulumi.
    await stackWith({ fileFormat: "parquet", parquetCodec: "zstd" });
    assert.equal(single(FUNCTION).inputs.environment.variables.DEFAULT_PARQUET_CODEC, "zstd");
  });

  it("logRetentionDays sets the log group's retention", async () => {
    await stackWith({ logRetentionDays: "30" });
    assert.equal(single("aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays, 30);
  });

  it("keyPrefix scopes the write policy and the environment; expireAfterDays expires objects under it", async () => {
    await stackWith({ keyPrefix: "incoming", expireAfterDays: "5" });
    assert.equal(single(FUNCTION).inputs.environment.variables.KEY_PREFIX, "incoming/");
    const write = statements(generatorPolicy()).find((s) => s.Sid === "WriteGeneratedObjects")!;
    assert.equal(write.Resource, "arn:aws:s3:::data-bucket-abc123/incoming/*");
    const rules = single("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as Record<string, any>[];
    const expire = rules.find((r) => r.id === "expire-generated-objects")!;
    assert.deepEqual([expire.filter.prefix, expire.expiration.days], ["incoming/", 5]);
  });

  it("inputBucketName writes into an existing bucket: no bucket is created and the policy names that bucket", async () => {
    await stackWith({ inputBucketName: "ndjson-input-804450520964", keyPrefix: "raw/" });
    assert.equal(ofType("aws:s3/bucket:Bucket").length, 0);
    assert.equal(single(FUNCTION).inputs.environment.variables.BUCKET_NAME, "ndjson-input-804450520964");
    const write = statements(generatorPolicy()).find((s) => s.Sid === "WriteGeneratedObjects")!;
    assert.equal(write.Resource, "arn:aws:s3:::ndjson-input-804450520964/raw/*");
  });

  it("forceDestroy false keeps pulumi destroy from deleting a bucket that holds objects", async () => {
    await stackWith({ forceDestroy: "false" });
    assert.equal(single("aws:s3/bucket:Bucket").inputs.forceDestroy, false);
  });

  it("alertEmail subscribes that address to the alert topic", async () => {
    await stackWith({ alertEmail: "oncall@example.com" });
    const sub = single("aws:sns/topicSubscription:TopicSubscription").inputs;
    assert.deepEqual([sub.protocol, sub.endpoint], ["email", "oncall@example.com"]);
  });

  it("reservedConcurrency, emitReservedConcurrency and indexReservedConcurrency reserve each function's concurrency (unset reserves none)", async () => {
    await stackWith({});
    assert.equal(ofType(FUNCTION)[0]!.inputs.reservedConcurrentExecutions, undefined);
    await stackWith({ reservedConcurrency: "80", fanOutConcurrency: "80", kinesisStreamName: "s", emitReservedConcurrency: "60", elasticsearchNode: "https://es:9200", indexReservedConcurrency: "2" });
    const reserved = Object.fromEntries(ofType(FUNCTION).map((f) => [f.name, f.inputs.reservedConcurrentExecutions]));
    assert.deepEqual(reserved, { "generate-files-function": 80, "emit-events-function": 60, "index-documents-function": 2 });
  });

  it("emitProvisionedConcurrency keeps emit-events warm on a published version behind the alias live, which the schedule, the emit state machine and the invoke command use", async () => {
    const outputs = await stackWith({ ingestApiUrl: "https://api.example/ingest", emitProvisionedConcurrency: "10", emitReservedConcurrency: "50" });
    const emit = ofType(FUNCTION).find((f) => f.name === "emit-events-function")!;
    assert.equal(emit.inputs.publish, true);
    assert.equal(ofType(FUNCTION).find((f) => f.name === "generate-files-function")!.inputs.publish, undefined, "generate-files is not published");
    const alias = single("aws:lambda/alias:Alias").inputs;
    assert.deepEqual([alias.name, alias.functionVersion], ["live", "1"]);
    const warm = single("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig").inputs;
    assert.deepEqual([warm.qualifier, warm.provisionedConcurrentExecutions], ["live", 10]);
    const aliasArn = `arn:aws:lambda:us-east-1:123456789012:function:${alias.functionName}:live`;
    const target = ofType("aws:cloudwatch/eventTarget:EventTarget").find((t) => t.name === "emit-events-schedule-target")!;
    assert.equal(target.inputs.arn, aliasArn);
    const permission = ofType("aws:lambda/permission:Permission").find((p) => p.name === "emit-events-schedule-invoke")!;
    assert.equal(permission.inputs.qualifier, "live");
    assert.equal(ofType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").find((c) => c.name === "emit-events-async")!.inputs.qualifier, "live");
    const machine = ofType("aws:sfn/stateMachine:StateMachine").find((m) => m.name === "emit-fan-out-machine")!;
    assert.equal(JSON.parse(machine.inputs.definition as string).States.Plan.Parameters.FunctionName, aliasArn);
    const machinePolicy = statements(ofType(ROLE_POLICY).find((p) => p.name === "emit-fan-out-policy")!);
    assert.deepEqual(machinePolicy.find((st) => st.Sid === "InvokeGenerator")!.Resource, [aliasArn, `${aliasArn}:*`]);
    assert.match(await promiseOf(outputs.emitInvokeCommand as pulumi.Output<string>), / --qualifier live /);
  });

  it("vpcSubnetIds and vpcSecurityGroupIds put emit-events and index-documents in the VPC, with only the network-interface permissions Lambda needs (IAM policy simulator)", async () => {
    await stackWith({ ingestApiUrl: "https://api.internal/ingest", elasticsearchNode: "https://es.internal:9200" });
    assert.ok(ofType(FUNCTION).every((f) => f.inputs.vpcConfig === undefined));
    assert.ok(
      ofType(ROLE_POLICY).every((p) => !p.inputs.policy.includes("ec2:")),
      "no VPC, no EC2 permission",
    );
    const subnets = ["subnet-0a1b2c3d4e5f67890", "subnet-0fedcba9876543210"];
    const groups = ["sg-0123456789abcdef0"];
    await stackWith({ ingestApiUrl: "https://api.internal/ingest", elasticsearchNode: "https://es.internal:9200", vpcSubnetIds: subnets.join(", "), vpcSecurityGroupIds: groups.join(",") });
    const byName = Object.fromEntries(ofType(FUNCTION).map((f) => [f.name, f.inputs.vpcConfig]));
    assert.deepEqual(byName["emit-events-function"], { subnetIds: subnets, securityGroupIds: groups });
    assert.deepEqual(byName["index-documents-function"], { subnetIds: subnets, securityGroupIds: groups });
    assert.equal(byName["generate-files-function"], undefined, "generate-files reaches only S3 and stays out of the VPC");
    const ec2 = "arn:aws:ec2:us-east-1:123456789012";
    for (const component of ["emit-events", "index-documents"]) {
      const policy = JSON.parse(ofType(ROLE_POLICY).find((p) => p.name === `${component}-policy`)!.inputs.policy as string);
      const may = (action: string, resource: string) => simulate(policy, action, resource);
      assert.equal(await may("ec2:CreateNetworkInterface", `${ec2}:subnet/${subnets[1]}`), true, `${component}: an interface in its subnet`);
      assert.equal(await may("ec2:CreateNetworkInterface", `${ec2}:security-group/${groups[0]}`), true);
      assert.equal(await may("ec2:CreateNetworkInterface", `${ec2}:network-interface/eni-0123456789abcdef0`), true);
      assert.equal(await may("ec2:CreateNetworkInterface", `${ec2}:subnet/subnet-00000000000000000`), false, `${component}: not in another subnet`);
      assert.equal(await may("ec2:CreateNetworkInterface", `${ec2}:security-group/sg-00000000000000000`), false, `${component}: not with another security group`);
      assert.equal(await may("ec2:DeleteNetworkInterface", `${ec2}:network-interface/eni-0123456789abcdef0`), true);
      assert.equal(await may("ec2:DeleteNetworkInterface", "arn:aws:ec2:us-east-1:999999999999:network-interface/eni-0123456789abcdef0"), false, `${component}: not another account's`);
      assert.equal(await may("ec2:DescribeNetworkInterfaces", "*"), true);
      assert.equal(await may("ec2:RunInstances", `${ec2}:instance/*`), false);
      assert.equal(await may("ec2:ModifyNetworkInterfaceAttribute", `${ec2}:network-interface/eni-0123456789abcdef0`), false);
    }
    assert.ok(!generatorPolicy().inputs.policy.includes("ec2:"));
  });

  it("lambdaInsightsLayerArn adds the Lambda Insights extension to every function and AWS's managed policy for it to every role (unset: neither)", async () => {
    await stackWith({ kinesisStreamName: "s" });
    assert.ok(ofType(FUNCTION).every((f) => f.inputs.layers === undefined));
    assert.equal(ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 0);
    const layer = "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension-Arm64:20";
    await stackWith({ kinesisStreamName: "s", lambdaInsightsLayerArn: layer });
    assert.deepEqual(
      ofType(FUNCTION).map((f) => f.inputs.layers),
      [[layer], [layer]],
    );
    const attached = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => [a.name, a.inputs.policyArn]);
    assert.deepEqual(attached.sort(), [
      ["emit-events-insights", "arn:aws:iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy"],
      ["generate-files-insights", "arn:aws:iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy"],
    ]);
  });

  it('opsKmsKey "create" encrypts every log group and DLQ with a rotated key that CloudWatch Logs and EventBridge may use for this account only, and each role through SQS only', async () => {
    const outputs = await stackWith({ kinesisStreamName: "s", opsKmsKey: "create" });
    const key = single("aws:kms/key:Key");
    assert.equal(key.inputs.enableKeyRotation, true);
    const keyArn = await promiseOf((outputs as unknown as { opsKmsKeyArn: pulumi.Output<string> }).opsKmsKeyArn);
    assert.match(keyArn, /^arn:aws:kms:us-east-1:123456789012:key\//);
    for (const g of ofType("aws:cloudwatch/logGroup:LogGroup")) assert.equal(g.inputs.kmsKeyId, keyArn, g.name);
    for (const q of ofType("aws:sqs/queue:Queue")) assert.deepEqual([q.inputs.kmsMasterKeyId, q.inputs.sqsManagedSseEnabled], [keyArn, undefined], q.name);
    const keyPolicy = JSON.parse(key.inputs.policy as string);
    const logsOf = (account: string) => ({ "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:us-east-1:${account}:log-group:/aws/lambda/generate-files-abc123` });
    assert.equal(await simulateServiceAccess(keyPolicy, "logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", keyArn, logsOf("123456789012")), true, "Logs, for this account's log group");
    assert.equal(await simulateServiceAccess(keyPolicy, "logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", keyArn, logsOf("999999999999")), false, "not another account's");
    assert.equal(await simulateServiceAccess(keyPolicy, "logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", keyArn), false, "not without the log group's context");
    assert.equal(await simulateServiceAccess(keyPolicy, "logs.us-east-1.amazonaws.com", "kms:ScheduleKeyDeletion", keyArn, logsOf("123456789012")), false);
    const rule = { "aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/generate-files-schedule-abc123", "aws:SourceAccount": "123456789012" };
    assert.equal(await simulateServiceAccess(keyPolicy, "events.amazonaws.com", "kms:GenerateDataKey", keyArn, rule), true, "EventBridge, for this account's rule");
    assert.equal(await simulateServiceAccess(keyPolicy, "events.amazonaws.com", "kms:GenerateDataKey", keyArn, { ...rule, "aws:SourceAccount": "999999999999" }), false);
    assert.equal(await simulateServiceAccess(keyPolicy, "sns.amazonaws.com", "kms:GenerateDataKey", keyArn, rule), false, "no other service");
    for (const component of ["generate-files", "emit-events"]) {
      const policy = JSON.parse(ofType(ROLE_POLICY).find((p) => p.name === `${component}-policy`)!.inputs.policy as string);
      assert.equal(await simulate(policy, "kms:GenerateDataKey", keyArn, { "kms:ViaService": "sqs.us-east-1.amazonaws.com" }), true, `${component}: a DLQ message`);
      assert.equal(await simulate(policy, "kms:GenerateDataKey", keyArn, { "kms:ViaService": "s3.us-east-1.amazonaws.com" }), false, `${component}: not through S3`);
      assert.equal(await simulate(policy, "kms:Decrypt", keyArn, {}), false, `${component}: not directly`);
    }
    await stackWith({});
    assert.equal(ofType("aws:kms/key:Key").length, 0);
    assert.ok(ofType("aws:sqs/queue:Queue").every((q) => q.inputs.sqsManagedSseEnabled === true));
  });

  const invalid: [string, Record<string, string>, RegExp][] = [
    ["an ops key that is an alias", { opsKmsKey: "alias/ops" }, /config opsKmsKey must be "create" or a KMS key ARN/],
    [
      "the x86 Insights layer on arm64",
      { lambdaInsightsLayerArn: "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:53" },
      /is the x86_64 layer \(LambdaInsightsExtension\), but the functions run on arm64: use LambdaInsightsExtension-Arm64/,
    ],
    [
      "a layer that is not Lambda Insights",
      { lambdaInsightsLayerArn: "arn:aws:lambda:us-east-1:123456789012:layer:mine:1" },
      /config lambdaInsightsLayerArn must be a Lambda Insights extension layer version ARN/,
    ],
    ["subnets without security groups", { vpcSubnetIds: "subnet-0a1b2c3d4e5f67890" }, /config vpcSecurityGroupIds is required with vpcSubnetIds/],
    [
      "a subnet id that is not one",
      { vpcSubnetIds: "subnet-xyz", vpcSecurityGroupIds: "sg-0123456789abcdef0" },
      /config vpcSubnetIds must be a comma-separated list of ids such as subnet-0a1b2c3d4e5f67890 \(got "subnet-xyz"\)/,
    ],
    [
      "six security groups",
      { vpcSubnetIds: "subnet-0a1b2c3d4e5f67890", vpcSecurityGroupIds: [1, 2, 3, 4, 5, 6].map((i) => `sg-0000000000000000${i}`).join(",") },
      /lists 6; a Lambda function takes at most 5/,
    ],
    [
      "a fan-out wider than generate-files' reservation",
      { reservedConcurrency: "20", fanOutConcurrency: "50" },
      /config fanOutConcurrency 50 runs more invocations at once than reservedConcurrency 20 lets the function run/,
    ],
    [
      "an emit fan-out wider than emit-events' reservation",
      { kinesisStreamName: "s", emitReservedConcurrency: "10" },
      /config emitFanOutConcurrency 50 runs more invocations at once than emitReservedConcurrency 10/,
    ],
    ["a reservation of 0, which throttles every invocation", { reservedConcurrency: "0" }, /config reservedConcurrency 0 would throttle every invocation/],
    [
      "more warm emitters than reserved",
      { kinesisStreamName: "s", emitReservedConcurrency: "60", emitProvisionedConcurrency: "70" },
      /emitProvisionedConcurrency 70 is more than emitReservedConcurrency 60/,
    ],
    ["an unknown architecture", { architecture: "sparc" }, /config architecture must be one of arm64, x86_64 \(got "sparc"\)/],
    ["memory below Lambda's minimum", { memoryMb: "64" }, /config memoryMb must be a whole number from 128 to 10240 \(got 64\)/],
    ["ephemeral storage below Lambda's 512 MB", { ephemeralStorageMb: "256" }, /config ephemeralStorageMb must be a whole number from 512 to 10240 \(got 256\)/],
    ["a timeout over 15 minutes", { timeoutSeconds: "1200" }, /config timeoutSeconds must be a whole number from 1 to 900/],
    ["a retention CloudWatch does not offer", { logRetentionDays: "8" }, /config logRetentionDays must be one of 0, 1, 3, 5, 7, 14/],
    ["a malformed schedule", { scheduleExpression: "every hour" }, /config scheduleExpression must be rate\(N unit\) or cron/],
    ["a key prefix escaping upwards", { keyPrefix: "../x" }, /keyPrefix must be a relative S3 key prefix/],
    ["expiry on a bucket the stack does not own", { inputBucketName: "existing-bucket", expireAfterDays: "3" }, /expireAfterDays applies only to a bucket the stack creates/],
    ["files per invocation of 0", { filesPerInvocation: "0" }, /config filesPerInvocation must be a whole number from 1 to 10000/],
    ["a file format it cannot write", { fileFormat: "avro" }, /config fileFormat must be one of ndjson, ndjson\.gz, csv, csv\.gz, parquet \(got "avro"\)/],
    ["an emit shape it cannot read", { kinesisStreamName: "s", emitShape: "ramp:1-2/1m" }, /emitShape: a ramp is FROM\.\.TO\/DURATION/],
    ["an emit shape longer than the function may run", { kinesisStreamName: "s", emitShape: "constant:10/10m" }, /config emitShape lasts 600 s, longer than emit-events' timeout of 300 s/],
    ["arrivals it does not know", { kinesisStreamName: "s", emitArrivals: "bursty" }, /config emitArrivals must be one of paced, poisson \(got "bursty"\)/],
  ];
  for (const [what, values, message] of invalid) {
    it(`rejects ${what}, naming the key`, () => {
      resetResources();
      assert.throws(() => createStack(readStackConfig(source(values))), message);
    });
  }
});

describe("stack with emit-events and index-documents (seeds 002 and 001)", () => {
  const functionNamed = (prefix: string) => ofType(FUNCTION).find((f) => f.name === `${prefix}-function`)!;
  const policyOf = (prefix: string) => statements(ofType(ROLE_POLICY).find((p) => p.name === `${prefix}-policy`)!);

  it("creates neither function until a target is configured", async () => {
    const outputs = await stackWith({});
    assert.deepEqual(
      ofType(FUNCTION).map((f) => f.name),
      ["generate-files-function"],
    );
    assert.ok(!("emitFunctionName" in outputs) && !("indexFunctionName" in outputs));
  });

  it("emit-events to Kinesis: PutRecords (and ListShards, for the fan-out's plan) on that one stream only, every minute but disabled, no async retry, alarms", async () => {
    const outputs = await stackWith({ kinesisStreamName: "iops-dashboard-events", streamCount: "100", eventsPerRun: "20" });
    const fn = functionNamed("emit-events");
    assert.equal(fn.inputs.handler, "functions/emit-events.handler");
    const bucket = single(BUCKET).name;
    assert.deepEqual(
      { ...fn.inputs.environment.variables },
      {
        KINESIS_STREAM_NAME: "iops-dashboard-events",
        STREAM_COUNT: "100",
        EVENTS_PER_RUN: "20",
        EVENTS_PER_SECOND: "0",
        MAX_FAILED_RATIO: "0.01",
        BUCKET_NAME: `${bucket}-abc123`,
        KEY_PREFIX: "",
        EMIT_FAN_OUT_CONCURRENCY: "50",
      },
    );
    const sink = policyOf("emit-events").find((s) => s.Sid === "PutRecordsOnOneStream")!;
    assert.deepEqual([sink.Action, sink.Resource], [["kinesis:PutRecords", "kinesis:ListShards"], "arn:aws:kinesis:us-east-1:123456789012:stream/iops-dashboard-events"]);
    const rule = ofType("aws:cloudwatch/eventRule:EventRule").find((r) => r.name === "emit-events-schedule")!;
    assert.deepEqual([rule.inputs.scheduleExpression, rule.inputs.state], ["rate(1 minute)", "DISABLED"]);
    const asyncConfig = ofType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").find((c) => c.name === "emit-events-async")!;
    assert.equal(asyncConfig.inputs.maximumRetryAttempts, 0);
    assert.equal(ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.startsWith("emit-events-")).length, 4);
    assert.match(await promiseOf(outputs.emitInvokeCommand!), /aws lambda invoke --function-name emit-events-function-abc123/);
  });

  it("emitShape and emitArrivals give emit-events a default load shape (unset adds nothing)", async () => {
    await stackWith({ kinesisStreamName: "iops-dashboard-events", emitShape: "ramp:100..2000/4m", emitArrivals: "poisson" });
    const env = functionNamed("emit-events").inputs.environment.variables;
    assert.deepEqual([env.EMIT_SHAPE, env.EMIT_ARRIVALS], ["ramp:100..2000/4m", "poisson"]);
  });

  it("emitStreamSkew gives runs without stream_skew a hot stream; the function reads it, an event's own skew wins", async () => {
    await stackWith({ kinesisStreamName: "iops-dashboard-events", emitStreamSkew: "zipf:1.5" });
    const vars = functionNamed("emit-events").inputs.environment.variables as Record<string, string>;
    assert.equal(vars.EMIT_STREAM_SKEW, "zipf:1.5");
    const { readEmitEnvironment } = await import("../functions/environment");
    const { parseEmitRequest } = await import("../src/events/request");
    const { defaults } = readEmitEnvironment({ ...vars });
    const ctx = { now: new Date("2026-03-02T10:00:00Z") };
    const skewed = parseEmitRequest({ stream_count: 4, events_per_stream: 100 }, defaults, ctx);
    assert.deepEqual(skewed.streamSkew, { zipf: 1.5 });
    assert.ok(skewed.streamEvents![0]! > skewed.streamEvents![3]! * 5);
    assert.equal(parseEmitRequest({ stream_count: 4, events_per_stream: 100, stream_skew: "uniform" }, defaults, ctx).streamSkew, undefined);
    assert.throws(() => readStackConfig(source({ kinesisStreamName: "s", emitStreamSkew: "zipf:0" })), /emitStreamSkew must be uniform or \{ zipf: s \} \(zipf:S\) with s above 0/);
  });

  it("emit-events to an ingest URL needs no sink permission: its fan-out's summaries under {prefix}_emit/, and reading the stored datasets under {prefix}_datasets/, by the IAM policy simulator", async () => {
    await stackWith({ ingestApiUrl: "https://abc.execute-api.us-east-1.amazonaws.com/prod/ingest", keyPrefix: "landing" });
    const policy = policyOf("emit-events");
    assert.deepEqual(
      policy.map((s) => s.Sid),
      ["ListEmitRuns", "ReadWriteEmitRuns", "ListStoredDatasets", "ReadStoredDatasets", "OwnLogGroup", "OwnDeadLetterQueue"],
    );
    const bucketArn = `arn:aws:s3:::${single(BUCKET).name}-abc123`;
    // Stored datasets and scenarios are read; nothing else of the bucket is, and they are never written.
    const document = policyDocument("emit-events");
    const cases: [string, string, Record<string, string> | undefined, boolean][] = [
      ["s3:GetObject", `${bucketArn}/landing/_datasets/shop.yaml`, undefined, true],
      ["s3:ListBucket", bucketArn, { "s3:prefix": "landing/_datasets/" }, true],
      ["s3:GetObject", `${bucketArn}/landing/2025-12-23-test0000-120000.ndjson`, undefined, false],
      ["s3:GetObject", `${bucketArn}/landing/_manifests/run.json`, undefined, false],
      ["s3:GetObject", `${bucketArn}/other/_datasets/shop.yaml`, undefined, false],
      ["s3:PutObject", `${bucketArn}/landing/_datasets/shop.yaml`, undefined, false],
      ["s3:DeleteObject", `${bucketArn}/landing/_datasets/shop.yaml`, undefined, false],
      ["s3:ListBucket", bucketArn, { "s3:prefix": "landing/" }, false],
      ["s3:ListBucket", bucketArn, undefined, false],
    ];
    for (const [action, resource, context, allowed] of cases) {
      assert.equal(await simulate(document, action, resource, context), allowed, `${action} on ${resource} ${JSON.stringify(context ?? {})}`);
    }
    assert.deepEqual(policy.find((s) => s.Sid === "ReadWriteEmitRuns")!.Resource, `${bucketArn}/landing/_emit/*`);
    assert.deepEqual(policy.find((s) => s.Sid === "ListEmitRuns")!.Condition, { StringLike: { "s3:prefix": "landing/_emit/*" } });
    assert.equal(functionNamed("emit-events").inputs.environment.variables.INGEST_API_URL, "https://abc.execute-api.us-east-1.amazonaws.com/prod/ingest");
  });

  const policyDocument = (prefix: string) => JSON.parse(ofType(ROLE_POLICY).find((p) => p.name === `${prefix}-policy`)!.inputs.policy as string) as object;
  const targets: [string, Record<string, string>, string, [string, string, Record<string, string>?][], [string, string, Record<string, string>?][]][] = [
    [
      "Firehose",
      { firehoseStreamName: "landing-stream" },
      "FIREHOSE_STREAM_NAME",
      [["firehose:PutRecordBatch", "arn:aws:firehose:us-east-1:123456789012:deliverystream/landing-stream"]],
      [
        ["firehose:PutRecordBatch", "arn:aws:firehose:us-east-1:123456789012:deliverystream/other"],
        ["firehose:DeleteDeliveryStream", "arn:aws:firehose:us-east-1:123456789012:deliverystream/landing-stream"],
      ],
    ],
    [
      "SQS (the queue's own Region and account, from its URL)",
      { sqsQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo" },
      "SQS_QUEUE_URL",
      [["sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:orders.fifo"]],
      [
        ["sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:other"],
        ["sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:123456789012:orders.fifo"],
        ["sqs:PurgeQueue", "arn:aws:sqs:eu-west-1:123456789012:orders.fifo"],
      ],
    ],
    [
      "EventBridge (synthgen.* sources only)",
      { eventBusName: "loadtest" },
      "EVENT_BUS_NAME",
      [["events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/loadtest", { "events:source": "synthgen.tutoring-events" }]],
      [
        ["events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/loadtest", { "events:source": "aws.ec2" }],
        ["events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/loadtest"],
        ["events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default", { "events:source": "synthgen.tutoring-events" }],
        ["events:PutRule", "arn:aws:events:us-east-1:123456789012:rule/loadtest/x"],
      ],
    ],
  ];
  for (const [what, config, variable, allowed, denied] of targets) {
    it(`emit-events to ${what}: the one call on that one resource, by the IAM policy simulator`, async () => {
      await stackWith(config);
      assert.equal(functionNamed("emit-events").inputs.environment.variables[variable], Object.values(config)[0]);
      const policy = policyDocument("emit-events");
      for (const [action, resource, context] of allowed) assert.equal(await simulate(policy, action, resource, context), true, `${action} on ${resource} allowed`);
      for (const [action, resource, context] of denied) assert.equal(await simulate(policy, action, resource, context), false, `${action} on ${resource} ${JSON.stringify(context ?? {})} denied`);
    });
  }

  it("refuses two targets at once, naming them", () => {
    assert.throws(
      () => readStackConfig(source({ kinesisStreamName: "a", sqsQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q" })),
      /config kinesisStreamName and sqsQueueUrl are exclusive/,
    );
    assert.throws(() => readStackConfig(source({ sqsQueueUrl: "https://example.com/q" })), /config sqsQueueUrl must be a queue URL/);
  });

  it("index-documents: the API key only in a secret the function alone may read, hourly and enabled, alarms", async () => {
    const outputs = await stackWith({ elasticsearchNode: "https://es.example:443", elasticsearchApiKey: "top-secret-key" });
    const fn = functionNamed("index-documents");
    const env = { ...fn.inputs.environment.variables } as Record<string, string>;
    const secret = single("aws:secretsmanager/secret:Secret");
    const secretArn = `arn:aws:secretsmanager:us-east-1:123456789012:${secret.name}-abc123`;
    assert.equal(env.ELASTICSEARCH_API_KEY_SECRET_ARN, secretArn);
    assert.ok(!Object.values(env).includes("top-secret-key"), "the key is never an environment variable");
    // The mock engine shows a Pulumi secret as its wrapper: the value stays encrypted in the state.
    const stored = single("aws:secretsmanager/secretVersion:SecretVersion").inputs.secretString as { value: string; [sig: string]: string };
    assert.equal(stored.value, "top-secret-key");
    assert.equal(stored["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "marked secret");
    const read = policyOf("index-documents").find((s) => s.Sid === "ReadApiKeySecret")!;
    assert.deepEqual([read.Action, read.Resource], ["secretsmanager:GetSecretValue", secretArn]);
    assert.ok(!policyOf("generate-files").some((s) => asList(s.Action).some((a) => a.startsWith("secretsmanager:"))));
    const rule = ofType("aws:cloudwatch/eventRule:EventRule").find((r) => r.name === "index-documents-schedule")!;
    assert.deepEqual([rule.inputs.scheduleExpression, rule.inputs.state], ["rate(1 hour)", "ENABLED"]);
    assert.equal(ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.startsWith("index-documents-")).length, 4);
    assert.match(await promiseOf(outputs.backfillInvokeCommand!), /--payload '\{"hours":720\}'/);
    assert.deepEqual([env.ELASTICSEARCH_INDEX, env.METRICS_SEED], ["pp-merchantai", "1"]);
  });

  for (const [what, values, key] of [
    ["both emit targets", { ingestApiUrl: "https://a/b", kinesisStreamName: "s" }, "ingestApiUrl"],
    ["streamCount 0", { ingestApiUrl: "https://a/b", streamCount: "0" }, "streamCount"],
    ["a malformed ingest URL", { ingestApiUrl: "abc" }, "ingestApiUrl"],
    ["an index name with capitals", { elasticsearchNode: "https://es:9200", elasticsearchIndex: "Metrics" }, "elasticsearchIndex"],
  ] as const) {
    it(`rejects ${what}, naming the key`, () => {
      assert.throws(
        () => readStackConfig(source(values as Record<string, string>)),
        (err: Error & { field?: string }) => err.field === key,
      );
    });
  }
});

describe("stack with load-database (databaseUrl, databaseSecretArn, in the VPC)", () => {
  const functionNamed = (prefix: string) => ofType(FUNCTION).find((f) => f.name === `${prefix}-function`)!;
  const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0a1b2c3d-AbC123";
  const DATABASE = {
    databaseUrl: "postgres://shop.cluster-abc.us-east-1.rds.amazonaws.com:5432/shop",
    databaseSecretArn: SECRET,
    vpcSubnetIds: "subnet-0a1b2c3d4e5f67890",
    vpcSecurityGroupIds: "sg-0123456789abcdef0",
  };

  it("creates no load-database until a database is configured", async () => {
    await stackWith({});
    assert.equal(functionNamed("load-database"), undefined);
  });

  it("load-database: in the VPC, the database's URL and the secret's ARN (never its value), TLS verified against Lambda's RDS CAs, a disabled daily schedule, alarms", async () => {
    const outputs = await stackWith({ ...DATABASE, keyPrefix: "landing/" });
    const fn = functionNamed("load-database");
    assert.deepEqual(fn.inputs.vpcConfig, { subnetIds: ["subnet-0a1b2c3d4e5f67890"], securityGroupIds: ["sg-0123456789abcdef0"] });
    assert.equal(fn.inputs.handler, "functions/load-database.handler");
    const env = { ...fn.inputs.environment.variables } as Record<string, string>;
    assert.deepEqual(
      { url: env.DATABASE_URL, secret: env.DATABASE_SECRET_ARN, prefix: env.KEY_PREFIX, ca: env.NODE_EXTRA_CA_CERTS },
      { url: DATABASE.databaseUrl, secret: SECRET, prefix: "landing/", ca: "/var/runtime/ca-cert.pem" },
    );
    const rule = ofType("aws:cloudwatch/eventRule:EventRule").find((r) => r.name === "load-database-schedule")!;
    assert.deepEqual([rule.inputs.scheduleExpression, rule.inputs.state], ["rate(1 day)", "DISABLED"]);
    assert.equal(ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.startsWith("load-database-")).length, 4);
    assert.match(await promiseOf(outputs.loadDatabaseInvokeCommand!), /--payload '\{"scenario":"shop","create_tables":true,"run_id":"seed-001"\}'/);
    assert.equal(functionNamed("generate-files").inputs.vpcConfig, undefined, "generate-files stays out of the VPC");
  });

  it("load-database's role reads the one secret, the stored definitions and nothing else of the bucket (IAM policy simulator)", async () => {
    await stackWith({ ...DATABASE, keyPrefix: "landing/", inputBucketName: "landing-bucket" });
    const policy = JSON.parse(ofType(ROLE_POLICY).find((p) => p.name === "load-database-policy")!.inputs.policy as string);
    const may = (action: string, resource: string, context: Record<string, string> = {}) => simulate(policy, action, resource, context);
    assert.equal(await may("secretsmanager:GetSecretValue", SECRET), true);
    assert.equal(await may("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbC123"), false, "not another secret");
    assert.equal(await may("secretsmanager:PutSecretValue", SECRET), false);
    assert.equal(await may("secretsmanager:ListSecrets", "*"), false);
    assert.equal(await may("s3:GetObject", "arn:aws:s3:::landing-bucket/landing/_datasets/shop.yaml"), true);
    assert.equal(await may("s3:ListBucket", "arn:aws:s3:::landing-bucket", { "s3:prefix": "landing/_datasets/" }), true);
    assert.equal(await may("s3:ListBucket", "arn:aws:s3:::landing-bucket", { "s3:prefix": "landing/" }), false, "not the data beside them");
    assert.equal(await may("s3:GetObject", "arn:aws:s3:::landing-bucket/landing/2026-01-01-test0000-000000.ndjson"), false);
    assert.equal(await may("s3:PutObject", "arn:aws:s3:::landing-bucket/landing/_datasets/shop.yaml"), false);
    assert.equal(await may("ec2:CreateNetworkInterface", "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0a1b2c3d4e5f67890"), true);
    assert.equal(await may("ec2:CreateNetworkInterface", "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-00000000000000000"), false);
    assert.ok(!policy.Statement.some((st: Statement) => asList(st.Action).some((a) => a.startsWith("kms:"))), "no key named, no KMS permission");

    const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    await stackWith({ ...DATABASE, databaseSecretKmsKeyArn: key });
    const withKey = JSON.parse(ofType(ROLE_POLICY).find((p) => p.name === "load-database-policy")!.inputs.policy as string);
    assert.equal(await simulate(withKey, "kms:Decrypt", key, { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" }), true);
    assert.equal(await simulate(withKey, "kms:Decrypt", key), false, "not directly");
    assert.equal(await simulate(withKey, "kms:Decrypt", key, { "kms:ViaService": "s3.us-east-1.amazonaws.com" }), false, "not through another service");
    assert.equal(
      await simulate(withKey, "kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000", { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" }),
      false,
    );
  });

  for (const [what, values, key, message] of [
    ["a database URL without its secret", { databaseUrl: DATABASE.databaseUrl }, "databaseSecretArn", /config databaseSecretArn is required with databaseUrl/],
    ["a secret without a database URL", { databaseSecretArn: SECRET }, "databaseUrl", /config databaseUrl is required with databaseSecretArn/],
    ["credentials in the URL", { ...DATABASE, databaseUrl: "postgres://admin:hunter2@db.internal:5432/shop" }, "databaseUrl", /must not hold credentials/],
    ["a URL that is not a server's", { ...DATABASE, databaseUrl: "pglite://./db" }, "databaseUrl", /must be postgres:\/\/HOST:PORT\/DB or mysql:\/\/HOST:PORT\/DB/],
    ["a secret's name instead of its full ARN", { ...DATABASE, databaseSecretArn: "rds!db-0a1b2c3d" }, "databaseSecretArn", /full ARN/],
    ["a database outside a VPC", { databaseUrl: DATABASE.databaseUrl, databaseSecretArn: SECRET }, "vpcSubnetIds", /required with databaseUrl: load-database reaches the database from the VPC/],
    ["an alias for the secret's key", { ...DATABASE, databaseSecretKmsKeyArn: "alias/db" }, "databaseSecretKmsKeyArn", /must be a KMS key ARN/],
  ] as const) {
    it(`rejects ${what}, naming the key`, () => {
      assert.throws(
        () => readStackConfig(source(values as Record<string, string>)),
        (err: Error & { field?: string }) => err.field === key && message.test(err.message),
      );
    });
  }
});

describe("fan-out state machine (Step Functions Distributed Map over generate-files)", () => {
  type State = Record<string, any>;
  const machine = () => single("aws:sfn/stateMachine:StateMachine");
  const definition = () => JSON.parse(machine().inputs.definition as string) as { StartAt: string; States: Record<string, State> };

  it("is valid States Language: every Next names a state, the flow is Plan → Shards → Manifest → Done", async () => {
    await stackWith({});
    const def = definition();
    assert.equal(def.StartAt, "Plan");
    const names = new Set(Object.keys(def.States));
    const targets = (st: State): string[] => [st.Next, st.Default, ...(st.Choices ?? []).map((c: State) => c.Next), ...(st.Catch ?? []).map((c: State) => c.Next)].filter(Boolean);
    for (const [name, st] of Object.entries(def.States)) {
      assert.ok(["Task", "Choice", "Map", "Succeed", "Fail", "Pass"].includes(st.Type), `${name}: ${st.Type}`);
      for (const t of targets(st)) assert.ok(names.has(t), `${name} → ${t}`);
      if (!["Choice", "Succeed", "Fail"].includes(st.Type)) assert.ok(st.Next || st.End, `${name} has Next or End`);
    }
    assert.deepEqual([def.States.Plan!.Next, def.States.Planned!.Choices[0].Next, def.States.Shards!.Next, def.States.Manifest!.Next], ["Planned", "Shards", "Manifest", "Complete?"]);
    assert.equal(machine().inputs.type, "STANDARD");
  });

  it("maps the planned shards in distributed mode, MaxConcurrency from config, no tolerated failures, failures still reach Manifest", async () => {
    await stackWith({ fanOutConcurrency: "120" });
    assert.equal(single(FUNCTION).inputs.environment.variables.FAN_OUT_CONCURRENCY, "120");
    const map = definition().States.Shards!;
    assert.equal(map.Type, "Map");
    assert.equal(map.ItemsPath, "$.plan.body.shards");
    assert.deepEqual(map.ItemProcessor.ProcessorConfig, { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" });
    assert.equal(map.MaxConcurrency, 120);
    assert.equal(map.ToleratedFailurePercentage, 0);
    assert.deepEqual(map.Catch, [{ ErrorEquals: ["States.ALL"], ResultPath: "$.shards_error", Next: "Manifest" }]);
    assert.equal(map.ItemSelector["shard.$"], "$$.Map.Item.Value");
    const shard = map.ItemProcessor.States.Shard;
    assert.equal(shard.Resource, "arn:aws:states:::lambda:invoke");
    assert.equal(shard.Parameters.FunctionName, "arn:aws:lambda:us-east-1:123456789012:generate-files-function-abc123");
    const throttles = shard.Retry.find((r: State) => r.ErrorEquals.includes("Lambda.TooManyRequestsException"));
    assert.deepEqual([throttles.BackoffRate, throttles.JitterStrategy], [2, "FULL"]);
    assert.ok(shard.Retry.some((r: State) => r.ErrorEquals.includes("RunFailedError")));
  });

  it("may invoke that one function and manage its own Map children, nothing more", async () => {
    await stackWith({});
    const st = statements(ofType(ROLE_POLICY).find((p) => p.name === "fan-out-policy")!);
    const byId = Object.fromEntries(st.map((s) => [s.Sid, s]));
    const fn = "arn:aws:lambda:us-east-1:123456789012:generate-files-function-abc123";
    assert.deepEqual(byId.InvokeGenerator!.Resource, [fn, `${fn}:*`]);
    assert.equal(byId.RunMapChildren!.Resource, "arn:aws:states:us-east-1:123456789012:stateMachine:synthgen-dev-fan-out");
    assert.equal(byId.TrackMapChildren!.Resource, "arn:aws:states:us-east-1:123456789012:execution:synthgen-dev-fan-out/*");
    assert.deepEqual(st.flatMap((s) => asList(s.Action)).sort(), ["lambda:InvokeFunction", "states:DescribeExecution", "states:StartExecution", "states:StopExecution"]);
  });

  it("exports the state machine and a ready start-execution command", async () => {
    const outputs = await stackWith({});
    assert.match(
      await promiseOf(outputs.startFanOutCommand),
      /^aws stepfunctions start-execution --state-machine-arn arn:aws:states:.* --input '\{"file_count":10000,"target_size_mb":3.5,"run_id":"loadtest-001"\}'$/,
    );
  });
});

describe("Pulumi.yaml", () => {
  it("declares every key the program reads, and nothing it does not read", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const declared = [
      ...readFileSync(join(__dirname, "..", "..", "Pulumi.yaml"), "utf8")
        .split(/^config:$/m)[1]!
        .matchAll(/^ {2}([A-Za-z]+):$/gm),
    ].map((m) => m[1]);
    const read = new Set<string>();
    const values: Record<string, string> = {
      ingestApiUrl: "https://a/b",
      elasticsearchNode: "https://es:9200",
      databaseUrl: "postgres://db.internal:5432/shop",
      databaseSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123",
      vpcSubnetIds: "subnet-0a1b2c3d4e5f67890",
      vpcSecurityGroupIds: "sg-0123456789abcdef0",
    };
    const spy = (k: string) => {
      read.add(k);
      return values[k];
    };
    readStackConfig({
      get: spy,
      getNumber: (k) => (spy(k) === undefined ? undefined : Number(values[k])),
      getBoolean: (k) => (spy(k) === undefined ? undefined : true),
      getSecret: (k) => {
        spy(k);
        return undefined;
      },
    });
    assert.deepEqual([...declared].sort(), [...read].sort());
  });
});

describe("the program's exports are the stack outputs (what `pulumi stack output` lists)", () => {
  const GENERATE = ["functionName", "functionArn", "bucketName", "alertTopicArn", "dashboardUrl", "deadLetterQueueUrl", "invokeCommand", "fanOutStateMachineArn", "startFanOutCommand"];
  const EMIT = ["emitFunctionName", "emitScheduleRuleName", "emitDeadLetterQueueUrl", "emitInvokeCommand", "emitFanOutStateMachineArn", "startEmitFanOutCommand"];
  const INDEX = ["indexFunctionName", "indexDeadLetterQueueUrl", "indexInvokeCommand", "backfillInvokeCommand"];
  const DATABASE = ["loadDatabaseFunctionName", "loadDatabaseDeadLetterQueueUrl", "loadDatabaseInvokeCommand"];
  const combinations: [string, Record<string, string>, string[]][] = [
    ["generate-files only (default config)", {}, GENERATE],
    ["with emit-events to Kinesis", { kinesisStreamName: "events" }, [...GENERATE, ...EMIT]],
    ["with emit-events to an ingest URL", { ingestApiUrl: "https://api.example/ingest" }, [...GENERATE, ...EMIT]],
    ["with index-documents on an unsecured cluster", { elasticsearchNode: "https://es.example:9200" }, [...GENERATE, ...INDEX]],
    ["with index-documents and its API key", { elasticsearchNode: "https://es.example:9200", elasticsearchApiKey: "k" }, [...GENERATE, ...INDEX, "elasticsearchApiKeySecretArn"]],
    ["with an SSE-KMS bucket the stack creates", { bucketKmsKey: "create" }, [...GENERATE, "bucketKmsKeyArn"]],
    ["with a key for the logs and dead-letter queues", { opsKmsKey: "create" }, [...GENERATE, "opsKmsKeyArn"]],
    ["with the verify state machine", { verifyOutputUri: "s3://pipeline-out/lake/" }, [...GENERATE, "verifyStateMachineArn", "startVerifyCommand"]],
    [
      "with load-database in a VPC",
      {
        databaseUrl: "mysql://db.internal:3306/shop",
        databaseSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123",
        vpcSubnetIds: "subnet-0a1b2c3d4e5f67890",
        vpcSecurityGroupIds: "sg-0123456789abcdef0",
      },
      [...GENERATE, ...DATABASE],
    ],
    [
      "with all three functions",
      { kinesisStreamName: "events", elasticsearchNode: "https://es.example:9200", elasticsearchApiKey: "k" },
      [...GENERATE, ...EMIT, ...INDEX, "elasticsearchApiKeySecretArn"],
    ],
  ];
  const documented = new Set<string>();

  for (const [what, config, expected] of combinations) {
    it(`${what}: exports exactly ${expected.length} outputs, each with a value`, async () => {
      const program = await loadProgram(config);
      assert.deepEqual(Object.keys(program.exports).sort(), [...expected].sort());
      for (const name of expected) {
        const value = program.outputs[name];
        assert.ok(typeof value === "string" && value.length > 0, `${name} = ${JSON.stringify(value)}`);
        documented.add(name);
      }
    });
  }

  it("every output the README and docs name is one the program exports", async () => {
    const { readFileSync, readdirSync, existsSync } = await import("node:fs");
    const { join } = await import("node:path");
    const root = join(__dirname, "..", "..");
    const docs = [
      "README.md",
      ...(existsSync(join(root, "docs"))
        ? readdirSync(join(root, "docs"))
            .filter((f) => f.endsWith(".md"))
            .map((f) => join("docs", f))
        : []),
    ];
    const allExports = new Set(combinations.flatMap(([, , names]) => names));
    const named = new Set<string>();
    for (const doc of docs) {
      const text = readFileSync(join(root, doc), "utf8");
      for (const m of text.matchAll(/pulumi stack output (?:--\S+ )*([A-Za-z]+)/g)) named.add(m[1]!);
      // Any `camelCase` word that looks like an output name (ends the way outputs do).
      for (const m of text.matchAll(/`([a-z][A-Za-z]*(?:Name|Arn|Url|Command))`/g)) named.add(m[1]!);
    }
    // Config keys share the shape (`inputBucketName`); Pulumi.yaml declares every one of them.
    const configKeys = new Set([...readFileSync(join(root, "Pulumi.yaml"), "utf8").matchAll(/^ {2}([A-Za-z]+):$/gm)].map((m) => m[1]!));
    const unknown = [...named].filter((n) => !allExports.has(n) && !configKeys.has(n));
    assert.deepEqual(unknown, [], `named in the docs but never exported: ${unknown.join(", ")}`);
    assert.ok(named.has("functionName") && named.has("startFanOutCommand"), "the README names the main outputs");
  });
});
