import { readFileSync } from "node:fs";
import { ValidationError } from "../src/core/errors";
import { isHttpUrl } from "../src/core/fields";
import { emitEvents, emitResponseBody } from "../src/events/emit";
import { EMIT_DEFAULTS, parseEmitRequest, TARGET_FIELDS, totalEvents, type EventTarget } from "../src/events/request";
import type { ResolvedDataset } from "../src/records/dataset";
import { fileDatasetLoader, readSchemaFile, resolveDataset, resolveScenarioDataset } from "../src/catalog/resolve";
import { eventSinkFor } from "../src/events/targets/index";
import { badInput, crashed, eventFrom, finish, numeric, parsePairs, sdkNodeNoticeOnce } from "./common";
import { countBar, shapeBar } from "./progress";
import { rateAt } from "../src/events/shape";
import type { EmitFlags } from "./emit-flags";

const FLAG_FOR_FIELD: Record<string, string> = {
  ...Object.fromEntries(Object.values(TARGET_FIELDS).map((f) => [f, "--to"])),
  stream_count: "--streams",
  events_per_stream: "--events-per-stream",
  events_per_second: "--rate",
  max_failed_ratio: "--max-failed-ratio",
  request_timeout_ms: "--timeout-ms",
  dataset: "--dataset",
  event_weights: "--weights",
  seed: "--seed",
  run_id: "--run-id",
  dirty: "--dirty",
  date_prefix: "--date",
  scenario: "--scenario",
  shape: "--shape",
  arrivals: "--arrivals",
  stream_skew: "--skew",
  duration: "--duration",
  target_quota: "--target-quota",
};

/** `--to`: `http(s)://host/path`, `kinesis://STREAM`, `firehose://STREAM`, `sqs:QUEUE_URL` or `eventbridge://BUS`, as the event field it stands for. */
export function targetFields(to: string | undefined): Record<string, string> {
  if (to === undefined) throw new ValidationError("--to", "--to is required: an http(s):// ingest URL, kinesis://STREAM, firehose://STREAM, sqs:QUEUE_URL or eventbridge://BUS");
  const aws = /^(kinesis|firehose|eventbridge):\/\/(.*)$/.exec(to);
  if (aws) return { [TARGET_FIELDS[aws[1] as "kinesis" | "firehose" | "eventbridge"]]: aws[2] ?? "" };
  if (to.startsWith("sqs:")) return { sqs_queue_url: to.slice("sqs:".length) };
  return { ingest_api_url: to };
}

/**
 * `--shape @FILE`: the shape's text from a file (a long profile of 168 hourly rates, say), `#`
 * comments and whitespace dropped; else the text itself.
 */
function shapeText(flag: string): string {
  if (!flag.startsWith("@")) return flag;
  let text: string;
  try {
    text = readFileSync(flag.slice(1), "utf8");
  } catch (err) {
    throw new ValidationError("--shape", `--shape ${flag}: cannot read the shape file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return text.replace(/#[^\n]*/g, "").replace(/\s+/g, "");
}

/** `--skew zipf:1.2` as the event's `{ zipf: 1.2 }` (anything else goes through for the validator to name). */
function parseSkewFlag(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const m = /^zipf:(.+)$/.exec(text.trim());
  return m ? { zipf: numeric(m[1]) } : text;
}

/** `--scenario FILE --dataset NAME`: one dataset of a scenario file. */
async function scenarioDataset(file: string, dataset: string | undefined): Promise<ResolvedDataset> {
  const text = await readSchemaFile("scenario", file);
  if (dataset === undefined) {
    const { loadScenarioText } = require("../src/scenarios/plan") as typeof import("../src/scenarios/plan");
    const names = [...loadScenarioText(text, file, "scenario").scenario.datasets.keys()];
    throw new ValidationError("dataset", `--scenario needs --dataset, one of its datasets: ${names.join(", ")}`);
  }
  return resolveScenarioDataset(text, file, dataset, "scenario");
}

/**
 * Runs `synthgen emit`: the same validation, streams and sinks as the `emit-events` function.
 * Prints the function's response body on stdout; returns the exit code.
 */
export async function runEmitCommand(flags: EmitFlags): Promise<number> {
  let request;
  try {
    if (flags.endpoint !== undefined && !isHttpUrl(flags.endpoint)) {
      throw new ValidationError("--endpoint", `--endpoint must be an http:// or https:// URL (got "${flags.endpoint}")`);
    }
    const event = eventFrom({
      ...targetFields(flags.to),
      dataset: flags.dataset,
      stream_count: numeric(flags.streams),
      events_per_stream: numeric(flags.eventsPerStream),
      events_per_second: numeric(flags.rate),
      max_failed_ratio: numeric(flags.maxFailedRatio),
      request_timeout_ms: numeric(flags.timeoutMs),
      event_weights: parsePairs("--weights", flags.weights),
      dirty: parsePairs("--dirty", flags.dirty),
      seed: numeric(flags.seed),
      run_id: flags.runId,
      date_prefix: flags.date,
      shape: flags.shape === undefined ? undefined : shapeText(flags.shape),
      arrivals: flags.arrivals,
      stream_skew: parseSkewFlag(flags.skew),
      duration: flags.duration,
      target_quota: parsePairs("--target-quota", flags.targetQuota),
    });
    // A schema file (--dataset ./orders.yaml) streams its records as events, as generate writes them;
    // with --scenario, --dataset names one of the scenario's datasets, and its entities are the events.
    const custom = flags.scenario !== undefined ? await scenarioDataset(flags.scenario, flags.dataset) : await resolveDataset(event, fileDatasetLoader);
    if (flags.plan) return (require("./emit-plan") as typeof import("./emit-plan")).runEmitPlan(flags, event, FLAG_FOR_FIELD, custom);
    request = parseEmitRequest(event, EMIT_DEFAULTS, { now: new Date() }, custom);
    if (flags.endpoint !== undefined && request.target.kind === "http") {
      throw new ValidationError("--endpoint", "--endpoint applies to an AWS target (kinesis://, firehose://, sqs:, eventbridge://) only");
    }
  } catch (err) {
    return badInput(err, FLAG_FOR_FIELD);
  }
  const target: EventTarget = request.target;
  if (target.kind !== "http") sdkNodeNoticeOnce();
  const sink = eventSinkFor(target, { requestTimeoutMs: request.requestTimeoutMs, ...(flags.endpoint ? { endpoint: flags.endpoint } : {}) });
  const shape = request.shape;
  const bar = shape ? shapeBar(totalEvents(request), (t) => rateAt(shape, t)) : countBar(totalEvents(request), "events");
  try {
    const body = emitResponseBody(await emitEvents(request, sink, { onSettled: (n) => bar.add(n) }));
    bar.stop();
    return finish(body, `${body.failed} of ${body.total_events} events failed (more than max_failed_ratio ${body.max_failed_ratio}); see "errors" above`);
  } catch (err) {
    bar.stop();
    // A missing region or credentials, found before anything was sent (the sink's preflight).
    if (err instanceof ValidationError) return badInput(err, FLAG_FOR_FIELD);
    return crashed(err);
  } finally {
    await sink.close();
  }
}
