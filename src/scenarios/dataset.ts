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
  // Each root's descendants' days, computed once per thread and world: a backfill's later days walk the same roots again.
  const days = filingDaysOf(world, d);
  let count = 0;
  for (let root = from; root < to; root++) for (const day of days(root)) if (day === k) count++;
  let root = from;
  let own: Int16Array = new Int16Array(0);
  let paths: Iterator<readonly number[]> | undefined;
  let j = 0;
  const next = (): IteratorResult<readonly number[]> => {
    for (;;) {
      if (paths) {
        for (let p = paths.next(); !p.done; p = paths.next()) if (own[j++] === k) return p;
        paths = undefined;
      }
      if (root >= to) return { done: true, value: undefined };
      own = days(root);
      // A root none of whose descendants is on this day is not walked at all.
      if (own.includes(k)) {
        paths = world.paths(d, root, root + 1);
        j = 0;
      }
      root++;
    }
  };
  return { count, paths: { next } };
}

/** Filing days kept per dataset and world: for up to this many roots, and this many entities (2 bytes each); past it they are computed again. */
const MAX_CACHED_ROOTS = 1_000_000;
const MAX_CACHED_DAYS = 8_000_000;

/** One dataset's cached days: a flat pool of Int16 days, and where each root's run of them starts (-1: not yet). */
interface DayCache {
  readonly start: Float64Array;
  readonly length: Int32Array;
  pool: Int16Array;
  used: number;
}
const filingCaches = new WeakMap<World, Map<string, DayCache | null>>();

/** The filing days of `d`'s descendants of one root, in path order (past 32,767 days clamps: a backfill has at most 366). */
function filingDaysOf(world: World, d: ScenarioDataset): (root: number) => Int16Array {
  let perWorld = filingCaches.get(world);
  if (!perWorld) filingCaches.set(world, (perWorld = new Map()));
  let cache = perWorld.get(d.name);
  if (cache === undefined) {
    const roots = world.rootCount(d);
    cache = roots <= MAX_CACHED_ROOTS ? { start: new Float64Array(roots).fill(-1), length: new Int32Array(roots), pool: new Int16Array(1024), used: 0 } : null;
    perWorld.set(d.name, cache);
  }
  const c = cache;
  return (root) => {
    if (c && c.start[root]! >= 0) return c.pool.subarray(c.start[root]!, c.start[root]! + c.length[root]!);
    const days: number[] = [];
    for (const path of world.paths(d, root, root + 1)) days.push(Math.min(32_767, world.filingDay(d, path)));
    if (!c || c.used + days.length > MAX_CACHED_DAYS) return Int16Array.from(days);
    if (c.used + days.length > c.pool.length) {
      const grown = new Int16Array(Math.min(MAX_CACHED_DAYS, Math.max(c.pool.length * 2, c.used + days.length)));
      grown.set(c.pool.subarray(0, c.used));
      c.pool = grown;
    }
    c.pool.set(days, c.used);
    c.start[root] = c.used;
    c.length[root] = days.length;
    c.used += days.length;
    return c.pool.subarray(c.used - days.length, c.used);
  };
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
      const names = d.schema.columns.map((c) => c.name);
      const row: unknown[] = new Array(names.length).fill(undefined);
      let last: Readonly<Record<string, unknown>> = {};
      return {
        count,
        head() {
          const next = paths.next();
          if (next.done) throw new Error(`${d.name}: asked for more records than its file holds`);
          const { text, values, links } = world.record(d, next.value);
          last = values;
          if (links.ghostParent) counts.orphan++;
          for (const r of d.references) if ((links.picks.get(r.name) as number) >= (scenario.datasets.get(r.dataset)?.count as number)) counts.dangling++;
          return text.slice(0, -1);
        },
        row() {
          for (let i = 0; i < names.length; i++) row[i] = last[names[i] as string];
          return row;
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
