import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMIT_METRICS, FILE_METRICS, RUN_METRICS_NAMESPACE, type RunMetric } from "../src/core/run-metrics";

/** One function the dashboard shows, by the names CloudWatch's metrics carry. */
export interface WatchedFunction {
  /** The function's component name and `service` of its run metrics: `generate-files`, `emit-events`, `index-documents`. */
  readonly service: string;
  readonly functionName: string;
  readonly deadLetterQueueName: string;
  readonly logGroupName: string;
  /** Its run metrics (EMF), if it emits any. */
  readonly runMetrics: readonly RunMetric[];
}

export interface WatchedStateMachine {
  readonly label: string;
  readonly arn: string;
}

type Widget = Record<string, unknown>;

const WIDTH = 24;
const metric = (x: number, y: number, w: number, title: string, metrics: unknown[], extra: Record<string, unknown> = {}): Widget => ({
  type: "metric",
  x,
  y,
  width: w,
  height: 6,
  properties: { title, view: "timeSeries", stacked: false, period: 60, metrics, ...extra },
});

/**
 * The body of the stack's dashboard (CloudWatch dashboard body structure), as plain data so a spec
 * reads it: per function invocations, errors and throttles, duration p99, concurrent executions and
 * its DLQ depth; each state machine's executions; every run metric the functions emit (by
 * SEARCH over the namespace and its dimensions, one line per dataset); and the latest runs from
 * the metric lines in the logs, by run id.
 */
export function dashboardBody(region: string, functions: readonly WatchedFunction[], machines: readonly WatchedStateMachine[]): { widgets: Widget[] } {
  const widgets: Widget[] = [];
  let y = 0;
  for (const f of functions) {
    const w = WIDTH / 4;
    widgets.push(
      metric(0, y, w, `${f.service}: invocations, errors, throttles`, [
        ["AWS/Lambda", "Invocations", "FunctionName", f.functionName, { stat: "Sum" }],
        ["AWS/Lambda", "Errors", "FunctionName", f.functionName, { stat: "Sum" }],
        ["AWS/Lambda", "Throttles", "FunctionName", f.functionName, { stat: "Sum" }],
      ]),
      metric(w, y, w, `${f.service}: duration p99`, [["AWS/Lambda", "Duration", "FunctionName", f.functionName, { stat: "p99" }]]),
      metric(2 * w, y, w, `${f.service}: concurrent executions`, [["AWS/Lambda", "ConcurrentExecutions", "FunctionName", f.functionName, { stat: "Maximum" }]]),
      metric(3 * w, y, w, `${f.service}: dead-letter queue`, [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f.deadLetterQueueName, { stat: "Maximum" }]]),
    );
    y += 6;
    if (f.runMetrics.length > 0) {
      const w2 = WIDTH / f.runMetrics.length;
      f.runMetrics.forEach(({ name, dimensions }, i) => {
        const search = `SEARCH('{${RUN_METRICS_NAMESPACE},${dimensions.join(",")}} service="${f.service}" MetricName="${name}"', '${name.endsWith("PerSecond") ? "Average" : "Sum"}', 60)`;
        const by = dimensions.filter((d) => d !== "service").join(" and ");
        widgets.push(metric(i * w2, y, w2, `${f.service}: ${name} by ${by}`, [[{ expression: search, id: `m${i}`, label: "" }]], { region }));
      });
      y += 6;
    }
  }
  if (machines.length > 0) {
    const w = WIDTH / machines.length;
    machines.forEach((m, i) => {
      widgets.push(
        metric(i * w, y, w, `${m.label}: executions`, [
          ["AWS/States", "ExecutionsStarted", "StateMachineArn", m.arn, { stat: "Sum" }],
          ["AWS/States", "ExecutionsSucceeded", "StateMachineArn", m.arn, { stat: "Sum" }],
          ["AWS/States", "ExecutionsFailed", "StateMachineArn", m.arn, { stat: "Sum" }],
        ]),
      );
    });
    y += 6;
  }
  const sources = functions.filter((f) => f.runMetrics.length > 0).map((f) => `SOURCE '${f.logGroupName}'`);
  if (sources.length > 0) {
    const fields = [...Object.values(FILE_METRICS), ...Object.values(EMIT_METRICS)].join(", ");
    widgets.push({
      type: "log",
      x: 0,
      y,
      width: WIDTH,
      height: 6,
      properties: {
        title: "latest runs (their metric lines)",
        region,
        view: "table",
        query: `${sources.join(" | ")} | filter ispresent(_aws.CloudWatchMetrics) | fields @timestamp, service, Dataset, run_id, ${fields} | sort @timestamp desc | limit 50`,
      },
    });
  }
  return { widgets };
}

export interface RunDashboardArgs {
  readonly functions: readonly pulumi.Input<WatchedFunction>[];
  readonly machines: readonly pulumi.Input<WatchedStateMachine>[];
}

/** One CloudWatch dashboard of every run of the stack, and the console URL that opens it. */
export class RunDashboard extends pulumi.ComponentResource {
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: RunDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synthgen:index:RunDashboard", name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;
    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: pulumi.interpolate`synthgen-${pulumi.getStack()}`,
        dashboardBody: pulumi.all([region, pulumi.all([...args.functions]), pulumi.all([...args.machines])]).apply(([r, fns, sms]) => JSON.stringify(dashboardBody(r, fns, sms))),
      },
      { parent: this },
    );
    this.url = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
    this.registerOutputs({ url: this.url });
  }
}
