import type { Dataset } from "./dataset";
import { DATASET_NAMES } from "./names";
import { webEvents } from "./web-events";

export type { Dataset, FileContext, RecordWriter } from "./dataset";

export { DATASET_NAMES } from "./names";

/** The implementations; a test checks this map and `DATASET_NAMES` agree. */
export const DATASETS: ReadonlyMap<string, Dataset> = new Map([[webEvents.name, webEvents]]);

/** The dataset with this name; callers validate the name first, so an unknown one is a bug. */
export function datasetByName(name: string): Dataset {
  const dataset = DATASETS.get(name);
  if (!dataset) throw new Error(`unknown dataset "${name}" (known: ${DATASET_NAMES.join(", ")})`);
  return dataset;
}
