import { parse as parseYaml } from "yaml";
import { ValidationError } from "../core/errors";
import type { Dataset, FileContext, RecordWriter } from "../records/dataset";
import type { Prng } from "../core/prng";
import { compileSchema, type RecordScope } from "./compile";
import { SCHEMA_LIMITS } from "./limits";

/**
 * A schema as a dataset. Compiled once per thread and kept by its text, so every file a worker
 * writes with the same schema reuses the closures.
 */
const compiled = new Map<string, Dataset>();

export function schemaDataset(schema: unknown): Dataset {
  const key = JSON.stringify(schema);
  let dataset = compiled.get(key);
  if (!dataset) {
    const c = compileSchema(schema);
    dataset = {
      name: c.schema.name,
      tail: "}",
      padding: null,
      required: c.required,
      columns: c.columns,
      open: (ctx: FileContext, rng: Prng): RecordWriter => {
        const [y, m, d] = ctx.datePrefix.split("-").map(Number) as [number, number, number];
        const scope: RecordScope = {
          rng,
          index: 0,
          fileIndex: ctx.fileIndex,
          values: {},
          dayStartMs: Date.UTC(y, m - 1, d),
          secondOfDay: ctx.secondOfDay ? () => (ctx.secondOfDay as (r: Prng) => number)(rng) : () => rng.int(86_400),
        };
        return {
          head(i: number) {
            scope.index = i;
            return c.recordHead(scope);
          },
          row: () => c.lastRow(),
        };
      },
    };
    compiled.set(key, dataset);
  }
  return dataset;
}

/** A schema from its text: YAML (of which JSON is a subset). Plain data only: no tags run code. */
export function parseSchemaText(text: string, where: string, field = "dataset"): unknown {
  if (text.length > SCHEMA_LIMITS.MAX_SCHEMA_BYTES) {
    throw new ValidationError(field, `${where}: a schema may be at most ${SCHEMA_LIMITS.MAX_SCHEMA_BYTES} bytes (got ${text.length})`);
  }
  try {
    return parseYaml(text, { schema: "core", merge: false, maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new ValidationError(field, `${where}: not valid YAML or JSON: ${(err as Error).message.split("\n")[0]}`);
  }
}
