import { invokeStep } from "./fan-out";

/**
 * The verify state machine in Amazon States Language, as plain data so it is tested without AWS:
 * Plan (check the request, list the pipeline's output once, lay out slices) → a Distributed Map
 * of slices (one `generate-files` invocation each: the run's files recomputed, or output objects
 * digested; both written beside the run) → Merge (the digests joined into the report) → succeed
 * when every check holds, else fail `PipelineCheckFailed`. A slice is a pure function of the
 * request and the listing, so it is retried like a shard; a slice that keeps failing fails the run.
 */
export function verifyFanOutDefinition(functionArn: string, maxConcurrency: number) {
  return {
    Comment: "synthgen verify: recompute the run and digest the pipeline's output in slices, then the merged report",
    StartAt: "Plan",
    States: {
      Plan: invokeStep(
        functionArn,
        { action: "verify-plan", "request.$": "$", "execution_name.$": "$$.Execution.Name" },
        { ResultSelector: { "status_code.$": "$.Payload.statusCode", "body.$": "$.Payload.body" }, ResultPath: "$.plan", Next: "Planned" },
      ),
      Planned: { Type: "Choice", Choices: [{ Variable: "$.plan.status_code", NumericEquals: 200, Next: "Slices" }], Default: "Rejected" },
      Rejected: { Type: "Fail", Error: "InvalidRequest", Cause: "generate-files rejected the verify request; its log line 'request rejected' names the field" },
      Slices: {
        Type: "Map",
        ItemsPath: "$.plan.body.slices",
        ItemSelector: { action: "verify-slice", "request.$": "$.plan.body.request", "slice.$": "$$.Map.Item.Value" },
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
          StartAt: "Slice",
          States: {
            Slice: invokeStep(
              functionArn,
              { "action.$": "$.action", "request.$": "$.request", "slice.$": "$.slice" },
              { retryOwnFailures: true, ResultSelector: { "status_code.$": "$.Payload.statusCode", "kind.$": "$.Payload.body.kind", "n.$": "$.Payload.body.n" }, End: true },
            ),
          },
        },
        MaxConcurrency: maxConcurrency,
        ToleratedFailurePercentage: 0,
        ResultPath: null,
        Next: "Merge",
      },
      Merge: invokeStep(
        functionArn,
        { action: "verify-merge", "request.$": "$.plan.body.request", "expect_slices.$": "$.plan.body.expect_slices", "read_slices.$": "$.plan.body.read_slices" },
        { ResultSelector: { "body.$": "$.Payload.body" }, ResultPath: "$.verify", Next: "Checked" },
      ),
      Checked: { Type: "Choice", Choices: [{ Variable: "$.verify.body.status", StringEquals: "passed", Next: "Passed" }], Default: "PipelineCheckFailed" },
      Passed: { Type: "Succeed" },
      PipelineCheckFailed: {
        Type: "Fail",
        Error: "PipelineCheckFailed",
        Cause: "the pipeline lost, duplicated, changed or added records (or an expect did not hold): the report is at {prefix}_verify/{run_id}/{execution}/report.json",
      },
    },
  };
}
