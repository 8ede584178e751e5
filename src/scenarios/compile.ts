import { ValidationError } from "../core/errors";
import { describe } from "../core/fields";
import { LIMITS } from "../core/limits";
import { compileSchema, type CompiledSchema, type ExternalEntity } from "../schema/compile";
import { protoKeyPath } from "../schema/limits";
import { didYouMean } from "../core/suggest";
import { parseChildCount, type ChildCount } from "./distributions";

/**
 * A scenario: several datasets and how they relate, in one file (YAML or JSON, the schema
 * language's rules). See docs/scenarios.md.
 *
 * ```yaml
 * name: shop
 * datasets:
 *   users:  { count: 1000, fields: { user_id: { sequence: {} }, signup_at: { timestamp: iso } } }
 *   orders:
 *     parent: users
 *     per_parent: { distribution: poisson, mean: 3 }
 *     fields:
 *       user_id: { ref: users.user_id }
 *       placed_at: { timestamp: { after: users.signup_at, within: 30d } }
 * ```
 */

export const SCENARIO_LIMITS = Object.freeze({
  MAX_DATASETS: 16,
  /** Levels below a root: users → sessions → page_views is 2. */
  MAX_DEPTH: 4,
  MAX_ROOT_COUNT: 1e9,
  /** Descendants one root may have in one dataset (product of the per-parent maxima): bounds any one file. */
  MAX_DESCENDANTS_PER_ROOT: 1_000_000,
  MAX_REFERENCES: 8,
});

const SCENARIO_KEYS = ["name", "description", "datasets"];
const DATASET_KEYS = ["description", "count", "parent", "per_parent", "orphans", "references", "files", "required", "fields"];
const REFERENCE_KEYS = ["dataset", "skew", "dangling"];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Dataset names become key prefix folders and reference roots: no dots. */
const DATASET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** How a reference picks among a root dataset's entities. */
export type Skew = { readonly kind: "uniform" } | { readonly kind: "zipf"; readonly s: number };

export interface Reference {
  /** The name fields use to read it (`{ ref: product.name }`). */
  readonly name: string;
  readonly dataset: string;
  readonly skew: Skew;
  /** Share of picks that name an entity that does not exist (counted as `dangling`). */
  readonly dangling: number;
}

export interface ScenarioDataset {
  readonly name: string;
  readonly description?: string;
  /** Roots: how many entities. */
  readonly count?: number;
  /** Children: the parent dataset and how many children each parent has. */
  readonly parent?: string;
  readonly perParent?: ChildCount;
  /** Share of children whose parent does not exist (counted as `orphan`). */
  readonly orphans: number;
  readonly references: readonly Reference[];
  /** Files to write (else the planner sizes them). */
  readonly files?: number;
  /** The datasets from its root down to itself. */
  readonly lineage: readonly string[];
  /** Entity numbers: a child's is its parent's × stride + its position + 1. */
  readonly stride: number;
  readonly schema: CompiledSchema;
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  /** In declared order. */
  readonly datasets: ReadonlyMap<string, ScenarioDataset>;
}

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new ValidationError(path, `${path}: ${message}`);
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function rate(path: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1) fail(path, `must be a rate from 0 to 1 (got ${describe(v)})`);
  return v;
}

/** True when a parsed document is a scenario rather than a single dataset schema. */
export const isScenarioDocument = (doc: unknown): boolean => isObj(doc) && "datasets" in doc && !("fields" in doc);

/** The root dataset of a lineage. */
export const rootOf = (scenario: Scenario, d: ScenarioDataset): ScenarioDataset => scenario.datasets.get(d.lineage[0] as string) as ScenarioDataset;

/** Expected entities of a dataset: its root count times the mean children per parent down its lineage. */
export function expectedCount(scenario: Scenario, d: ScenarioDataset): number {
  return d.lineage.reduce((n, name) => {
    const x = scenario.datasets.get(name) as ScenarioDataset;
    return x.count ?? n * (x.perParent as ChildCount).mean;
  }, 0);
}

/**
 * Checks a scenario document and compiles each dataset's schema with its parents and references
 * as the related entities its fields may read. Throws a ValidationError naming the path.
 */
export function compileScenario(input: unknown, where = "scenario"): Scenario {
  if (!isObj(input)) fail(where, `a scenario must be an object with name and datasets (got ${describe(input)})`);
  const proto = protoKeyPath(input, where);
  if (proto !== undefined) fail(proto, `"__proto__" is not allowed as a name`);
  for (const k of Object.keys(input)) if (!SCENARIO_KEYS.includes(k)) fail(`${where}.${k}`, `unknown key "${k}"${didYouMean(k, SCENARIO_KEYS)}; allowed: ${SCENARIO_KEYS.join(", ")}`);
  const name = input.name;
  if (typeof name !== "string" || !NAME.test(name)) fail(`${where}.name`, `must be 1-64 letters, digits, ". _ -" (got ${describe(name)})`);
  const docs = input.datasets;
  if (!isObj(docs) || Object.keys(docs).length === 0) fail(`${where}.datasets`, `must be an object of datasets by name (got ${describe(docs)})`);
  const names = Object.keys(docs);
  if (names.length > SCENARIO_LIMITS.MAX_DATASETS) fail(`${where}.datasets`, `has ${names.length} datasets; a scenario may have at most ${SCENARIO_LIMITS.MAX_DATASETS}`);

  // First the structure: names, roots and parents, references — and that nothing depends on itself.
  const shapes = new Map<string, { doc: Obj; path: string; edges: string[] }>();
  for (const n of names) {
    const path = `${where}.datasets.${n}`;
    if (!DATASET_NAME.test(n)) fail(path, `a dataset name must be 1-64 letters, digits, "_" or "-", starting with a letter (got "${n}")`);
    const doc = docs[n];
    if (!isObj(doc)) fail(path, `must be an object with fields and either count or parent (got ${describe(doc)})`);
    for (const k of Object.keys(doc)) if (!DATASET_KEYS.includes(k)) fail(`${path}.${k}`, `unknown key "${k}"${didYouMean(k, DATASET_KEYS)}; allowed: ${DATASET_KEYS.join(", ")}`);
    if ((doc.count === undefined) === (doc.parent === undefined)) fail(path, "needs either count (a root dataset) or parent (a child dataset), not both");
    const edges: string[] = [];
    if (doc.parent !== undefined) {
      if (typeof doc.parent !== "string" || !names.includes(doc.parent))
        fail(`${path}.parent`, `must name another dataset of the scenario${didYouMean(String(doc.parent), names)} (got ${describe(doc.parent)}; datasets: ${names.join(", ")})`);
      if (doc.per_parent === undefined) fail(`${path}.per_parent`, "a child dataset needs per_parent: a whole number, or { distribution: fixed | uniform | poisson | zipf, ... }");
      edges.push(doc.parent);
    } else if (doc.per_parent !== undefined || doc.orphans !== undefined) {
      fail(`${path}.${doc.per_parent !== undefined ? "per_parent" : "orphans"}`, "applies to a child dataset (one with parent)");
    }
    if (doc.references !== undefined) {
      if (!isObj(doc.references)) fail(`${path}.references`, `must be an object of name: { dataset, skew, dangling } (got ${describe(doc.references)})`);
      for (const [alias, r] of Object.entries(doc.references)) {
        if (isObj(r) && typeof r.dataset === "string") edges.push(r.dataset);
        else fail(`${path}.references.${alias}`, `must be { dataset: <a root dataset>, skew?, dangling? } (got ${describe(r)})`);
      }
    }
    shapes.set(n, { doc, path, edges });
  }
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (n: string, trail: string[]) => {
    if (state.get(n) === "done") return;
    const shape = shapes.get(n);
    if (!shape) return;
    if (state.get(n) === "visiting") fail(`${where}.datasets.${n}`, `depends on itself through ${[...trail, n].join(" → ")}: parents and references must not form a cycle`);
    state.set(n, "visiting");
    for (const e of shape.edges) visit(e, [...trail, n]);
    state.set(n, "done");
    order.push(n);
  };
  for (const n of names) visit(n, []);

  const compiled = new Map<string, ScenarioDataset>();
  for (const n of order) {
    const { doc, path } = shapes.get(n) as { doc: Obj; path: string };
    const parent = doc.parent as string | undefined;
    const parentDataset = parent === undefined ? undefined : (compiled.get(parent) as ScenarioDataset);
    const lineage = parentDataset ? [...parentDataset.lineage, n] : [n];
    if (lineage.length - 1 > SCENARIO_LIMITS.MAX_DEPTH) fail(`${path}.parent`, `${lineage.join(" → ")} is ${lineage.length - 1} levels below its root; at most ${SCENARIO_LIMITS.MAX_DEPTH}`);
    let count: number | undefined;
    if (doc.count !== undefined) {
      count = doc.count as number;
      if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > SCENARIO_LIMITS.MAX_ROOT_COUNT)
        fail(`${path}.count`, `must be a whole number from 1 to ${SCENARIO_LIMITS.MAX_ROOT_COUNT} (got ${describe(count)})`);
    }
    const perParent = doc.per_parent === undefined ? undefined : parseChildCount(`${path}.per_parent`, doc.per_parent);
    const stride = perParent ? 10 ** String(perParent.max).length : 1;
    const externals = new Map<string, ExternalEntity>();
    for (const a of lineage.slice(0, -1)) externals.set(a, compiled.get(a) as ScenarioDataset);
    const references: Reference[] = [];
    if (isObj(doc.references)) {
      const refs = Object.entries(doc.references);
      if (refs.length > SCENARIO_LIMITS.MAX_REFERENCES) fail(`${path}.references`, `has ${refs.length} references; at most ${SCENARIO_LIMITS.MAX_REFERENCES}`);
      for (const [alias, r] of refs as [string, Obj][]) {
        const rp = `${path}.references.${alias}`;
        if (!DATASET_NAME.test(alias)) fail(rp, `a reference name must be letters, digits, "_" or "-", starting with a letter (got "${alias}")`);
        if (externals.has(alias)) fail(rp, `"${alias}" is already the name of ${lineage.includes(alias) ? "a parent dataset" : "another reference"}`);
        for (const k of Object.keys(r)) if (!REFERENCE_KEYS.includes(k)) fail(`${rp}.${k}`, `unknown key "${k}"${didYouMean(k, REFERENCE_KEYS)}; allowed: ${REFERENCE_KEYS.join(", ")}`);
        const target = compiled.get(r.dataset as string);
        if (!target) fail(`${rp}.dataset`, `must name a dataset of the scenario${didYouMean(String(r.dataset), names)} (got ${describe(r.dataset)})`);
        if (target.count === undefined) fail(`${rp}.dataset`, `"${target.name}" is a child dataset; a reference picks among a root dataset's entities (one with count)`);
        references.push({ name: alias, dataset: target.name, skew: parseSkew(`${rp}.skew`, r.skew), dangling: rate(`${rp}.dangling`, r.dangling) });
        externals.set(alias, target);
      }
    }
    const schema = compileSchema(
      { name: n, ...(doc.required !== undefined ? { required: doc.required } : {}), fields: doc.fields, ...(typeof doc.description === "string" ? { description: doc.description } : {}) },
      path,
      { externals, scenario: true },
    );
    const dataset: ScenarioDataset = {
      name: n,
      ...(typeof doc.description === "string" ? { description: doc.description } : {}),
      ...(count !== undefined ? { count } : {}),
      ...(parent !== undefined ? { parent } : {}),
      ...(perParent ? { perParent } : {}),
      orphans: rate(`${path}.orphans`, doc.orphans),
      references,
      lineage,
      stride,
      schema,
    };
    checkBounds(compiled, dataset, path);
    if (doc.files !== undefined) {
      const root = count ?? (compiled.get(lineage[0] as string) as ScenarioDataset).count ?? 1;
      const max = Math.min(LIMITS.MAX_FILE_COUNT, root);
      const files = doc.files;
      if (typeof files !== "number" || !Number.isInteger(files) || files < 1 || files > max)
        fail(`${path}.files`, `must be a whole number from 1 to ${max} (files split the ${lineage[0]} entities; got ${describe(files)})`);
      compiled.set(n, { ...dataset, files });
    } else {
      compiled.set(n, dataset);
    }
  }
  return {
    name,
    ...(typeof input.description === "string" ? { description: input.description } : {}),
    datasets: new Map(names.map((n) => [n, compiled.get(n) as ScenarioDataset])),
  };
}

function parseSkew(path: string, v: unknown): Skew {
  if (v === undefined || v === "uniform") return { kind: "uniform" };
  if (isObj(v) && Object.keys(v).length === 1 && "zipf" in v) {
    const s = v.zipf;
    if (typeof s !== "number" || !Number.isFinite(s) || s <= 0 || s > 10) fail(`${path}.zipf`, `must be an exponent above 0 and at most 10, e.g. 1.1 (got ${describe(s)})`);
    return { kind: "zipf", s };
  }
  fail(path, `must be uniform or { zipf: s } (got ${describe(v)})`);
}

/** Entity numbers must stay exact (below 2^53, ghosts included) and one root's subtree bounded. */
function checkBounds(compiled: ReadonlyMap<string, ScenarioDataset>, d: ScenarioDataset, path: string): void {
  const chain = d.lineage.map((n) => (n === d.name ? d : (compiled.get(n) as ScenarioDataset)));
  const root = chain[0] as ScenarioDataset;
  // Ghost parents (orphans, dangling picks) are numbered from count + 1 up to 2 × count.
  const largest = chain.slice(1).reduce((n, x) => n * x.stride, 2 * (root.count as number));
  if (largest > Number.MAX_SAFE_INTEGER) {
    fail(path, `entity numbers would reach ${largest.toExponential(2)}, beyond exact whole numbers (2^53): lower ${root.name}.count or the per_parent maxima`);
  }
  const perRoot = chain.slice(1).reduce((n, x) => n * (x.perParent as ChildCount).max, 1);
  if (perRoot > SCENARIO_LIMITS.MAX_DESCENDANTS_PER_ROOT) {
    fail(
      `${path}.per_parent`,
      `one ${root.name} entity can have up to ${perRoot} ${d.name} (the per_parent maxima multiplied); at most ${SCENARIO_LIMITS.MAX_DESCENDANTS_PER_ROOT}, as every file holds whole ${root.name}`,
    );
  }
}
