import { basename } from "node:path";
import { ValidationError } from "../core/errors";
import { hash32 } from "../core/fields";
import { LIMITS, BYTES_PER_MB, formatBytes } from "../core/limits";
import { bytesPerFile, perDay, type ResolvedDataset, type ScenarioSize } from "../records/dataset";
import { compileScenario, expectedCount, rootOf, type Scenario, type ScenarioDataset } from "./compile";
import { scenarioOf } from "./dataset";
import { World } from "./world";

/** A scenario read from its text: the document (what files carry) and its compiled form. */
export interface LoadedScenario {
  readonly doc: unknown;
  readonly scenario: Scenario;
  /** The request field (or flag) the scenario came in by, which its errors name: `dataset`, or the CLI's `scenario`. */
  readonly field: string;
}

/**
 * Parses and checks a scenario's text (YAML or JSON, the schema language's parser and limits).
 * Errors name `field`, the way the scenario came in: a stored scenario's `dataset`, or `--scenario`.
 */
export function loadScenarioText(text: string, where: string, field = "dataset"): LoadedScenario {
  const { parseSchemaText } = require("../schema/dataset") as typeof import("../schema/dataset");
  const doc = parseSchemaText(text, where, field);
  try {
    return { doc, scenario: compileScenario(doc, basename(where)), field };
  } catch (err) {
    if (err instanceof ValidationError && field !== "dataset") throw new ValidationError(field, `${where}: ${err.message}`);
    throw err;
  }
}

/** The largest file there is: a file's target is at most `LIMITS.MAX_TARGET_SIZE_MB`. */
export const MAX_FILE_BYTES = LIMITS.MAX_TARGET_SIZE_MB * BYTES_PER_MB;
/** The most one dataset may hold in a run: the file-count limit's files at the largest file size (9.8 TiB). */
export const MAX_DATASET_BYTES = LIMITS.MAX_FILE_COUNT * MAX_FILE_BYTES;

const count = (n: number) => Math.round(n).toLocaleString("en-US");

/** A world whose first entities size a record: fixed, so a scenario's plan depends on the scenario alone, whatever the seed. */
const samplingWorlds = new WeakMap<Scenario, World>();
function samplingWorld(scenario: Scenario): World {
  let world = samplingWorlds.get(scenario);
  if (!world) samplingWorlds.set(scenario, (world = new World(scenario, { seed: 1, datePrefix: "2000-01-01" })));
  return world;
}

/** What a dataset holds in a run: its expected records × the mean size of a sample of its first records. */
export function scenarioSize(scenario: Scenario, d: ScenarioDataset): ScenarioSize {
  const records = expectedCount(scenario, d);
  const root = rootOf(scenario, d);
  return { records, bytes: records * sampleRecordBytes(samplingWorld(scenario), d), root: root.name, roots: root.count as number, ...(d.files !== undefined ? { files: d.files } : {}) };
}

/**
 * Refuses a dataset no run may write, whatever the size asked for: more than the file-count limit's
 * files of the largest file size, or more per file than a file may be with the dataset's own `files`.
 * A plan's arithmetic only (no entity is made), so the huge scenarios are refused at once.
 */
function assertWritable(scenario: Scenario, d: ScenarioDataset, size: ScenarioSize, field: string): void {
  const what = `${scenario.name}.${d.name} holds about ${count(size.records)} records of ~${count(size.bytes / Math.max(1, size.records))} bytes (~${formatBytes(size.bytes)})`;
  if (size.bytes > MAX_DATASET_BYTES) {
    throw new ValidationError(
      field,
      `${what}, more than a run may write of one dataset: ${count(LIMITS.MAX_FILE_COUNT)} files of at most ${count(LIMITS.MAX_TARGET_SIZE_MB)} MiB (${formatBytes(MAX_DATASET_BYTES)}), about ${Math.ceil(size.bytes / MAX_DATASET_BYTES).toLocaleString("en-US")}× that: give ${size.root} fewer entities (count ${count(size.roots)}) or its descendants fewer children per parent`,
    );
  }
  if (size.files !== undefined && bytesPerFile(size, size.files) > MAX_FILE_BYTES) {
    const needed = Math.ceil(size.bytes / MAX_FILE_BYTES);
    throw new ValidationError(
      field,
      `${what}: in its ${count(size.files)} files (\`files\`) each would take ~${formatBytes(bytesPerFile(size, size.files))}, more than the ${count(LIMITS.MAX_TARGET_SIZE_MB)} MiB a file may be: ${needed <= Math.min(size.roots, LIMITS.MAX_FILE_COUNT) ? `set files to at least ${count(needed)}, or leave it out to size files from the size asked for` : `give ${size.root} ${needed > size.roots ? "more" : "fewer"} entities (count ${count(size.roots)})`}`,
    );
  }
}

/** A scenario's seed when none is given: its name's, so every run of its datasets builds the same world. */
export const scenarioSeed = (name: string): number => hash32(`scenario:${name}`);

/**
 * What a request's `dataset` resolves to for one dataset of a scenario, with what it holds; a
 * dataset no run may write is refused here, before any request is planned.
 */
export function scenarioResolved(loaded: LoadedScenario, dataset: string, known?: ScenarioSize): ResolvedDataset {
  const d = loaded.scenario.datasets.get(dataset);
  if (!d) {
    throw new ValidationError("dataset", `scenario ${loaded.scenario.name} has no dataset "${dataset}"; its datasets: ${[...loaded.scenario.datasets.keys()].join(", ")}`);
  }
  const size = known ?? scenarioSize(loaded.scenario, d);
  assertWritable(loaded.scenario, d, size, loaded.field);
  return {
    name: `${loaded.scenario.name}.${d.name}`,
    schema: { scenario: loaded.doc, dataset: d.name },
    maxRecordBytes: d.schema.maxRecordBytes,
    defaultSeed: scenarioSeed(loaded.scenario.name),
    defaultKeyPrefix: `${d.name}/`,
    size,
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
  /** What the dataset holds: expected records × the sampled record size. */
  readonly size: ScenarioSize;
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
export function planScenario(loaded: LoadedScenario, targetSizeMb: number, days = 1): ScenarioDatasetRun[] {
  const { scenario } = loaded;
  return [...scenario.datasets.values()].map((d) => {
    const size = scenarioSize(scenario, d);
    // A backfill's files are per day, each day holding about 1/days of the dataset.
    const bySize = Math.ceil(size.bytes / days / (targetSizeMb * BYTES_PER_MB));
    const files = d.files ?? Math.max(1, Math.min(size.roots, Math.floor(LIMITS.MAX_FILE_COUNT / days), bySize));
    return {
      name: d.name,
      files,
      expectedRecords: size.records,
      recordBytes: size.bytes / Math.max(1, size.records),
      size,
      resolved: scenarioResolved(loaded, d.name, size),
    };
  });
}

/**
 * Refuses a scenario whose datasets cannot be written in files of the size asked for: more files
 * than the file-count limit, or (a file holding whole roots) files larger than asked. A dataset
 * with its own `files` is sized by them, not by the size asked for. Before anything is written.
 */
export function assertFilesFit(loaded: LoadedScenario, runs: readonly ScenarioDatasetRun[], targetSizeMb: number, field: string, days = 1): void {
  const target = targetSizeMb * BYTES_PER_MB;
  for (const run of runs) {
    const size = perDay(run.size, days);
    if (size.files !== undefined) continue;
    const perFile = bytesPerFile(size, run.files);
    if (perFile <= target) continue;
    const needed = Math.ceil(size.bytes / target);
    const at = `${days > 1 ? `a day of ${days} of ` : ""}${loaded.scenario.name}.${run.name} holds about ${count(size.records)} records (~${formatBytes(size.bytes)})`;
    const atLeast = Math.ceil((perFile / BYTES_PER_MB) * 100) / 100;
    throw new ValidationError(
      field,
      needed > LIMITS.MAX_FILE_COUNT && size.roots > LIMITS.MAX_FILE_COUNT
        ? `${at}: files of ${targetSizeMb} MiB would take ${count(needed)} of them, more than the ${count(LIMITS.MAX_FILE_COUNT)} a dataset may have; in ${count(LIMITS.MAX_FILE_COUNT)} files each would be ~${formatBytes(perFile)}: ask for files of at least ${atLeast} MiB, or give ${size.root} fewer entities (count ${count(size.roots)})`
        : `${at}, and a file holds the ${run.name} of whole ${size.root} (${count(size.roots)} of them), so each of its ${count(run.files)} files would be ~${formatBytes(perFile)}, more than the ${targetSizeMb} MiB asked for: ask for files of at least ${atLeast} MiB, or give ${size.root} more entities`,
    );
  }
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
