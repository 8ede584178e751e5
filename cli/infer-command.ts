import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { ValidationError } from "../src/core/errors";
import { resolveSchemaText } from "../src/catalog/resolve";
import { isDatabaseUrl, parseDatabaseTarget } from "../src/databases/target";
import { loadScenarioText } from "../src/scenarios/plan";
import { badInput, crashed, EXIT, numeric } from "./common";

/** `synthgen infer` flags, as commander hands them over. */
export interface InferFlags {
  name?: string;
  out?: string;
  records?: string;
  force?: boolean;
}

const FLAGS = { source: "source", name: "--name", out: "--out", records: "--records" };

/** A dataset or scenario name from a file's name: letters, digits, "_" and "-", starting with a letter. */
function nameFrom(path: string): string {
  const stem = basename(path, extname(path))
    .replace(/[^A-Za-z0-9_-]+/g, "_")
    .replace(/^[^A-Za-z]+/, "");
  return (stem || "inferred").slice(0, 64);
}

/** Schema files infer reads whole: at most this many bytes. */
const MAX_SCHEMA_BYTES = 1024 * 1024;

/**
 * The parsed schema when the source is a schema rather than a sample: an `.avsc` file, or a JSON
 * file that is one JSON Schema or Avro document (a `.json` sample holds one record a line).
 */
async function schemaDocument(source: string): Promise<unknown> {
  const ext = extname(source).toLowerCase();
  if (ext !== ".avsc" && ext !== ".json") return undefined;
  const { readText } = require("../src/sinks/local") as typeof import("../src/sinks/local");
  const { isAvroSchema, isJsonSchema } = require("../src/infer/schemas") as typeof import("../src/infer/schemas");
  let text: string;
  try {
    text = await readText(source, MAX_SCHEMA_BYTES);
  } catch (err) {
    throw new ValidationError("source", `cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    if (ext === ".avsc") throw new ValidationError("source", `${basename(source)} is not JSON: an Avro schema (.avsc) is a JSON document`);
    return undefined;
  }
  if (isAvroSchema(doc) || isJsonSchema(doc)) return doc;
  if (ext === ".avsc") throw new ValidationError("source", `${basename(source)}: an Avro schema for infer is a record: { "type": "record", "name": …, "fields": [ … ] }`);
  return undefined;
}

/** YAML with each field's settings on one line (`{ number: { min: 1, max: 3 } }`), as the examples are written. */
function yamlText(document: Record<string, unknown>): string {
  const YAML = require("yaml") as typeof import("yaml");
  const doc = new YAML.Document(document, { aliasDuplicateObjects: false });
  YAML.visit(doc, {
    Pair(_, pair) {
      // A field's spec (under fields:, or an object's fields) is one flow mapping unless it nests fields.
      const value = pair.value;
      if (YAML.isMap(value) && !value.items.some((p) => YAML.isScalar(p.key) && ["object", "array", "fields", "datasets", "references", "per_parent"].includes(String(p.key.value)))) {
        const inField = YAML.isScalar(pair.key) && !["fields", "datasets", "references"].includes(String(pair.key.value));
        if (inField) value.flow = true;
      }
      if (YAML.isSeq(value)) value.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/**
 * `synthgen infer SOURCE`: a dataset file from a sample (NDJSON or CSV), or a scenario file from a
 * PostgreSQL database (postgres://, pglite://). The file is checked the way `validate` checks one
 * before it is written (to --out, never over an existing file without --force, or to stdout).
 */
export async function runInferCommand(source: string, flags: InferFlags): Promise<number> {
  let text: string;
  let summary: string;
  let schema: unknown;
  try {
    if (flags.name !== undefined && !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(flags.name))
      throw new ValidationError("name", `--name must be 1-64 letters, digits, "_" or "-", starting with a letter (got "${flags.name}")`);
    if (flags.out !== undefined && existsSync(flags.out) && flags.force !== true) throw new ValidationError("out", `${flags.out} exists; give --force to replace it`);
    if (isDatabaseUrl(source)) {
      const target = parseDatabaseTarget("source", source);
      const { inferScenario } = require("../src/infer/database") as typeof import("../src/infer/database");
      const { document, notes } = await inferScenario(target, flags.name ?? (target.kind === "pglite" ? nameFrom(target.dir) : nameFrom(new URL(source).pathname.slice(1) || "database")));
      text = `# ${String(document.description)}\n${yamlText(document)}`;
      loadScenarioText(text, flags.out ?? "inferred.yaml", "source");
      const datasets = document.datasets as Record<string, unknown>;
      summary = `a scenario of ${Object.keys(datasets).length} datasets (${Object.keys(datasets).join(", ")})${notes.length ? `; ${notes.join("; ")}` : ""}`;
    } else if (extname(source).toLowerCase() === ".sql") {
      const { readText } = require("../src/sinks/local") as typeof import("../src/sinks/local");
      const ddl = await readText(source, MAX_SCHEMA_BYTES).catch((err: NodeJS.ErrnoException) => {
        throw new ValidationError("source", `cannot read ${source}: ${err.code ?? err.message}`);
      });
      const { inferScenarioFromDdl } = require("../src/infer/database") as typeof import("../src/infer/database");
      const { document, notes } = await inferScenarioFromDdl(ddl, basename(source), flags.name ?? nameFrom(source));
      text = `# ${String(document.description)}\n${yamlText(document)}`;
      loadScenarioText(text, flags.out ?? "inferred.yaml", "source");
      const datasets = document.datasets as Record<string, unknown>;
      summary = `a scenario of ${Object.keys(datasets).length} datasets (${Object.keys(datasets).join(", ")}) from PostgreSQL DDL${notes.length ? `; ${notes.join("; ")}` : ""}`;
    } else if ((schema = await schemaDocument(source)) !== undefined) {
      const { fromAvro, fromJsonSchema, isAvroSchema } = require("../src/infer/schemas") as typeof import("../src/infer/schemas");
      const name = flags.name ?? nameFrom(source.replace(/\.schema\.json$/i, ".json"));
      const document = isAvroSchema(schema) ? fromAvro(schema, name, basename(source)) : fromJsonSchema(schema, name, basename(source));
      text = `# ${document.description}\n${yamlText(document as unknown as Record<string, unknown>)}`;
      resolveSchemaText(text, flags.out ?? "inferred.yaml");
      summary = `a dataset of ${Object.keys(document.fields).length} fields from the ${isAvroSchema(schema) ? "Avro" : "JSON"} schema`;
    } else {
      if (flags.records !== undefined) {
        const n = numeric(flags.records);
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1_000_000)
          throw new ValidationError("records", `--records must be a whole number from 1 to 1000000 (got "${flags.records}")`);
      }
      const { datasetDocument, profileSample, SAMPLE_LIMITS } = require("../src/infer/sample") as typeof import("../src/infer/sample");
      const profile = await profileSample(source, flags.records === undefined ? SAMPLE_LIMITS.DEFAULT_RECORDS : Number(flags.records));
      const document = datasetDocument(flags.name ?? nameFrom(source), basename(source), profile);
      text = `# ${document.description}\n${yamlText(document)}`;
      resolveSchemaText(text, flags.out ?? "inferred.yaml");
      summary = `a dataset of ${Object.keys(document.fields).length} fields from ${profile.records.toLocaleString("en-US")} records${profile.skipped ? ` (${profile.skipped} lines skipped: not JSON objects)` : ""}`;
    }
  } catch (err) {
    if (err instanceof ValidationError) return badInput(err, FLAGS);
    return crashed(err);
  }
  if (flags.out === undefined) process.stdout.write(text);
  else await writeFile(flags.out, text);
  process.stderr.write(`synthgen: inferred ${summary}${flags.out ? `; wrote ${flags.out}` : ""}\n`);
  return EXIT.OK;
}
