import { invokeStep, planStep } from "./fan-out";

/**
 * The emit state machine in Amazon States Language, as plain data so it is tested without AWS:
 * Plan → for each wave: a Distributed Map of the plan's emitters (one `emit-events` invocation
 * each, all at once: MaxConcurrency is the concurrency the plan may use) → Report → succeed, or
 * fail when events failed or an emitter left no summary. A wave waits for all its emitters, failed
 * or not; the report says which cells are missing. Emitters are not retried after they ran:
 * a retry would send their events again (throttles before a run are retried).
 */
export function emitFanOutDefinition(functionArn: string, maxConcurrency: number) {
  const layout = {
    "emitters.$": "$.plan.body.emitters",
    "waves.$": "$.plan.body.waves",
    "wave_seconds.$": "$.plan.body.wave_seconds",
    "start_at.$": "$.plan.body.start_at",
  };
  return {
    Comment: "synthgen emit fan-out: N emitters per wave, waves one after the other, then the merged report",
    StartAt: "Plan",
    States: {
      Plan: planStep(functionArn),
      Planned: { Type: "Choice", Choices: [{ Variable: "$.plan.status_code", NumericEquals: 200, Next: "FirstWave" }], Default: "Rejected" },
      Rejected: { Type: "Fail", Error: "InvalidRequest", Cause: "emit-events rejected the plan; its log line 'request rejected' names the field and what would fit" },
      FirstWave: { Type: "Pass", Result: { n: 0 }, ResultPath: "$.wave", Next: "Wave" },
      Wave: {
        Type: "Map",
        ItemsPath: "$.plan.body.emitter_list",
        ItemSelector: { action: "emit", "request.$": "$.plan.body.request", "emitter.$": "$$.Map.Item.Value", "wave.$": "$.wave.n", ...layout },
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
          StartAt: "Emit",
          States: {
            Emit: invokeStep(
              functionArn,
              {
                "action.$": "$.action",
                "request.$": "$.request",
                "emitter.$": "$.emitter",
                "wave.$": "$.wave",
                "emitters.$": "$.emitters",
                "waves.$": "$.waves",
                "wave_seconds.$": "$.wave_seconds",
                "start_at.$": "$.start_at",
              },
              {
                ResultSelector: { "status_code.$": "$.Payload.statusCode" },
                // A failed emitter ends its item, not the Map: a failed Map would go on to the report
                // while the other emitters still send. The report lists the cells left without summary.
                Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "CellFailed" }],
                End: true,
              },
            ),
            CellFailed: { Type: "Pass", End: true },
          },
        },
        MaxConcurrency: maxConcurrency,
        ResultPath: null,
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.wave_error", Next: "Report" }],
        Next: "NextWave",
      },
      NextWave: { Type: "Pass", Parameters: { "n.$": "States.MathAdd($.wave.n, 1)" }, ResultPath: "$.wave", Next: "MoreWaves" },
      MoreWaves: { Type: "Choice", Choices: [{ Variable: "$.wave.n", NumericLessThanPath: "$.plan.body.waves", Next: "Wave" }], Default: "Report" },
      Report: invokeStep(
        functionArn,
        { action: "report", "request.$": "$.plan.body.request", ...layout },
        { ResultSelector: { "body.$": "$.Payload.body" }, ResultPath: "$.report", Next: "Reported" },
      ),
      Reported: { Type: "Choice", Choices: [{ Variable: "$.report.body.status", StringEquals: "completed", Next: "Done" }], Default: "EventsFailed" },
      Done: { Type: "Succeed" },
      EventsFailed: { Type: "Fail", Error: "EventsFailed", Cause: "events failed or an emitter left no summary: {prefix}_emit/{run_id}/report.json says which" },
    },
  };
}
