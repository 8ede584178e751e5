import { assertFitsInTime } from "./capacity";
import { RunFailedError, ValidationError } from "../core/errors";
import { layoutByTime, runShard, shardRange, writeManifest, type ShardLayout } from "./fan-out";
import { describe, eventObject, integerField, type EventObject, type RequestContext } from "../core/fields";
import { planRun, type RunPlan } from "./plan";
import type { FilePool } from "./pool";
import { parseGenerateRequest, type RequestDefaults } from "./request";
import { responseBody } from "./run";
import { resolveDataset, type DatasetLoader } from "../catalog/resolve";
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

async function planOf(e: EventObject, deps: FanOutDeps): Promise<{ plan: RunPlan; raw: EventObject }> {
  const raw = e.request ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new ValidationError("request", `request must be a generate event object (got ${describe(raw)})`);
  const name = typeof e.execution_name === "string" ? e.execution_name : undefined;
  const event = { ...(name && !("run_id" in raw) ? { run_id: name } : {}), ...(raw as EventObject) };
  const custom = await resolveDataset(event, deps.loadDataset);
  return { plan: planRun(parseGenerateRequest(event, deps.defaults, deps.context, custom), deps.configuredPrefix), raw: raw as EventObject };
}

export async function fanOutAction(event: EventObject, deps: FanOutDeps) {
  const e = eventObject(event, ["action", "request", "execution_name", "shard", "files_per_shard", "shard_count"]);
  const action = e.action as FanOutAction;
  if (!FANOUT_ACTIONS.includes(action)) {
    throw new ValidationError("action", `action must be one of ${FANOUT_ACTIONS.join(", ")} (got ${describe(e.action)})`);
  }
  const { plan, raw } = await planOf(e, deps);
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
        time: `${request.datePrefix}T${request.hhmmss.slice(0, 2)}:${request.hhmmss.slice(2, 4)}:${request.hhmmss.slice(4, 6)}Z`,
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
