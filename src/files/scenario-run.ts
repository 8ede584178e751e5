import { ValidationError } from "../core/errors";
import { describe, type EventObject } from "../core/fields";
import type { ResolvedDataset } from "../records/dataset";
import type { LoadedScenario } from "../scenarios/plan";
import { sinkFor, type SinkSpec } from "../sinks";
import { presentKeys } from "../sinks/sink";
import { parametersOf, readShardResults, shardLines, totalsOf, type ManifestOutcome, type ManifestTotals, type ShardLayout } from "./fan-out";
import { planRun, type RunPlan } from "./plan";
import { normaliseKeyPrefix, parseDateRange, parseGenerateRequest, type RequestContext, type RequestDefaults } from "./request";

/** One dataset of a scenario run: its plan (under `{prefix}{dataset}/`) and what it is expected to hold. */
export interface ScenarioRunDataset {
  readonly name: string;
  readonly plan: RunPlan;
  readonly expectedRecords: number;
  readonly bytes: number;
}

/** Every dataset of a scenario, planned with one identity (run id, seed, day, time of day). */
export interface ScenarioRun {
  readonly scenario: string;
  /** The configured prefix and the request's own: each dataset's files go under `{prefix}{dataset}/`, the run's manifest under `{prefix}_manifests/`. */
  readonly prefix: string;
  readonly datasets: readonly ScenarioRunDataset[];
}

/** Fields of a generate request that a scenario decides itself, with why. */
const DECIDED_BY_SCENARIO: readonly (readonly [string, string])[] = [
  ["file_count", "each dataset's files are sized from target_size_mb, or set by its `files`"],
  ["dataset", "the scenario names its datasets"],
];

/**
 * Plans every dataset of a scenario from one generate event (the CLI's flags or the fan-out's
 * request, without `scenario`): each through the same request validation as a single dataset, all
 * with the first dataset's run id, seed, day and time of day, so their entities agree. Throws a
 * `ValidationError` naming the field before anything is written.
 */
export function planScenarioRun(loaded: LoadedScenario, event: EventObject, defaults: RequestDefaults, context: RequestContext, configuredPrefix: string): ScenarioRun {
  // Loaded here, not at the top: the fan-out of a built-in dataset never loads the scenario compiler (nor faker).
  const { assertFilesFit, planScenario } = require("../scenarios/plan") as typeof import("../scenarios/plan");
  for (const [field, why] of DECIDED_BY_SCENARIO) {
    if (event[field] !== undefined) throw new ValidationError(field, `${field} does not apply to a scenario (${why})`);
  }
  const { key_prefix: keyPrefix, ...rest } = event;
  if (keyPrefix !== undefined && typeof keyPrefix !== "string") throw new ValidationError("key_prefix", `key_prefix must be a string (got ${describe(keyPrefix)})`);
  const userPrefix = normaliseKeyPrefix("key_prefix", keyPrefix ?? "");
  const asked = rest.target_size_mb;
  // Sizing needs a valid size; the request check below names a bad one.
  const sizeMb = asked === undefined ? defaults.targetSizeMb : typeof asked === "number" && asked > 0 ? asked : defaults.targetSizeMb;
  // A backfill (date_from, date_to): one world over its days, each dataset's files per day.
  const days = parseDateRange(rest, 1)?.length ?? 1;
  const runs = planScenario(loaded, sizeMb, days);
  if (asked === undefined || asked === sizeMb) assertFilesFit(loaded, runs, sizeMb, "target_size_mb", days);
  const identity: EventObject = { ...rest };
  const datasets = runs.map((run) => {
    const request = parseGenerateRequest(
      { ...identity, dataset: run.resolved.name, file_count: run.files, key_prefix: `${userPrefix}${run.name}/` },
      defaults,
      context,
      run.resolved as ResolvedDataset,
    );
    // One identity for every dataset: the first request's (derived when not given).
    Object.assign(identity, { run_id: request.runId, seed: request.seed, ...(rest.date_from === undefined ? { date_prefix: request.datePrefix } : {}), time: timeOf(request) });
    return { name: run.name, plan: planRun(request, configuredPrefix), expectedRecords: run.expectedRecords, bytes: run.size.bytes };
  });
  return { scenario: loaded.scenario.name, prefix: configuredPrefix + userPrefix, datasets };
}

/** The run's instant as the `time` field: its day and time of day. */
export function timeOf(request: { readonly datePrefix: string; readonly hhmmss: string }): string {
  const t = request.hhmmss;
  return `${request.datePrefix}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`;
}

/** A scenario's shards: each dataset's own layout, numbered one after another into one Map. */
export interface ScenarioLayout {
  readonly shardCount: number;
  readonly datasets: readonly { readonly name: string; readonly layout: ShardLayout; readonly firstShard: number }[];
}

/** Numbers each dataset's shards after the previous dataset's. */
export function joinLayouts(run: ScenarioRun, layouts: readonly ShardLayout[]): ScenarioLayout {
  let next = 0;
  const datasets = run.datasets.map((d, i) => {
    const layout = layouts[i] as ShardLayout;
    const entry = { name: d.name, layout, firstShard: next };
    next += layout.shardCount;
    return entry;
  });
  return { shardCount: next, datasets };
}

/**
 * The layout a shard or manifest step was given: `files_per_shard` one per dataset in the
 * scenario's order, `shard_count` their shards' sum. Anything else is refused, naming the field.
 */
export function scenarioLayoutOf(run: ScenarioRun, filesPerShard: unknown, shardCount: unknown): ScenarioLayout {
  const n = run.datasets.length;
  if (!Array.isArray(filesPerShard) || filesPerShard.length !== n) {
    throw new ValidationError(
      "files_per_shard",
      `files_per_shard must list ${n} whole numbers, one per dataset of scenario ${run.scenario} (${run.datasets.map((d) => d.name).join(", ")}) (got ${describe(filesPerShard)})`,
    );
  }
  const layouts = run.datasets.map((d, i) => {
    const fps = filesPerShard[i];
    const files = d.plan.files.length;
    if (typeof fps !== "number" || !Number.isInteger(fps) || fps < 1 || fps > files) {
      throw new ValidationError("files_per_shard", `files_per_shard[${i}] (${d.name}) must be a whole number from 1 to ${files} (got ${describe(fps)})`);
    }
    return { filesPerShard: fps, shardCount: Math.ceil(files / fps) };
  });
  const joined = joinLayouts(run, layouts);
  if (shardCount !== joined.shardCount) {
    throw new ValidationError("shard_count", `shard_count must be the datasets' shards added up, ${joined.shardCount} (got ${describe(shardCount)})`);
  }
  return joined;
}

/** Which dataset global shard k belongs to, and its shard number within that dataset. */
export function locateShard(layout: ScenarioLayout, shard: number): { index: number; local: number } {
  const index = layout.datasets.findIndex((d) => shard >= d.firstShard && shard < d.firstShard + d.layout.shardCount);
  if (!Number.isInteger(shard) || index < 0) throw new ValidationError("shard", `shard must be a whole number from 0 to ${layout.shardCount - 1} (got ${describe(shard)})`);
  return { index, local: shard - (layout.datasets[index] as ScenarioLayout["datasets"][number]).firstShard };
}

const runIdOf = (run: ScenarioRun) => (run.datasets[0] as ScenarioRunDataset).plan.request.runId;
export const scenarioManifestKey = (run: ScenarioRun) => `${run.prefix}_manifests/${runIdOf(run)}.json`;
export const scenarioFailedManifestKey = (run: ScenarioRun) => `${run.prefix}_manifests/${runIdOf(run)}.failed.json`;
/** Shard k's result, numbered across the scenario: the run has one folder of shard results, as it has one manifest. */
export const scenarioShardResultKey = (run: ScenarioRun, shard: number) => `${run.prefix}_manifests/${runIdOf(run)}/shards/${String(shard).padStart(5, "0")}.json`;

export interface ScenarioManifestOutcome extends ManifestOutcome {
  readonly datasets: Readonly<Record<string, { status: "completed" | "failed"; missingShards: readonly number[]; totals: ManifestTotals }>>;
}

/**
 * One manifest for the whole scenario at `{prefix}_manifests/{run_id}.json`: per dataset its
 * parameters, shards, files (key, bytes, records, sha256) and totals, and the run's totals. With
 * a shard of any dataset missing, `{run_id}.failed.json` instead, naming the missing shards (by
 * their number in the Map and per dataset), and no manifest.
 */
export async function writeScenarioManifest(run: ScenarioRun, layout: ScenarioLayout, sinkSpec: SinkSpec, scenarioSha256: string): Promise<ScenarioManifestOutcome> {
  const sink = sinkFor(sinkSpec);
  const keys = Array.from({ length: layout.shardCount }, (_, k) => scenarioShardResultKey(run, k));
  const read = await readShardResults(sinkSpec, keys);
  const first = (run.datasets[0] as ScenarioRunDataset).plan.request;
  const parts = run.datasets.map((d, i) => {
    const { layout: own, firstShard } = layout.datasets[i] as ScenarioLayout["datasets"][number];
    const results = read.results.slice(firstShard, firstShard + own.shardCount);
    // Missing shards by their number in the Map.
    const missing = results.flatMap((r, k) => (r ? [] : [k + firstShard]));
    const files = results.flatMap((r) => r?.files ?? []);
    const status = missing.length > 0 ? ("failed" as const) : ("completed" as const);
    return { d, own, firstShard, results, missing, status, files, totals: totalsOf(files, d.plan.request) };
  });
  // Every dataset has the request's format and dirt, so the run's totals are those of all its files.
  const totals = totalsOf(read.files, first);
  const status = read.missing.length > 0 ? "failed" : "completed";
  const datasets = Object.fromEntries(
    parts.map((p) => [
      p.d.name,
      {
        dataset: p.d.plan.request.dataset,
        status: p.status,
        parameters: parametersOf(p.d.plan),
        shard_count: p.own.shardCount,
        files_per_shard: p.own.filesPerShard,
        first_shard: p.firstShard,
        ...(p.missing.length > 0
          ? { missing_shards: p.missing, files_missing: p.d.plan.files.length - p.files.length, totals: p.totals }
          : { totals: p.totals, shards: shardLines(p.results).map((s) => ({ ...s, shard: s.shard + p.firstShard, dataset_shard: s.shard })), files: p.files }),
      },
    ]),
  );
  const header = {
    run_id: first.runId,
    scenario: run.scenario,
    scenario_sha256: scenarioSha256,
    seed: first.seed,
    date_prefix: first.datePrefix,
    hhmmss: first.hhmmss,
    key_prefix: run.prefix,
    status,
    shard_count: layout.shardCount,
  };
  const outcomes = Object.fromEntries(parts.map((p) => [p.d.name, { status: p.status, missingShards: p.missing, totals: p.totals }]));
  if (status === "failed") {
    const key = scenarioFailedManifestKey(run);
    await sink.putJson(key, { ...header, missing_shards: read.missing, totals, datasets });
    return { status, key, missingShards: read.missing, totals, datasets: outcomes };
  }
  const key = scenarioManifestKey(run);
  await sink.putJson(key, { ...header, totals, datasets });
  await sink.remove(scenarioFailedManifestKey(run));
  return { status, key, missingShards: [], totals, datasets: outcomes };
}

/**
 * Refuses to resume a failed run against a stored scenario that has changed since: its files
 * would come from two worlds under one run id. The failed manifest names the text it was run from.
 */
export async function assertSameScenarioAsFailedRun(run: ScenarioRun, sinkSpec: SinkSpec, sha256: string): Promise<void> {
  const key = scenarioFailedManifestKey(run);
  const sink = sinkFor(sinkSpec);
  if (!(await presentKeys(sink, [key])).has(key)) return;
  const failed = (await sink.getJson(key)) as { scenario_sha256?: unknown } | undefined;
  if (failed?.scenario_sha256 !== undefined && failed.scenario_sha256 !== sha256) {
    throw new ValidationError(
      "scenario",
      `run ${runIdOf(run)} failed with another text of scenario ${run.scenario} (sha256 ${String(failed.scenario_sha256).slice(0, 12)}…, now ${sha256.slice(0, 12)}…): resume it with that text, or start a new run_id`,
    );
  }
}
