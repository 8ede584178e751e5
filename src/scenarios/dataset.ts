import type { Dataset, FileContext, RecordWriter } from "../records/dataset";
import type { Prng } from "../core/prng";
import { compileScenario, rootOf, type Scenario, type ScenarioDataset } from "./compile";
import { World } from "./world";

/** What a file's identity carries for a scenario dataset: the scenario document and which dataset. */
export interface ScenarioRef {
  readonly scenario: unknown;
  readonly dataset: string;
  /** A backfill: its first day and how many days (each file's own day is its identity's `datePrefix`). */
  readonly range?: ScenarioRange;
}

export interface ScenarioRange {
  readonly from: string;
  readonly days: number;
}

const DAY_MS = 86_400_000;
const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);

export const isScenarioRef = (schema: unknown): schema is ScenarioRef => typeof schema === "object" && schema !== null && "scenario" in schema && "dataset" in schema;

/** Compiled once per thread and kept by the document's text, like a schema. */
const scenarios = new Map<string, Scenario>();
const datasets = new Map<string, Dataset>();
let lastWorld: { key: string; world: World } | undefined;

export function scenarioOf(doc: unknown): Scenario {
  const key = JSON.stringify(doc);
  let scenario = scenarios.get(key);
  if (!scenario) scenarios.set(key, (scenario = compileScenario(doc)));
  return scenario;
}

/** The world of a file: kept while a thread writes files of the same scenario, seed and day (its entity caches with it). */
function worldFor(scenario: Scenario, ctx: FileContext, range: ScenarioRange | undefined): World {
  const datePrefix = range ? range.from : ctx.datePrefix;
  const key = JSON.stringify([scenario.name, ctx.seed, datePrefix, range?.days, ctx.secondOfDay !== undefined]);
  if (lastWorld?.key !== key || lastWorld.world.scenario !== scenario) {
    const id = { seed: ctx.seed, datePrefix, ...(ctx.secondOfDay ? { secondOfDay: ctx.secondOfDay } : {}), ...(range ? { days: range.days } : {}) };
    lastWorld = { key, world: new World(scenario, id) };
  }
  return lastWorld.world;
}

/**
 * The entities file f of F of backfill day k holds: those filed under day k (see
 * `World.filingDay`) among the descendants of the roots that may have some on day k (`World.rootsFor`:
 * the roots of the days before it that its time rules reach back to, and its own), which the day's
 * files split evenly — a child of an earlier day's root may fall on this day. Returns the paths in order
 * and how many there are; each candidate's day is computed once.
 */
function backfillPaths(world: World, d: ScenarioDataset, range: ScenarioRange, ctx: FileContext): { count: number; paths: Iterator<readonly number[]> } {
  const k = Math.round((dayMs(ctx.datePrefix) - dayMs(range.from)) / DAY_MS);
  if (!(k >= 0 && k < range.days)) throw new Error(`${d.name}: day ${ctx.datePrefix} is outside the backfill from ${range.from} for ${range.days} days`);
  const [first, end] = world.rootsFor(d, k);
  const [a, b] = World.rootRange(end - first, ctx.fileIndex, ctx.fileCount);
  const [from, to] = [first + a, first + b];
  const keep: boolean[] = [];
  let count = 0;
  for (const path of world.paths(d, from, to)) {
    const mine = world.filingDay(d, path) === k;
    keep.push(mine);
    if (mine) count++;
  }
  const all = world.paths(d, from, to);
  let i = 0;
  const paths: Iterator<readonly number[]> = {
    next() {
      for (let next = all.next(); !next.done; next = all.next()) if (keep[i++]) return next;
      return { done: true, value: undefined };
    },
  };
  return { count, paths };
}

/**
 * One dataset of a scenario as a Dataset: file f of F holds the entities under roots
 * [f·N/F, (f+1)·N/F) of its root dataset, in path order — so the files of a dataset, concatenated,
 * are the same records however many files (or shards) there are.
 */
export function scenarioDataset(ref: ScenarioRef): Dataset {
  const key = `${JSON.stringify(ref.scenario)}\n${ref.dataset}\n${ref.range ? `${ref.range.from}/${ref.range.days}` : ""}`;
  let dataset = datasets.get(key);
  if (dataset) return dataset;
  const scenario = scenarioOf(ref.scenario);
  const d = scenario.datasets.get(ref.dataset);
  if (!d) throw new Error(`scenario ${scenario.name} has no dataset "${ref.dataset}"`);
  const roots = rootOf(scenario, d).count as number;
  dataset = {
    name: d.name,
    tail: "}",
    padding: null,
    required: d.schema.required,
    columns: d.schema.columns,
    open(ctx: FileContext, _rng: Prng): RecordWriter {
      const world = worldFor(scenario, ctx, ref.range);
      let paths: Iterator<readonly number[]>;
      let count: number;
      if (ref.range) {
        ({ paths, count } = backfillPaths(world, d, ref.range, ctx));
      } else {
        const [from, to] = World.rootRange(roots, ctx.fileIndex, ctx.fileCount);
        paths = world.paths(d, from, to);
        count = world.countIn(d, from, to);
      }
      const counts = { orphan: 0, dangling: 0 };
      return {
        count,
        head() {
          const next = paths.next();
          if (next.done) throw new Error(`${d.name}: asked for more records than its file holds`);
          const { text, links } = world.record(d, next.value);
          if (links.ghostParent) counts.orphan++;
          for (const r of d.references) if ((links.picks.get(r.name) as number) >= (scenario.datasets.get(r.dataset)?.count as number)) counts.dangling++;
          return text.slice(0, -1);
        },
        linkCounts() {
          return Object.fromEntries(Object.entries(counts).filter(([k, n]) => n > 0 || (k === "orphan" ? d.orphans > 0 : d.references.some((r) => r.dangling > 0))));
        },
      };
    },
  };
  datasets.set(key, dataset);
  return dataset;
}
