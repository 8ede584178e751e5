import type { Dataset, FileContext, RecordWriter } from "../records/dataset";
import type { Prng } from "../core/prng";
import { compileScenario, rootOf, type Scenario } from "./compile";
import { World } from "./world";

/** What a file's identity carries for a scenario dataset: the scenario document and which dataset. */
export interface ScenarioRef {
  readonly scenario: unknown;
  readonly dataset: string;
}

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
function worldFor(scenario: Scenario, ctx: FileContext): World {
  const key = JSON.stringify([scenario.name, ctx.seed, ctx.datePrefix, ctx.secondOfDay !== undefined]);
  if (lastWorld?.key !== key || lastWorld.world.scenario !== scenario) {
    lastWorld = { key, world: new World(scenario, { seed: ctx.seed, datePrefix: ctx.datePrefix, ...(ctx.secondOfDay ? { secondOfDay: ctx.secondOfDay } : {}) }) };
  }
  return lastWorld.world;
}

/**
 * One dataset of a scenario as a Dataset: file f of F holds the entities under roots
 * [f·N/F, (f+1)·N/F) of its root dataset, in path order — so the files of a dataset, concatenated,
 * are the same records however many files (or shards) there are.
 */
export function scenarioDataset(ref: ScenarioRef): Dataset {
  const key = `${JSON.stringify(ref.scenario)}\n${ref.dataset}`;
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
      const world = worldFor(scenario, ctx);
      const [from, to] = World.rootRange(roots, ctx.fileIndex, ctx.fileCount);
      const paths = world.paths(d, from, to);
      const counts = { orphan: 0, dangling: 0 };
      return {
        count: world.countIn(d, from, to),
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
