import { basename } from "node:path";
import { ValidationError } from "../core/errors";
import { hash32 } from "../core/fields";
import { LIMITS, BYTES_PER_MB } from "../core/limits";
import type { ResolvedDataset } from "../records/dataset";
import { compileScenario, expectedCount, rootOf, type Scenario, type ScenarioDataset } from "./compile";
import { scenarioOf } from "./dataset";
import { World } from "./world";

/** A scenario read from its text: the document (what files carry) and its compiled form. */
export interface LoadedScenario {
  readonly doc: unknown;
  readonly scenario: Scenario;
}

/** Parses and checks a scenario's text (YAML or JSON, the schema language's parser and limits). */
export function loadScenarioText(text: string, where: string): LoadedScenario {
  const { parseSchemaText } = require("../schema/dataset") as typeof import("../schema/dataset");
  const doc = parseSchemaText(text, where);
  return { doc, scenario: compileScenario(doc, basename(where)) };
}

/** A scenario's seed when none is given: its name's, so every run of its datasets builds the same world. */
export const scenarioSeed = (name: string): number => hash32(`scenario:${name}`);

/** What a request's `dataset` resolves to for one dataset of a scenario. */
export function scenarioResolved(loaded: LoadedScenario, dataset: string): ResolvedDataset {
  const d = loaded.scenario.datasets.get(dataset);
  if (!d) {
    throw new ValidationError("dataset", `scenario ${loaded.scenario.name} has no dataset "${dataset}"; its datasets: ${[...loaded.scenario.datasets.keys()].join(", ")}`);
  }
  return {
    name: `${loaded.scenario.name}.${d.name}`,
    schema: { scenario: loaded.doc, dataset: d.name },
    maxRecordBytes: d.schema.maxRecordBytes,
    defaultSeed: scenarioSeed(loaded.scenario.name),
    defaultKeyPrefix: `${d.name}/`,
  };
}

/**
 * The records of each of `fileCount` files (or event streams) of a scenario's dataset, for this
 * seed and day. Counting walks every ancestor entity, so a dataset expected to hold far more than
 * `maxRecords` — or with more ancestors than that to walk — is refused before the walk.
 */
export function scenarioRecordCounts(ref: unknown, seed: number, datePrefix: string, fileCount: number, maxRecords: number): number[] {
  const { scenario: doc, dataset } = ref as { scenario: unknown; dataset: string };
  const scenario = scenarioOf(doc);
  const d = scenario.datasets.get(dataset) as ScenarioDataset;
  const walked = d.lineage.slice(0, -1).reduce((n, a) => n + expectedCount(scenario, scenario.datasets.get(a) as ScenarioDataset), 0);
  const expected = expectedCount(scenario, d);
  if (expected > 2 * maxRecords || walked > 4 * maxRecords) {
    throw new ValidationError(
      "dataset",
      `${scenario.name}.${d.name} holds about ${Math.round(expected).toLocaleString("en-US")} entities (under ${Math.round(walked).toLocaleString("en-US")} parents), more than the ${maxRecords.toLocaleString("en-US")} events one run sends`,
    );
  }
  const world = new World(scenario, { seed, datePrefix });
  const roots = rootOf(scenario, d).count as number;
  return Array.from({ length: fileCount }, (_, f) => world.countIn(d, ...World.rootRange(roots, f, fileCount)));
}

/** One dataset of a scenario run: its files and what the request path needs to write them. */
export interface ScenarioDatasetRun {
  readonly name: string;
  readonly files: number;
  /** The expected number of records (root count × mean children per parent down the line). */
  readonly expectedRecords: number;
  /** About how many NDJSON bytes a record takes (from a sample of the first entities). */
  readonly recordBytes: number;
  /** What the request's `dataset` resolves to: the file identity carries scenario and dataset. */
  readonly resolved: ResolvedDataset;
}

/** Entities sampled to estimate a record's size: enough to average, few enough to be instant. */
const SAMPLE_RECORDS = 64;
const SAMPLE_ROOTS = 1000;

/**
 * Sizes each dataset's files. The layout depends on the scenario alone — a fixed world is sampled
 * — so the same scenario and size always give the same files, whatever the seed.
 */
export function planScenario(loaded: LoadedScenario, targetSizeMb: number): ScenarioDatasetRun[] {
  const { scenario } = loaded;
  const world = new World(scenario, { seed: 1, datePrefix: "2000-01-01" });
  return [...scenario.datasets.values()].map((d) => {
    const expectedRecords = expectedCount(scenario, d);
    const recordBytes = sampleRecordBytes(world, d);
    const roots = rootOf(scenario, d).count as number;
    const bySize = Math.ceil((expectedRecords * recordBytes) / (targetSizeMb * BYTES_PER_MB));
    const files = d.files ?? Math.max(1, Math.min(roots, LIMITS.MAX_FILE_COUNT, bySize));
    return {
      name: d.name,
      files,
      expectedRecords,
      recordBytes,
      resolved: scenarioResolved(loaded, d.name),
    };
  });
}

function sampleRecordBytes(world: World, d: ScenarioDataset): number {
  const roots = rootOf(world.scenario, d).count as number;
  let bytes = 0;
  let records = 0;
  for (const path of world.paths(d, 0, Math.min(roots, SAMPLE_ROOTS))) {
    bytes += world.record(d, path).text.length + 1;
    if (++records >= SAMPLE_RECORDS) break;
  }
  return records ? bytes / records : d.schema.maxRecordBytes / 2;
}
