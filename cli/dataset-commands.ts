import { basename } from "node:path";
import { DATASET_NAMES } from "../src/datasets/names";
import { ValidationError } from "../src/core/errors";
import { formatBytes } from "../src/core/limits";
import { datasetOf } from "../src/datasets";
import { RecordSource } from "../src/records/record-source";
import { parseGenerateRequest } from "../src/files/request";
import { fileDatasetLoader, readSchemaFile, resolveDataset, resolveSchemaText } from "../src/catalog/resolve";
import { badInput, crashed, EXIT, eventFrom, numeric, parsePairs } from "./common";

export interface PreviewFlags {
  dataset?: string;
  scenario?: string;
  n?: string;
  seed?: string;
  date?: string;
  dailyCurve?: boolean;
  dirty?: string;
}

const FLAGS: Record<string, string> = { scenario: "--scenario", dataset: "--dataset", seed: "--seed", date_prefix: "--date", dirty: "--dirty", daily_curve: "--daily-curve" };

/**
 * `synthgen preview`: the first records of file 0 of a run, exactly as `generate` would write
 * them with the same flags (dataset, seed, date, dirt, curve), one NDJSON line each on stdout.
 */
export async function runPreviewCommand(flags: PreviewFlags): Promise<number> {
  try {
    const n = numeric(flags.n ?? "5");
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 10_000) throw new ValidationError("-n", `-n must be a whole number from 1 to 10000 (got "${flags.n}")`);
    if (flags.scenario !== undefined) return await previewScenario(flags, n);
    const event = eventFrom({
      dataset: flags.dataset,
      seed: numeric(flags.seed) ?? 1,
      date_prefix: flags.date,
      daily_curve: flags.dailyCurve,
      dirty: parsePairs("--dirty", flags.dirty),
      run_id: "preview",
      file_count: 1,
    });
    const custom = await resolveDataset(event, fileDatasetLoader);
    const r = parseGenerateRequest(event, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() }, custom);
    const id = {
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
    };
    const source = new RecordSource(id, datasetOf(id));
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

/** Children shown per parent and dataset in a scenario preview; the rest are counted. */
const PREVIEW_CHILDREN = 3;

/**
 * `preview --scenario FILE`: the first n entities of its first root dataset, each followed by
 * its descendants (a few per parent), indented — or with `--dataset NAME`, that dataset's first n
 * records as NDJSON, exactly as generate writes them.
 */
async function previewScenario(flags: PreviewFlags, n: number): Promise<number> {
  const { loadScenarioText, planScenario } = require("../src/scenarios/plan") as typeof import("../src/scenarios/plan");
  const { World } = require("../src/scenarios/world") as typeof import("../src/scenarios/world");
  const { curvedSecondOfDay } = require("../src/records/daily-curve") as typeof import("../src/records/daily-curve");
  const loaded = loadScenarioText(await readSchemaFile("scenario", flags.scenario as string), flags.scenario as string, "scenario");
  const { scenario } = loaded;
  const event = eventFrom({ seed: numeric(flags.seed) ?? 1, date_prefix: flags.date, daily_curve: flags.dailyCurve, dirty: parsePairs("--dirty", flags.dirty), run_id: "preview", file_count: 1 });
  if (flags.dataset !== undefined) {
    const run = planScenario(loaded, 1).find((r) => r.name === flags.dataset);
    if (!run) throw new ValidationError("dataset", `--dataset must name a dataset of scenario ${scenario.name}: ${[...scenario.datasets.keys()].join(", ")} (got "${flags.dataset}")`);
    // The first records of the dataset as one file holds them: no file is written, so none is sized.
    const { size: _unsized, ...resolved } = run.resolved;
    const r = parseGenerateRequest({ ...event, dataset: run.resolved.name }, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() }, resolved);
    const id = {
      dataset: r.dataset,
      seed: r.seed,
      runId: r.runId,
      datePrefix: r.datePrefix,
      hhmmss: r.hhmmss,
      fileIndex: 0,
      fileCount: 1,
      schema: r.schema,
      ...(r.dirty ? { dirty: r.dirty } : {}),
      ...(r.dailyCurve ? { dailyCurve: true } : {}),
    };
    const source = new RecordSource(id, datasetOf(id));
    let out = "";
    const total = source.count ?? 0;
    for (let i = 0, lines = 0; lines < n && i < total; i++) {
      const { text } = source.line(i);
      for (const line of text.slice(0, -1).split("\n")) if (lines++ < n) out += `${line}\n`;
    }
    process.stdout.write(out);
    return EXIT.OK;
  }
  if (flags.dirty !== undefined) throw new ValidationError("dirty", "--dirty applies to a dataset's records: add --dataset NAME");
  // A scenario no run may write is refused here as in generate and validate (plan arithmetic only).
  planScenario(loaded, 1);
  const r = parseGenerateRequest(event, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() });
  const world = new World(scenario, { seed: r.seed, datePrefix: r.datePrefix, ...(r.dailyCurve ? { secondOfDay: curvedSecondOfDay } : {}) });
  const all = [...scenario.datasets.values()];
  const root = all.find((d) => d.count !== undefined) as (typeof all)[number];
  let out = "";
  const show = (d: (typeof all)[number], path: number[], depth: number) => {
    out += `${"  ".repeat(depth)}${d.name} ${JSON.stringify(path)} ${world.record(d, path).text}\n`;
    for (const child of all.filter((c) => c.parent === d.name)) {
      const count = world.childCount(child, path);
      for (let j = 0; j < Math.min(count, PREVIEW_CHILDREN); j++) show(child, [...path, j], depth + 1);
      if (count > PREVIEW_CHILDREN) out += `${"  ".repeat(depth + 1)}… ${count - PREVIEW_CHILDREN} more ${child.name}\n`;
    }
  };
  for (let i = 0; i < Math.min(n, root.count as number); i++) show(root, [i], 0);
  process.stdout.write(out);
  return EXIT.OK;
}

/** `synthgen validate FILE`: checks a dataset schema or a scenario; prints what it holds, or the first error with a suggestion. */
export async function runValidateCommand(file: string): Promise<number> {
  if (DATASET_NAMES.includes(file)) {
    process.stdout.write(`${file}: built-in dataset\n`);
    return EXIT.OK;
  }
  try {
    const text = await readSchemaFile("dataset", file);
    const { parseSchemaText } = require("../src/schema/dataset") as typeof import("../src/schema/dataset");
    const { isScenarioDocument } = require("../src/scenarios/compile") as typeof import("../src/scenarios/compile");
    if (isScenarioDocument(parseSchemaText(text, basename(file)))) {
      const { loadScenarioText, planScenario } = require("../src/scenarios/plan") as typeof import("../src/scenarios/plan");
      const loaded = loadScenarioText(text, file);
      const lines = planScenario(loaded, 3.5).map((run) => {
        const d = loaded.scenario.datasets.get(run.name) as NonNullable<ReturnType<typeof loaded.scenario.datasets.get>>;
        const how =
          d.count !== undefined
            ? `${d.count.toLocaleString("en-US")} entities (~${formatBytes(run.size.bytes)})`
            : `~${Math.round(run.expectedRecords).toLocaleString("en-US")} entities (~${formatBytes(run.size.bytes)}), per ${d.parent}: ${JSON.stringify(d.perParent?.spec)}`;
        const refs = d.references.map((x) => `${x.name} → ${x.dataset}${x.skew.kind === "zipf" ? ` (zipf ${x.skew.s})` : ""}`);
        return `  ${run.name}: ${how}${refs.length ? `; references ${refs.join(", ")}` : ""}; ${d.schema.columns.length} fields`;
      });
      process.stdout.write(`${file}: ok — scenario "${loaded.scenario.name}", ${lines.length} datasets:\n${lines.join("\n")}\n`);
      return EXIT.OK;
    }
    const { name, schema } = resolveSchemaText(text, basename(file));
    const fields = Object.keys((schema as { fields: Record<string, unknown> }).fields);
    process.stdout.write(`${file}: ok — dataset "${name}", ${fields.length} fields: ${fields.join(", ")}\n`);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ValidationError) return badInput(err, {});
    return crashed(err);
  }
}
