import { basename } from "node:path";
import { DATASET_NAMES } from "../src/datasets/names";
import { ValidationError } from "../src/errors";
import { RecordSource } from "../src/render";
import { parseGenerateRequest } from "../src/request";
import { fileDatasetLoader, readSchemaFile, resolveDataset, resolveSchemaText } from "../src/schema/resolve";
import { badInput, crashed, EXIT, eventFrom, numeric, parsePairs } from "./common";

export interface PreviewFlags {
  dataset?: string;
  n?: string;
  seed?: string;
  date?: string;
  dailyCurve?: boolean;
  dirty?: string;
}

const FLAGS: Record<string, string> = { dataset: "--dataset", seed: "--seed", date_prefix: "--date", dirty: "--dirty", daily_curve: "--daily-curve" };

/**
 * `synthgen preview`: the first records of file 0 of a run, exactly as `generate` would write
 * them with the same flags (dataset, seed, date, dirt, curve), one NDJSON line each on stdout.
 */
export async function runPreviewCommand(flags: PreviewFlags): Promise<number> {
  try {
    const n = numeric(flags.n ?? "5");
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 10_000) throw new ValidationError("-n", `-n must be a whole number from 1 to 10000 (got "${flags.n}")`);
    const event = eventFrom({ dataset: flags.dataset, seed: numeric(flags.seed) ?? 1, date_prefix: flags.date, daily_curve: flags.dailyCurve, dirty: parsePairs("--dirty", flags.dirty), run_id: "preview", file_count: 1 });
    const custom = await resolveDataset(event, fileDatasetLoader);
    const r = parseGenerateRequest(event, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() }, custom);
    const source = new RecordSource({
      dataset: r.dataset,
      seed: r.seed,
      runId: r.runId,
      datePrefix: r.datePrefix,
      hhmmss: r.hhmmss,
      fileIndex: 0,
      fileCount: 1,
      ...(r.schema !== undefined ? { schema: r.schema } : {}),
      ...(r.dirty ? { dirty: r.dirty } : {}),
      ...(r.dailyCurve ? { dailyCurve: true } : {}),
    });
    let out = "";
    for (let i = 0, lines = 0; lines < n; i++) {
      const { text } = source.line(i);
      for (const line of text.slice(0, -1).split("\n")) if (lines++ < n) out += `${line}\n`;
    }
    process.stdout.write(out);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ValidationError) return badInput(err, FLAGS);
    return crashed(err);
  }
}

/** `synthgen validate FILE`: checks a dataset schema; prints its fields, or the first error with a suggestion. */
export async function runValidateCommand(file: string): Promise<number> {
  if (DATASET_NAMES.includes(file)) {
    process.stdout.write(`${file}: built-in dataset\n`);
    return EXIT.OK;
  }
  try {
    const text = await readSchemaFile("dataset", file);
    const { name, schema } = resolveSchemaText(text, basename(file));
    const fields = Object.keys((schema as { fields: Record<string, unknown> }).fields);
    process.stdout.write(`${file}: ok — dataset "${name}", ${fields.length} fields: ${fields.join(", ")}\n`);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ValidationError) return badInput(err, {});
    return crashed(err);
  }
}
