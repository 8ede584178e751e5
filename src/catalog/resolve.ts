import { createHash } from "node:crypto";
import { basename } from "node:path";
import { DATASET_NAMES } from "../datasets/names";
import { ValidationError } from "../core/errors";
import type { ResolvedDataset } from "../records/dataset";
import { sinkFor, type SinkSpec } from "../sinks";
import { readText } from "../sinks/local";
import { SCHEMA_LIMITS } from "../schema/limits";
import type { LoadedScenario } from "../scenarios/plan";

/** Finds the declarative dataset a request's `dataset` names; undefined for a built-in or none. */
export type DatasetLoader = (name: string) => Promise<ResolvedDataset | undefined>;

/** Parses and checks a schema's text, so a bad schema is a 400 before anything is written. */
export function resolveSchemaText(text: string, where: string): ResolvedDataset {
  // Loaded here, not at the top: a run of a built-in dataset never loads YAML or faker in its main thread.
  const { parseSchemaText } = require("../schema/dataset") as typeof import("../schema/dataset");
  const { compileSchema } = require("../schema/compile") as typeof import("../schema/compile");
  const schema = parseSchemaText(text, where);
  const compiled = compileSchema(schema, where);
  return { name: compiled.schema.name, schema, maxRecordBytes: compiled.maxRecordBytes };
}

/**
 * One dataset of a scenario's text, as a request's `dataset`; a text that is not a scenario is
 * refused. Errors in the text name `field`: the request's `dataset`, or the CLI's `scenario`.
 */
export function resolveScenarioDataset(text: string, where: string, dataset: string, field = "dataset"): ResolvedDataset {
  const { loadScenarioText, scenarioResolved } = require("../scenarios/plan") as typeof import("../scenarios/plan");
  const { isScenarioDocument } = require("../scenarios/compile") as typeof import("../scenarios/compile");
  const { parseSchemaText } = require("../schema/dataset") as typeof import("../schema/dataset");
  if (!isScenarioDocument(parseSchemaText(text, where, field))) throw new ValidationError(field, `${where} is a dataset schema, not a scenario: name it without ".${dataset}"`);
  return scenarioResolved(loadScenarioText(text, where, field), dataset);
}

/** Raised by a loader that knows which datasets exist, so the 400 can list them. */
export class DatasetNotFound extends Error {
  override readonly name = "DatasetNotFound";
  constructor(readonly stored: readonly string[]) {
    super("dataset not found");
  }
}

/** The `dataset` of an event, loaded when it is not a built-in. */
export async function resolveDataset(event: unknown, load: DatasetLoader | undefined): Promise<ResolvedDataset | undefined> {
  const name = typeof event === "object" && event !== null ? (event as Record<string, unknown>).dataset : undefined;
  if (typeof name !== "string" || DATASET_NAMES.includes(name) || !load) return undefined;
  let found: ResolvedDataset | undefined;
  let stored: readonly string[] | undefined;
  try {
    found = await load(name);
  } catch (err) {
    if (!(err instanceof DatasetNotFound)) throw err;
    stored = err.stored;
  }
  if (!found) throw datasetNotFound(name, stored);
  return found;
}

/** The 400 for a `dataset` that is neither built in nor stored, listing what is stored when that is known. */
export function datasetNotFound(name: string, stored: readonly string[] | undefined): ValidationError {
  const storedText = stored === undefined ? "or a stored dataset" : stored.length ? `or a stored dataset (${stored.join(", ")})` : "or a stored dataset (none stored)";
  return new ValidationError("dataset", `dataset must be one of ${DATASET_NAMES.join(", ")}, ${storedText} (got "${name}": not found)`);
}

export const looksLikePath = (name: string) => /[\\/]/.test(name) || /\.(ya?ml|json)$/i.test(name);

/** A schema file's text, read no further than one byte past the size limit. */
export function readSchemaFile(field: string, path: string): Promise<string> {
  return readText(path, SCHEMA_LIMITS.MAX_SCHEMA_BYTES).catch((err: NodeJS.ErrnoException) => {
    throw new ValidationError(field, `cannot read ${field === "scenario" ? "scenario" : "dataset"} file ${path}: ${err.code ?? err.message}`);
  });
}

/** The CLI's loader: `--dataset ./my-schema.yaml` reads that file. */
export const fileDatasetLoader: DatasetLoader = async (name) => {
  if (!looksLikePath(name)) return undefined;
  const text = await readSchemaFile("dataset", name);
  return resolveSchemaText(text, basename(name));
};

const STORED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DATASET_EXTENSIONS = ["yaml", "yml", "json"] as const;

/** What `{prefix}_datasets/` holds, listed: S3 answers 403, not 404, for a key that does not exist when the role may not list the whole bucket, so only a listed key is read. */
interface StoredFolder {
  readonly folder: string;
  /** The key of stored definition `name` (`name.yaml`, `.yml` or `.json`), if there is one. */
  find(name: string): string | undefined;
  /** The names stored, for the error that lists them. */
  names(): string[];
  /** A listed key's text, read no further than one byte past the size limit: a 50 MB "schema" is refused, not downloaded. */
  read(key: string): Promise<string | undefined>;
}

async function listStored(sink: SinkSpec, prefix: string): Promise<StoredFolder> {
  const folder = `${prefix}_datasets/`;
  const keys = await sinkFor(sink).list(folder);
  return {
    folder,
    find: (name) => DATASET_EXTENSIONS.map((ext) => `${folder}${name}.${ext}`).find((k) => keys.includes(k)),
    names: () => {
      const stored = keys.map((k) => k.slice(folder.length)).filter((k) => DATASET_EXTENSIONS.some((ext) => k.endsWith(`.${ext}`)));
      return [...new Set(stored.map((k) => k.replace(/\.(ya?ml|json)$/, "")))].sort();
    },
    read: (key) => sinkFor(sink).getText(key, SCHEMA_LIMITS.MAX_SCHEMA_BYTES),
  };
}

/** A stored definition as read: its key, its text, and the SHA-256 of the text, which pins it for a run. */
export interface StoredDefinition {
  /** The request's name for it: `readings`, or `shop.orders` for one dataset of scenario shop. */
  readonly name: string;
  readonly key: string;
  readonly text: string;
  readonly sha256: string;
}

export const sha256Of = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * Reads the definition a request's `dataset` names from `{prefix}_datasets/`: `{name}.yaml|.yml|.json`,
 * or `{scenario}.{dataset}` for one dataset of a stored scenario (dataset names have no dots).
 * An unknown name throws `DatasetNotFound` listing what is stored.
 */
export async function readStoredDefinition(sink: SinkSpec, prefix: string, name: string): Promise<StoredDefinition> {
  if (!STORED_NAME.test(name)) {
    throw new ValidationError("dataset", `dataset must be a built-in (${DATASET_NAMES.join(", ")}) or the name of a stored dataset: letters, digits, ". _ -" (got "${name}")`);
  }
  const stored = await listStored(sink, prefix);
  const dot = name.lastIndexOf(".");
  const key = stored.find(name) ?? (dot > 0 ? stored.find(name.slice(0, dot)) : undefined);
  if (key === undefined) throw new DatasetNotFound(stored.names());
  const text = await stored.read(key);
  if (text === undefined) throw new DatasetNotFound([]);
  return { name, key, text, sha256: sha256Of(text) };
}

/** A stored definition's dataset: the schema itself, or the named dataset of a scenario. */
export function resolveStoredDefinition(definition: Pick<StoredDefinition, "name" | "key" | "text">): ResolvedDataset {
  const { name, key, text } = definition;
  const own = key.slice(key.lastIndexOf("/") + 1).replace(/\.(ya?ml|json)$/, "");
  return own === name ? resolveSchemaText(text, key) : resolveScenarioDataset(text, key, name.slice(own.length + 1));
}

/** The functions' loader: a name is a definition stored under `{prefix}_datasets/` (see `readStoredDefinition`). */
export function storedDatasetLoader(sink: SinkSpec, prefix: string): DatasetLoader {
  return async (name) => resolveStoredDefinition(await readStoredDefinition(sink, prefix, name));
}

/** Loads the scenario a request's `scenario` names; errors name `scenario`. */
export type ScenarioLoader = (name: string) => Promise<StoredScenario>;

/** A stored scenario and the SHA-256 of the text it was compiled from, which pins it for a whole run. */
export interface StoredScenario extends LoadedScenario {
  readonly sha256: string;
}

/** The functions' scenario loader: `{prefix}_datasets/{name}.yaml|.yml|.json`, which must be a scenario. */
export function storedScenarioLoader(sink: SinkSpec, prefix: string): ScenarioLoader {
  return async (name) => {
    if (!STORED_NAME.test(name)) {
      throw new ValidationError("scenario", `scenario must be the name of a scenario stored under ${prefix}_datasets/: letters, digits, ". _ -" (got ${JSON.stringify(name).slice(0, 80)})`);
    }
    const stored = await listStored(sink, prefix);
    const key = stored.find(name);
    const text = key === undefined ? undefined : await stored.read(key);
    if (key === undefined || text === undefined) {
      const names = stored.names();
      throw new ValidationError("scenario", `scenario "${name}" is not stored under ${stored.folder} (${names.length ? `stored: ${names.join(", ")}` : "none stored"})`);
    }
    const { loadScenarioText } = require("../scenarios/plan") as typeof import("../scenarios/plan");
    const { isScenarioDocument } = require("../scenarios/compile") as typeof import("../scenarios/compile");
    const { parseSchemaText } = require("../schema/dataset") as typeof import("../schema/dataset");
    if (!isScenarioDocument(parseSchemaText(text, key, "scenario"))) throw new ValidationError("scenario", `${key} is a dataset schema, not a scenario: give it as dataset "${name}"`);
    return { ...loadScenarioText(text, key, "scenario"), sha256: sha256Of(text) };
  };
}
