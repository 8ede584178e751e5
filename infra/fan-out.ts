import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployment } from "./deployment";
import { assumeRolePolicy, rolePolicy, stateMachineStatements } from "./policies";

/** Lambda errors a Task should retry: throttles and service-side failures, not our own. */
const LAMBDA_TRANSIENT = ["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"];

/** An `arn:aws:states:::lambda:invoke` Task for one step, retrying throttles with backoff and full jitter. */
export function invokeStep(functionArn: string, payload: Record<string, unknown>, extra: Record<string, unknown>) {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    Parameters: { FunctionName: functionArn, Payload: payload },
    Retry: [
      { ErrorEquals: LAMBDA_TRANSIENT, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 8, MaxDelaySeconds: 60, JitterStrategy: "FULL" },
      ...(extra.retryOwnFailures ? [{ ErrorEquals: ["RunFailedError"], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 2, JitterStrategy: "FULL" }] : []),
    ],
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "retryOwnFailures")),
  };
}

/** The first step of a fan-out: the function plans the request (`action: plan`); its answer lands in `$.plan`. */
export function planStep(functionArn: string) {
  return invokeStep(
    functionArn,
    { action: "plan", "request.$": "$", "execution_name.$": "$$.Execution.Name" },
    { ResultSelector: { "status_code.$": "$.Payload.statusCode", "body.$": "$.Payload.body" }, ResultPath: "$.plan", Next: "Planned" },
  );
}

/**
 * The fan-out state machine in Amazon States Language, as plain data so it is tested without
 * AWS: Plan → Distributed Map over the shards (one `generate-files` invocation per shard,
 * `MaxConcurrency`, no tolerated failures) → Manifest → succeed, or fail when a shard is missing.
 * A failed Map still goes to Manifest (Catch), which then writes the failed manifest.
 */
export function fanOutDefinition(functionArn: string, maxConcurrency: number) {
  return {
    Comment: "synthgen fan-out: one generate-files invocation per shard, then the run manifest",
    StartAt: "Plan",
    States: {
      Plan: planStep(functionArn),
      Planned: {
        Type: "Choice",
        Choices: [{ Variable: "$.plan.status_code", NumericEquals: 200, Next: "Shards" }],
        Default: "Rejected",
      },
      Rejected: { Type: "Fail", Error: "InvalidRequest", Cause: "generate-files rejected the request; its log line 'request rejected' names the field" },
      Shards: {
        Type: "Map",
        ItemsPath: "$.plan.body.shards",
        ItemSelector: {
          action: "shard",
          "request.$": "$.plan.body.request",
          "shard.$": "$$.Map.Item.Value",
          "files_per_shard.$": "$.plan.body.files_per_shard",
          "shard_count.$": "$.plan.body.shard_count",
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
          StartAt: "Shard",
          States: {
            Shard: invokeStep(
              functionArn,
              { "action.$": "$.action", "request.$": "$.request", "shard.$": "$.shard", "files_per_shard.$": "$.files_per_shard", "shard_count.$": "$.shard_count" },
              {
                retryOwnFailures: true,
                ResultSelector: { "shard.$": "$.Payload.body.shard", "successful.$": "$.Payload.body.successful", "skipped.$": "$.Payload.body.skipped" },
                End: true,
              },
            ),
          },
        },
        MaxConcurrency: maxConcurrency,
        ToleratedFailurePercentage: 0,
        ResultPath: null,
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.shards_error", Next: "Manifest" }],
        Next: "Manifest",
      },
      Manifest: invokeStep(
        functionArn,
        {
          action: "manifest",
          "request.$": "$.plan.body.request",
          "files_per_shard.$": "$.plan.body.files_per_shard",
          "shard_count.$": "$.plan.body.shard_count",
        },
        { ResultSelector: { "body.$": "$.Payload.body" }, ResultPath: "$.manifest", Next: "Complete?" },
      ),
      "Complete?": {
        Type: "Choice",
        Choices: [{ Variable: "$.manifest.body.status", StringEquals: "completed", Next: "Done" }],
        Default: "ShardsMissing",
      },
      Done: { Type: "Succeed" },
      ShardsMissing: { Type: "Fail", Error: "ShardsMissing", Cause: "some shards failed: {prefix}_manifests/{run_id}.failed.json lists them; start the same run_id again to resume" },
    },
  };
}

export interface FanOutArgs {
  readonly functionArn: pulumi.Input<string>;
  readonly maxConcurrency: number;
  /** The machine's States Language for the function and concurrency (default: the file fan-out's). */
  readonly definition?: (functionArn: string, maxConcurrency: number) => object;
}

/**
 * A Step Functions state machine that runs one big request as many invocations of one function
 * (generate-files' shards, or emit-events' emitters). Its role may invoke that one function and
 * manage its own Map child executions.
 */
export class FanOut extends pulumi.ComponentResource {
  readonly stateMachine: aws.sfn.StateMachine;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;

  constructor(name: string, args: FanOutArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synthgen:index:FanOut", name, {}, opts);
    const parent = { parent: this };
    // A fixed name lets the role's policy name the machine's ARN before the machine exists.
    const machineName = `synthgen-${pulumi.getStack()}-${name}`;
    const where = deployment(parent);
    const machineArn = where.apply((d) => `arn:${d.partition}:states:${d.region}:${d.accountId}:stateMachine:${machineName}`);
    const executionsArn = where.apply((d) => `arn:${d.partition}:states:${d.region}:${d.accountId}:execution:${machineName}/*`);

    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("states.amazonaws.com")) }, parent);
    this.rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: pulumi.all([args.functionArn, machineArn, executionsArn]).apply(([fn, sm, ex]) => JSON.stringify(rolePolicy(stateMachineStatements(fn, sm, ex)))),
      },
      parent,
    );
    this.stateMachine = new aws.sfn.StateMachine(
      `${name}-machine`,
      {
        name: machineName,
        type: "STANDARD",
        roleArn: this.role.arn,
        definition: pulumi.output(args.functionArn).apply((fn) => JSON.stringify((args.definition ?? fanOutDefinition)(fn, args.maxConcurrency))),
      },
      { parent: this, dependsOn: [this.rolePolicy] },
    );
    this.registerOutputs({ stateMachineArn: this.stateMachine.arn });
  }
}
