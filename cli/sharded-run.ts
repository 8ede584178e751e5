import { layoutByCount, runShard, writeManifest } from "../src/files/fan-out";
import { joinLayouts, scenarioShardResultKey, writeScenarioManifest, type ScenarioRun } from "../src/files/scenario-run";
import type { RunPlan } from "../src/files/plan";
import type { FilePool } from "../src/files/pool";
import type { SinkSpec } from "../src/sinks";
import type { progressBar } from "./progress";
import { settleAbandoned, type Interruption } from "./run-guard";

/** What running a plan's shards one after another did. */
export interface ShardedOutcome {
  readonly layout: ReturnType<typeof layoutByCount>;
  readonly written: number;
  readonly skipped: number;
  readonly failed: number;
  /** Set when Ctrl-C or SIGTERM stopped it (files in progress abandoned and settled). */
  readonly stop?: Interruption;
  /** The run manifest, unless interrupted. */
  readonly manifest?: Awaited<ReturnType<typeof writeManifest>>;
  readonly durationMs: number;
}

/**
 * The fan-out's code path run locally: the same shards, shard results and manifest the state
 * machine produces, shards one after another. Files already there are skipped (resume).
 */
export async function executeSharded(
  plan: RunPlan,
  shards: number,
  sink: SinkSpec,
  pool: FilePool,
  progress: ReturnType<typeof progressBar>,
  interrupted: () => Interruption | undefined,
): Promise<ShardedOutcome> {
  const layout = layoutByCount(plan.files.length, shards);
  let written = 0;
  let skipped = 0;
  let failed = 0;
  const abandoned: string[] = [];
  const started = performance.now();
  for (let k = 0; k < layout.shardCount && !interrupted(); k++) {
    const outcome = await runShard(plan, layout, k, sink, pool, (r) => progress.onFileDone(r));
    written += outcome.written.filter((f) => !f.skipped).length;
    skipped += outcome.written.filter((f) => f.skipped).length;
    failed += outcome.failures.length;
    abandoned.push(...outcome.failures.map((f) => f.key));
  }
  const stop = interrupted();
  if (stop) {
    progress.stop();
    written += await settleAbandoned(sink, abandoned);
    return { layout, written, skipped, failed, stop, durationMs: Math.round(performance.now() - started) };
  }
  const manifest = await writeManifest(plan, layout, sink);
  progress.stop();
  return { layout, written, skipped, failed, manifest, durationMs: Math.round(performance.now() - started) };
}

/** What running a whole scenario's shards did, per dataset. */
export interface ScenarioShardedOutcome {
  readonly datasets: readonly { readonly name: string; readonly written: number; readonly skipped: number; readonly failed: number }[];
  readonly stop?: Interruption;
  /** The scenario's one manifest, unless interrupted. */
  readonly manifest?: Awaited<ReturnType<typeof writeScenarioManifest>>;
}

/**
 * A whole scenario as the fan-out state machine runs it, locally: each dataset in `shards` shards,
 * numbered one dataset after another, shard results under the run's one folder and one manifest
 * at `{prefix}_manifests/{run_id}.json` (or `.failed.json` naming what is missing). Resumes.
 */
export async function executeScenarioSharded(
  run: ScenarioRun,
  shards: number,
  sha256: string,
  sink: SinkSpec,
  pool: FilePool,
  progressFor: (files: number) => ReturnType<typeof progressBar>,
  interrupted: () => Interruption | undefined,
): Promise<ScenarioShardedOutcome> {
  const layout = joinLayouts(
    run,
    run.datasets.map((d) => layoutByCount(d.plan.files.length, shards)),
  );
  const datasets: { name: string; written: number; skipped: number; failed: number }[] = [];
  const abandoned: string[] = [];
  for (const [i, d] of run.datasets.entries()) {
    const { layout: own, firstShard } = layout.datasets[i]!;
    const progress = progressFor(d.plan.files.length);
    const counts = { name: d.name, written: 0, skipped: 0, failed: 0 };
    for (let k = 0; k < own.shardCount && !interrupted(); k++) {
      const outcome = await runShard(d.plan, own, k, sink, pool, (r) => progress.onFileDone(r), scenarioShardResultKey(run, firstShard + k));
      counts.written += outcome.written.filter((f) => !f.skipped).length;
      counts.skipped += outcome.written.filter((f) => f.skipped).length;
      counts.failed += outcome.failures.length;
      abandoned.push(...outcome.failures.map((f) => f.key));
    }
    progress.stop();
    datasets.push(counts);
    const stop = interrupted();
    if (stop) {
      counts.written += await settleAbandoned(sink, abandoned);
      return { datasets, stop };
    }
  }
  return { datasets, manifest: await writeScenarioManifest(run, layout, sink, sha256) };
}
