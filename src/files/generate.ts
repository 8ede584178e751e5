import { ValidationError } from "../core/errors";
import { planRun, type RunPlan } from "./plan";
import type { FilePool } from "./pool";
import { parseGenerateRequest, type RequestContext, type RequestDefaults } from "./request";
import { executeRun, responseBody, type FileDoneListener, type ResponseBody, type RunOutcome } from "./run";
import { resolveDataset, type DatasetLoader } from "../catalog/resolve";
import type { SinkSpec } from "../sinks";

/** What a caller (Lambda handler or CLI) supplies around one generate request. */
export interface GenerateOptions {
  readonly defaults: RequestDefaults;
  /** The deployment's key prefix; the request's own prefix goes under it. */
  readonly configuredPrefix: string;
  readonly sink: SinkSpec;
  readonly pool: FilePool;
  readonly context: RequestContext;
  /** Last check before anything is written (the handler's time budget, the CLI's pre-flight); throw to refuse. */
  readonly beforeRun?: (plan: RunPlan) => void | Promise<void>;
  readonly onFileDone?: FileDoneListener;
  /** Loads a declarative dataset the event names (a file for the CLI, an S3 object for the function). */
  readonly loadDataset?: DatasetLoader;
}

/**
 * The one path from a generate event to files in a sink: validate, plan, check, run, summarise.
 * Bad input throws before anything is written; failed files are reported in the outcome.
 */
export async function generate(event: unknown, options: GenerateOptions): Promise<{ outcome: RunOutcome; body: ResponseBody }> {
  if (typeof event === "object" && event !== null && "scenario" in event) {
    throw new ValidationError(
      "scenario",
      'a whole scenario runs through the fan-out state machine (start it with {"scenario": ...}); one invocation writes one dataset, e.g. "dataset": "shop.orders"',
    );
  }
  const custom = await resolveDataset(event, options.loadDataset);
  const request = parseGenerateRequest(event, options.defaults, options.context, custom);
  const plan = planRun(request, options.configuredPrefix);
  await options.beforeRun?.(plan);
  const outcome = await executeRun(plan, options.sink, options.pool, options.onFileDone);
  return { outcome, body: responseBody(outcome) };
}
