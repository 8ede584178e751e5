import { assertFitsInTime, rateOf } from "./capacity";
import { RunFailedError, ValidationError } from "../core/errors";
import { layoutByTime, runShard, shardRange, writeManifest, type ShardLayout } from "./fan-out";
import { describe, eventObject, integerField, type EventObject, type RequestContext } from "../core/fields";
import { planRun, type RunPlan } from "./plan";
import type { FilePool } from "./pool";
import { parseGenerateRequest, type RequestDefaults } from "./request";
import { responseBody } from "./run";
import { resolveDataset, type DatasetLoader, type ScenarioLoader } from "../catalog/resolve";
import { assertSameScenarioAsFailedRun, joinLayouts, locateShard, planScenarioRun, scenarioLayoutOf, scenarioShardResultKey, timeOf, writeScenarioManifest, type ScenarioRun } from "./scenario-run";
import type { SinkSpec } from "../sinks";

/**
 * The three steps the fan-out state machine asks of `generate-files`, as events
 * `{"action": "plan" | "shard" | "manifest", "request": {...generate event}, ...}`:
 * - `plan`: validates the request once, fixes its identity (run id defaults to the execution's
 *   name) and lays out shards for this function's memory and timeout;
 * - `shard`: writes shard k's files (skipping those already there) and its shard result;
 * - `manifest`: merges the shard results into the manifest, or writes the failed manifest.
 */
export const FANOUT_ACTIONS = ["plan", "shard", "manifest"] as const;
export type FanOutAction = (typeof FANOUT_ACTIONS)[number];

export interface FanOutDeps {
  readonly defaults: RequestDefaults;
  readonly configuredPrefix: string;
  readonly sink: SinkSpec;
  readonly pool: FilePool;
  readonly context: RequestContext;
  readonly memoryMb: number;
  readonly cores: number;
  /** Milliseconds this invocation has left. */
  readonly remainingMs: () => number;
  /** Shards the state machine runs at once; the plan makes at least this many. */
  readonly concurrency: number;
  readonly loadDataset?: DatasetLoader;
  /** Loads the stored scenario a request's `scenario` names; without it a scenario is refused. */
  readonly loadScenario?: ScenarioLoader;
}

export function isFanOutEvent(event: unknown): event is EventObject {
  return typeof event === "object" && event !== null && "action" in event;
}

function layoutOf(e: EventObject, fileCount: number): ShardLayout {
  const filesPerShard = integerField(e, "files_per_shard", 0, 1, fileCount);
  const shardCount = integerField(e, "shard_count", 0, 1, fileCount);
  if (shardCount !== Math.ceil(fileCount / filesPerShard)) {
    throw new ValidationError("shard_count", `shard_count must be ceil(file_count / files_per_shard) = ${Math.ceil(fileCount / filesPerShard)} (got ${shardCount})`);
  }
  return { filesPerShard, shardCount };
}

/** The generate event a step was given, with the run id defaulting to the execution's name. */
function requestOf(e: EventObject): { raw: EventObject; event: EventObject } {
  const raw = e.request ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ValidationError("request", `request must be a generate event object (got ${describe(raw)})`);
  const name = typeof e.execution_name === "string" ? e.execution_name : undefined;
  return { raw: raw as EventObject, event: { ...(name && !("run_id" in raw) ? { run_id: name } : {}), ...(raw as EventObject) } };
}

async function planOf(event: EventObject, deps: FanOutDeps): Promise<RunPlan> {
  const custom = await resolveDataset(event, deps.loadDataset);
  return planRun(parseGenerateRequest(event, deps.defaults, deps.context, custom), deps.configuredPrefix);
}

export async function fanOutAction(event: EventObject, deps: FanOutDeps) {
  const e = eventObject(event, ["action", "request", "execution_name", "shard", "files_per_shard", "shard_count"]);
  const action = e.action as FanOutAction;
  if (!FANOUT_ACTIONS.includes(action)) {
    throw new ValidationError("action", `action must be one of ${FANOUT_ACTIONS.join(", ")} (got ${describe(e.action)})`);
  }
  const { raw, event: generateEvent } = requestOf(e);
  if (raw.scenario !== undefined) return scenarioAction(action, e, generateEvent, deps);
  const plan = await planOf(generateEvent, deps);
  const { request } = plan;
  if (action === "plan") {
    const layout = layoutByTime(plan.files.length, plan.fileBytes, deps.memoryMb, deps.remainingMs() / 1000, deps.cores, deps.concurrency, plan.request);
    return {
      action,
      // The request with its identity fixed, for every shard and the manifest step.
      // (everything as given, plus the run id, seed and time of day it resolved to).
      request: {
        ...raw,
        seed: request.seed,
        run_id: request.runId,
        time: timeOf(request),
      },
      shard_count: layout.shardCount,
      files_per_shard: layout.filesPerShard,
      shards: Array.from({ length: layout.shardCount }, (_, k) => k),
    };
  }
  const layout = layoutOf(e, plan.files.length);
  if (action === "shard") {
    const shard = integerField(e, "shard", -1, 0, layout.shardCount - 1);
    const { first, end } = shardRange(layout, plan.files.length, shard);
    assertFitsInTime({ ...plan, files: plan.files.slice(first, end) }, deps.memoryMb, deps.cores, deps.remainingMs());
    const outcome = await runShard(plan, layout, shard, deps.sink, deps.pool);
    const body = { ...responseBody(outcome), action, shard, skipped: outcome.written.filter((f) => f.skipped).length };
    if (outcome.failures.length > 0) {
      throw new RunFailedError(`shard ${shard}: ${outcome.failures.length} of ${outcome.plan.files.length} files failed (run ${request.runId}): ${outcome.failures[0]?.error}`);
    }
    return body;
  }
  const manifest = await writeManifest(plan, layout, deps.sink);
  return { action, status: manifest.status, run_id: request.runId, manifest_key: manifest.key, missing_shards: manifest.missingShards, totals: manifest.totals };
}

/** The scenario a step names, loaded from the bucket and planned: every dataset with one identity. */
async function scenarioRunOf(event: EventObject, deps: FanOutDeps): Promise<{ run: ScenarioRun; sha256: string }> {
  const { scenario, scenario_sha256: pinned, ...rest } = event;
  if (typeof scenario !== "string") throw new ValidationError("scenario", `scenario must be the name of a stored scenario (got ${describe(scenario)})`);
  if (pinned !== undefined && (typeof pinned !== "string" || !/^[0-9a-f]{64}$/.test(pinned))) {
    throw new ValidationError("scenario_sha256", `scenario_sha256 must be 64 lowercase hex digits, the SHA-256 of the stored scenario's text (got ${describe(pinned)})`);
  }
  if (!deps.loadScenario) throw new ValidationError("scenario", "scenario is not available here: a scenario is read from the bucket by the deployed function");
  const loaded = await deps.loadScenario(scenario);
  // Every step of a run reads the scenario again: the plan pins the text it planned, so a scenario
  // changed mid-run fails the steps after it (and the run, ShardsMissing) instead of mixing two worlds.
  if (pinned !== undefined && pinned !== loaded.sha256) {
    throw new ValidationError(
      "scenario_sha256",
      `the stored scenario ${scenario} changed since this run was planned (sha256 ${pinned.slice(0, 12)}…, now ${loaded.sha256.slice(0, 12)}…): start a new run, or put the planned text back to resume`,
    );
  }
  return { run: planScenarioRun(loaded, rest, deps.defaults, deps.context, deps.configuredPrefix), sha256: loaded.sha256 };
}

/**
 * The fan-out of a whole scenario: one Map over every dataset's shards. The plan lays out each
 * dataset by its own file size and format (slots shared by each dataset's share of the work) and
 * numbers the shards one dataset after another; `files_per_shard` is one per dataset.
 */
async function scenarioAction(action: FanOutAction, e: EventObject, event: EventObject, deps: FanOutDeps) {
  const { run, sha256 } = await scenarioRunOf(event, deps);
  const first = run.datasets[0]!.plan.request;
  if (action === "plan") {
    const work = run.datasets.map((d) => (d.plan.files.length * d.plan.fileBytes) / rateOf(d.plan.request));
    const all = work.reduce((a, b) => a + b, 0);
    const layouts = run.datasets.map((d, i) => {
      const slots = Math.max(1, Math.round((deps.concurrency * (work[i] as number)) / all));
      try {
        return layoutByTime(d.plan.files.length, d.plan.fileBytes, deps.memoryMb, deps.remainingMs() / 1000, deps.cores, slots, d.plan.request);
      } catch (err) {
        if (err instanceof ValidationError) throw new ValidationError(err.field, `dataset ${d.name} of scenario ${run.scenario}: ${err.message}`);
        throw err;
      }
    });
    const layout = joinLayouts(run, layouts);
    await assertSameScenarioAsFailedRun(run, deps.sink, sha256);
    return {
      action,
      // The request with its identity fixed, as for one dataset: every shard plans the same run.
      request: { ...(e.request as EventObject), seed: first.seed, run_id: first.runId, time: timeOf(first), scenario_sha256: sha256 },
      scenario: run.scenario,
      shard_count: layout.shardCount,
      files_per_shard: layout.datasets.map((d) => d.layout.filesPerShard),
      shards: Array.from({ length: layout.shardCount }, (_, k) => k),
      datasets: layout.datasets.map((d, i) => ({ dataset: d.name, files: run.datasets[i]!.plan.files.length, shard_count: d.layout.shardCount, first_shard: d.firstShard })),
    };
  }
  const layout = scenarioLayoutOf(run, e.files_per_shard, e.shard_count);
  if (action === "shard") {
    const shard = integerField(e, "shard", -1, 0, layout.shardCount - 1);
    const { index, local } = locateShard(layout, shard);
    const { plan } = run.datasets[index]!;
    const own = layout.datasets[index]!.layout;
    const { first: from, end } = shardRange(own, plan.files.length, local);
    assertFitsInTime({ ...plan, files: plan.files.slice(from, end) }, deps.memoryMb, deps.cores, deps.remainingMs());
    const outcome = await runShard(plan, own, local, deps.sink, deps.pool, undefined, scenarioShardResultKey(run, shard));
    const body = { ...responseBody(outcome), action, shard, dataset: run.datasets[index]!.name, skipped: outcome.written.filter((f) => f.skipped).length };
    if (outcome.failures.length > 0) {
      throw new RunFailedError(`shard ${shard} (${body.dataset}): ${outcome.failures.length} of ${outcome.plan.files.length} files failed (run ${first.runId}): ${outcome.failures[0]?.error}`);
    }
    return body;
  }
  const manifest = await writeScenarioManifest(run, layout, deps.sink, sha256);
  return {
    action,
    status: manifest.status,
    run_id: first.runId,
    scenario: run.scenario,
    manifest_key: manifest.key,
    missing_shards: manifest.missingShards,
    totals: manifest.totals,
    datasets: Object.fromEntries(Object.entries(manifest.datasets).map(([name, d]) => [name, { status: d.status, missing_shards: d.missingShards, totals: d.totals }])),
  };
}
