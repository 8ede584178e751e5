import { leavesOf, type Column, type Leaf } from "../records/columns";
import type { LoadedScenario } from "../scenarios/plan";

/** The SQL dialects synthgen loads: PostgreSQL (a server, or PGlite in-process) and MySQL / MariaDB. */
export type Dialect = "postgres" | "mysql";

/** A table's column: a dataset's leaf (a struct's leaves flattened to `parent.child`, as CSV headers are). */
export interface TableColumn {
  readonly name: string;
  readonly path: readonly string[];
  readonly type: Leaf["type"];
}

/** A foreign key a scenario's relation implies: `column` holds the key of `references` (its `key` column). */
export interface ForeignKey {
  readonly column: string;
  readonly references: string;
  readonly key: string;
  /** Why values of `column` may name no row of `references`: the scenario asks for orphans or dangling picks. */
  readonly dangles?: string;
}

/** What one dataset of a run becomes in a database. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly TableColumn[];
  /** A column every row holds a distinct value in: a scenario's `sequence` field. */
  readonly primaryKey?: string;
  readonly foreignKeys: readonly ForeignKey[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A single dataset's table: no key (its sequences restart in every file), no relations. */
export function datasetTable(name: string, columns: readonly Column[]): TableSpec {
  return { name, columns: leavesOf(columns), foreignKeys: [] };
}

/**
 * The tables of a scenario, parents before children (and a reference's dataset before the datasets
 * that pick from it). A dataset's key is its first `sequence` field (an entity's number, distinct
 * for every entity; not with a step of 0 or a null probability). A `ref` field that reads another
 * dataset's key is a foreign key to it; it may dangle when a dataset between the two asks for
 * orphans, or the reference it goes through for dangling picks.
 */
export function scenarioTables(loaded: LoadedScenario): TableSpec[] {
  const { scenario } = loaded;
  const docs = (loaded.doc as { datasets: Record<string, Obj> }).datasets;
  const fieldsOf = (name: string): Obj => (isObj(docs[name]?.fields) ? (docs[name].fields as Obj) : {});
  const keys = new Map<string, string>();
  for (const d of scenario.datasets.values()) {
    const key = Object.entries(fieldsOf(d.name)).find(([, spec]) => isObj(spec) && "sequence" in spec && !spec.null_probability && (!isObj(spec.sequence) || spec.sequence.step !== 0));
    if (key) keys.set(d.name, key[0]);
  }
  const order: string[] = [];
  const visit = (name: string) => {
    if (order.includes(name)) return;
    const d = scenario.datasets.get(name);
    if (!d) return;
    for (const p of d.lineage.slice(0, -1)) visit(p);
    for (const r of d.references) visit(r.dataset);
    order.push(name);
  };
  for (const name of scenario.datasets.keys()) visit(name);

  return order.map((name) => {
    const d = scenario.datasets.get(name) as NonNullable<ReturnType<typeof scenario.datasets.get>>;
    const foreignKeys: ForeignKey[] = [];
    for (const [field, spec] of Object.entries(fieldsOf(name))) {
      if (!isObj(spec) || typeof spec.ref !== "string") continue;
      const [via, target] = spec.ref.split(".");
      const reference = d.references.find((r) => r.name === via);
      const references = reference ? reference.dataset : d.lineage.includes(via as string) ? (via as string) : undefined;
      if (references === undefined || references === name || keys.get(references) !== target) continue;
      let dangles: string | undefined;
      if (reference && reference.dangling > 0) dangles = `${name}.references.${via}.dangling is ${reference.dangling}`;
      if (!reference) {
        const below = d.lineage.slice(d.lineage.indexOf(references) + 1);
        const orphaned = below.find((n) => (scenario.datasets.get(n)?.orphans ?? 0) > 0);
        if (orphaned) dangles = `${orphaned}.orphans is ${scenario.datasets.get(orphaned)?.orphans}`;
      }
      foreignKeys.push({ column: field, references, key: target as string, ...(dangles ? { dangles } : {}) });
    }
    const primaryKey = keys.get(name);
    return { name, columns: leavesOf(d.schema.columns), ...(primaryKey ? { primaryKey } : {}), foreignKeys };
  });
}

/** A quoted identifier: `"orders"` in PostgreSQL, `` `orders` `` in MySQL (quotes inside doubled). */
export function ident(dialect: Dialect, name: string): string {
  return dialect === "postgres" ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll("`", "``")}\``;
}

/** The name `CREATE TABLE` gives a foreign key, as PostgreSQL would name it itself. */
export const foreignKeyName = (table: string, fk: ForeignKey): string => `${table}_${fk.column}_fkey`.slice(0, 63);

/**
 * A leaf's column type. MySQL needs a length on a key (and on a column that refers to one) and
 * keeps times as DATETIME(3) in UTC; a `json` column is JSON in both.
 */
export function sqlType(dialect: Dialect, type: TableColumn["type"], keyed: boolean): string {
  switch (type) {
    case "string":
      return dialect === "postgres" ? "text" : keyed ? "varchar(255)" : "text";
    case "int":
      return "bigint";
    case "double":
      return dialect === "postgres" ? "double precision" : "double";
    case "boolean":
      return "boolean";
    case "timestamp":
      return dialect === "postgres" ? "timestamptz" : "datetime(3)";
    case "json":
      return dialect === "postgres" ? "jsonb" : "json";
  }
}

/**
 * `CREATE TABLE` for a table: every column nullable but the key, the primary key, and the foreign
 * keys whose values the scenario keeps whole (one that may dangle is left out: the rows the scenario
 * asks for could not be written under it).
 */
export function createTableSql(dialect: Dialect, table: TableSpec): string {
  const q = (n: string) => ident(dialect, n);
  const keyed = new Set([table.primaryKey, ...table.foreignKeys.map((f) => f.column)]);
  const lines = table.columns.map((c) => `${q(c.name)} ${sqlType(dialect, c.type, keyed.has(c.name))}${c.name === table.primaryKey ? " NOT NULL" : ""}`);
  if (table.primaryKey) lines.push(`PRIMARY KEY (${q(table.primaryKey)})`);
  for (const fk of table.foreignKeys) {
    if (!fk.dangles) lines.push(`CONSTRAINT ${q(foreignKeyName(table.name, fk))} FOREIGN KEY (${q(fk.column)}) REFERENCES ${q(fk.references)} (${q(fk.key)})`);
  }
  return `CREATE TABLE ${q(table.name)} (\n  ${lines.join(",\n  ")}\n)`;
}
