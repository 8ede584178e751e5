import type { Dataset } from "./dataset";
import { webEvents } from "./web-events";

export type { Dataset, FileContext, RecordWriter } from "./dataset";

const DATASETS: ReadonlyMap<string, Dataset> = new Map([[webEvents.name, webEvents]]);

/** Names of the built-in datasets, for validation messages and `--help`. */
export const DATASET_NAMES: readonly string[] = [...DATASETS.keys()];

/** The dataset with this name; callers validate the name first, so an unknown one is a bug. */
export function datasetByName(name: string): Dataset {
  const dataset = DATASETS.get(name);
  if (!dataset) throw new Error(`unknown dataset "${name}" (known: ${DATASET_NAMES.join(", ")})`);
  return dataset;
}
