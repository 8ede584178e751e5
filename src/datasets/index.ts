import type { Dataset } from "../records/dataset";
import type { RecordIdentity } from "../records/record-source";
import { DATASET_NAMES } from "./names";

export type { Dataset, FileContext, RecordWriter } from "../records/dataset";

export { DATASET_NAMES } from "./names";

/**
 * Each dataset is loaded on first use: `web-events` builds its faker string pools when its module
 * loads, which the event and metrics functions never need. A test checks this map and
 * `DATASET_NAMES` agree.
 */
const LOADERS: Readonly<Record<string, () => Dataset>> = {
  "web-events": () => (require("./web-events") as typeof import("./web-events")).webEvents,
  "tutoring-events": () => (require("./tutoring-events") as typeof import("./tutoring-events")).tutoringEvents,
  "merchant-metrics": () => (require("./merchant-metrics") as typeof import("./merchant-metrics")).merchantMetrics,
};

export const LOADED_DATASET_NAMES: readonly string[] = Object.keys(LOADERS);

/** The dataset with this name; callers validate the name first, so an unknown one is a bug. */
export function datasetByName(name: string): Dataset {
  const load = LOADERS[name];
  if (!load) throw new Error(`unknown dataset "${name}" (known: ${DATASET_NAMES.join(", ")})`);
  return load();
}

/** The dataset of a file: a built-in, or its declarative schema (whose compiler, and YAML parser, load only then). */
export function datasetOf(id: Pick<RecordIdentity, "dataset" | "schema">): Dataset {
  if (id.schema === undefined) return datasetByName(id.dataset);
  const scenario = require("../scenarios/dataset") as typeof import("../scenarios/dataset");
  if (scenario.isScenarioRef(id.schema)) return scenario.scenarioDataset(id.schema);
  return (require("../schema/dataset") as typeof import("../schema/dataset")).schemaDataset(id.schema);
}
