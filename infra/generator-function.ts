import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Architecture } from "./config";
import { assumeRolePolicy, deadLetterQueuePolicy, functionBaseStatements, rolePolicy, type PolicyStatement } from "./policies";

export interface ScheduleArgs {
  /** `rate(...)` or `cron(...)`. */
  readonly expression: string;
  readonly enabled: boolean;
  /** The event the schedule sends; the rule adds `run_id` and `time` from the scheduled event. */
  readonly input: Record<string, unknown>;
}

export interface GeneratorFunctionArgs {
  /** The bundled code (see `bundleArchive`). */
  readonly code: pulumi.asset.Archive;
  /** `file.export` inside the archive, e.g. `functions/generate-files.handler`. */
  readonly handler: string;
  readonly memoryMb: number;
  /** Ephemeral storage (/tmp) in MB; Lambda's 512 when absent. */
  readonly ephemeralStorageMb?: number;
  readonly timeoutSeconds: number;
  readonly architecture: Architecture;
  readonly tracing: boolean;
  readonly logRetentionDays: number;
  /** CloudWatch Lambda Insights: the extension's layer (the role gets AWS's managed policy for it). */
  readonly insightsLayerArn?: string;
  /** A KMS key for the log group and the dead-letter queue (the role may use it through SQS). */
  readonly opsKey?: { readonly arn: pulumi.Input<string>; readonly sqsViaService: pulumi.Input<string> };
  readonly environment: Record<string, pulumi.Input<string>>;
  /** What the function may do to its sink (exact ARNs); logs, DLQ and tracing are added here. */
  readonly sinkStatements: pulumi.Input<PolicyStatement[]>;
  readonly schedule: ScheduleArgs;
  /** Every alarm notifies this topic. */
  readonly alertTopicArn: pulumi.Input<string>;
  /**
   * Lambda's own retries of a failed async invocation (0-2, default 2). 0 where a retry would
   * repeat side effects that already happened (events already sent); the DLQ still gets the event.
   */
  readonly asyncRetries?: number;
  /** Concurrency reserved for the function (its ceiling, and a share no other function of the account can take); unreserved when absent. */
  readonly reservedConcurrency?: number;
  /** Warm instances kept on a published version behind the alias `live`, which the schedule (and a fan-out) then invokes. */
  readonly provisionedConcurrency?: number;
  /** Run in these subnets with these security groups (a private target); the role gets what Lambda needs for it. */
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
}

/** The alias a function with provisioned concurrency is invoked through. */
export const LIVE_ALIAS = "live";

/** DLQ messages are kept for the SQS maximum, so a failed run over a long weekend is still there. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;
/** Lambda's own async retries (the maximum), then the DLQ. */
export const DEFAULT_ASYNC_RETRIES = 2;

/** One alarm of a generator function, as plain data: the component turns each into a MetricAlarm. */
export interface AlarmSpec {
  readonly id: "errors" | "throttles" | "duration" | "dead-letters";
  readonly description: string;
  readonly namespace: "AWS/Lambda" | "AWS/SQS";
  readonly metricName: string;
  readonly statistic: "Sum" | "Maximum";
  readonly comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  readonly threshold: number;
  readonly periodSeconds: number;
}

/**
 * The alarms, with the original generator's thresholds where they were right: Errors > 5 in
 * 5 minutes. Throttles fire at the first one (the original's `> 1` missed a single throttle);
 * Duration above 80% of the timeout warns before runs start timing out; any DLQ message is a
 * lost run.
 */
export function alarmSpecs(timeoutSeconds: number): AlarmSpec[] {
  const base = { periodSeconds: 300 } as const;
  return [
    {
      ...base,
      id: "errors",
      description: "More than 5 failed invocations in 5 minutes",
      namespace: "AWS/Lambda",
      metricName: "Errors",
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 5,
    },
    {
      ...base,
      id: "throttles",
      description: "An invocation was throttled",
      namespace: "AWS/Lambda",
      metricName: "Throttles",
      statistic: "Sum",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    },
    {
      ...base,
      id: "duration",
      description: "An invocation used more than 80% of its timeout",
      namespace: "AWS/Lambda",
      metricName: "Duration",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: Math.round(timeoutSeconds * 1000 * 0.8),
    },
    {
      ...base,
      id: "dead-letters",
      description: "A run ended in the dead-letter queue",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    },
  ];
}

/**
 * The schedule's input template: the configured event plus the scheduled event's `id` and `time`,
 * so a retried delivery is the same run (same keys, same bytes) and keys carry the scheduled time.
 */
export function scheduleInputTemplate(input: Record<string, unknown>): string {
  return JSON.stringify({ ...input, run_id: "<id>", time: "<time>" });
}

/**
 * A Lambda function that generates data, with everything it needs to run unattended: its role
 * (least privilege), log group, dead-letter queue for async failures, schedule, and alarms.
 */
export class GeneratorFunction extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly function: aws.lambda.Function;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly deadLetterQueuePolicy: aws.sqs.QueuePolicy;
  readonly invokeConfig: aws.lambda.FunctionEventInvokeConfig;
  readonly scheduleRule: aws.cloudwatch.EventRule;
  readonly scheduleTarget: aws.cloudwatch.EventTarget;
  readonly schedulePermission: aws.lambda.Permission;
  readonly alarms: Record<AlarmSpec["id"], aws.cloudwatch.MetricAlarm>;
  /** With provisioned concurrency: the alias on the published version, and its warm instances. */
  readonly alias?: aws.lambda.Alias;
  readonly provisionedConcurrency?: aws.lambda.ProvisionedConcurrencyConfig;
  /** What callers invoke: the alias when there is one (warm), else the function. */
  readonly invokeArn: pulumi.Output<string>;
  /** The qualifier callers pass (`live`), when there is an alias. */
  readonly qualifier?: string;
  /** With Lambda Insights: AWS's managed policy for the extension, attached to the role. */
  readonly insightsPolicy?: aws.iam.RolePolicyAttachment;

  constructor(name: string, args: GeneratorFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synthgen:index:GeneratorFunction", name, {}, opts);
    const parent = { parent: this };

    const key = args.opsKey;
    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { namePrefix: `/aws/lambda/${name}-`, retentionInDays: args.logRetentionDays, ...(key ? { kmsKeyId: key.arn } : {}) }, parent);
    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { messageRetentionSeconds: DLQ_RETENTION_SECONDS, ...(key ? { kmsMasterKeyId: key.arn, kmsDataKeyReusePeriodSeconds: 300 } : { sqsManagedSseEnabled: true }) },
      parent,
    );

    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")) }, parent);
    this.rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: pulumi
          .all([args.sinkStatements, this.logGroup.arn, this.deadLetterQueue.arn, key?.arn, key?.sqsViaService])
          .apply(([sink, logGroupArn, dlqArn, keyArn, viaService]) =>
            JSON.stringify(rolePolicy([...sink, ...functionBaseStatements({ logGroupArn, dlqArn, tracing: args.tracing, ...(keyArn && viaService ? { dlqKey: { keyArn, viaService } } : {}) })])),
          ),
      },
      parent,
    );

    if (args.insightsLayerArn) {
      const partition = args.insightsLayerArn.split(":")[1] as string;
      // What the extension needs: its own log group and stream (/aws/lambda-insights), nothing else.
      this.insightsPolicy = new aws.iam.RolePolicyAttachment(
        `${name}-insights`,
        { role: this.role.name, policyArn: `arn:${partition}:iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy` },
        parent,
      );
    }

    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        role: this.role.arn,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: [args.architecture],
        ...(args.insightsLayerArn ? { layers: [args.insightsLayerArn] } : {}),
        handler: args.handler,
        code: args.code,
        memorySize: args.memoryMb,
        ...(args.ephemeralStorageMb !== undefined ? { ephemeralStorage: { size: args.ephemeralStorageMb } } : {}),
        timeout: args.timeoutSeconds,
        environment: { variables: args.environment },
        tracingConfig: { mode: args.tracing ? "Active" : "PassThrough" },
        loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
        ...(args.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: args.reservedConcurrency } : {}),
        ...(args.vpc ? { vpcConfig: { subnetIds: [...args.vpc.subnetIds], securityGroupIds: [...args.vpc.securityGroupIds] } } : {}),
        // Provisioned concurrency lives on a published version, never on $LATEST.
        ...(args.provisionedConcurrency !== undefined ? { publish: true } : {}),
      },
      // The policy must exist before the first invocation can write logs or objects.
      { parent: this, dependsOn: [this.rolePolicy, ...(this.insightsPolicy ? [this.insightsPolicy] : [])] },
    );
    if (args.provisionedConcurrency !== undefined) {
      this.alias = new aws.lambda.Alias(`${name}-live`, { name: LIVE_ALIAS, functionName: this.function.name, functionVersion: this.function.version }, parent);
      this.provisionedConcurrency = new aws.lambda.ProvisionedConcurrencyConfig(
        `${name}-warm`,
        { functionName: this.function.name, qualifier: this.alias.name, provisionedConcurrentExecutions: args.provisionedConcurrency },
        parent,
      );
      this.qualifier = LIVE_ALIAS;
    }
    this.invokeArn = this.alias ? this.alias.arn : this.function.arn;

    this.invokeConfig = new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: this.function.name,
        ...(this.qualifier ? { qualifier: this.qualifier } : {}),
        maximumRetryAttempts: args.asyncRetries ?? DEFAULT_ASYNC_RETRIES,
        destinationConfig: { onFailure: { destination: this.deadLetterQueue.arn } },
      },
      parent,
    );

    this.scheduleRule = new aws.cloudwatch.EventRule(`${name}-schedule`, { scheduleExpression: args.schedule.expression, state: args.schedule.enabled ? "ENABLED" : "DISABLED" }, parent);
    this.schedulePermission = new aws.lambda.Permission(
      `${name}-schedule-invoke`,
      { action: "lambda:InvokeFunction", function: this.function.name, ...(this.qualifier ? { qualifier: this.qualifier } : {}), principal: "events.amazonaws.com", sourceArn: this.scheduleRule.arn },
      parent,
    );
    this.deadLetterQueuePolicy = new aws.sqs.QueuePolicy(
      `${name}-dlq-policy`,
      {
        queueUrl: this.deadLetterQueue.url,
        policy: pulumi.all([this.deadLetterQueue.arn, this.scheduleRule.arn]).apply(([q, r]) => JSON.stringify(deadLetterQueuePolicy(q, r))),
      },
      parent,
    );
    this.scheduleTarget = new aws.cloudwatch.EventTarget(
      `${name}-schedule-target`,
      {
        rule: this.scheduleRule.name,
        arn: this.invokeArn,
        inputTransformer: { inputPaths: { id: "$.id", time: "$.time" }, inputTemplate: scheduleInputTemplate(args.schedule.input) },
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: this.deadLetterQueue.arn },
      },
      { parent: this, dependsOn: [this.schedulePermission] },
    );

    const alarms: Partial<Record<AlarmSpec["id"], aws.cloudwatch.MetricAlarm>> = {};
    for (const spec of alarmSpecs(args.timeoutSeconds)) {
      alarms[spec.id] = new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.id}`,
        {
          alarmDescription: spec.description,
          namespace: spec.namespace,
          metricName: spec.metricName,
          statistic: spec.statistic,
          comparisonOperator: spec.comparisonOperator,
          threshold: spec.threshold,
          period: spec.periodSeconds,
          evaluationPeriods: 1,
          treatMissingData: "notBreaching",
          dimensions: spec.namespace === "AWS/SQS" ? { QueueName: this.deadLetterQueue.name } : { FunctionName: this.function.name },
          alarmActions: [args.alertTopicArn],
          okActions: [args.alertTopicArn],
        },
        parent,
      );
    }
    this.alarms = alarms as Record<AlarmSpec["id"], aws.cloudwatch.MetricAlarm>;

    this.registerOutputs({
      functionName: this.function.name,
      functionArn: this.function.arn,
      deadLetterQueueUrl: this.deadLetterQueue.url,
      logGroupName: this.logGroup.name,
    });
  }
}
