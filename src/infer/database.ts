import { ValidationError } from "../core/errors";
import { connect, PGLITE_MEMORY, type Connection } from "../databases/connection";
import { LEDGER_TABLE } from "../databases/load";
import { type Dialect, ident } from "../databases/tables";
import { describeTarget, type DatabaseTarget } from "../databases/target";
import { ddlStatements } from "./ddl";
import { fewWholeNumbers, freeTextSpec, type FieldSpec } from "./fields";
import { OPTIONAL_NULLS } from "./schemas";

/**
 * A scenario from a live database — PostgreSQL (a server, or PGlite), MySQL or MariaDB: its tables as datasets, its
 * foreign keys as parents and references, each child's `per_parent` fitted to the real numbers of
 * children per parent, each column's values from aggregates — counts, ranges, moments, the
 * frequencies of a column's values when it has few. Only aggregates are read, never rows.
 */

type Row = Record<string, unknown>;
interface Column {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  /** varchar(n), char(n): n. */
  readonly length: number | undefined;
}
interface ForeignKey {
  readonly table: string;
  readonly column: string;
  readonly references: string;
  readonly key: string;
}
interface Table {
  readonly name: string;
  readonly columns: Column[];
  primaryKey?: string;
  rows: number;
}

/** An empty table's rows (a DDL file's): a root's count, a child's children per parent. */
const EMPTY_COUNT = 1000;
const EMPTY_PER_PARENT = { distribution: "poisson", mean: 3 };

/** Distinct values a column may have to become a weighted `choice`. */
const MAX_CHOICES = 50;
/** Tables a scenario may hold (SCENARIO_LIMITS.MAX_DATASETS). */
const MAX_TABLES = 16;

const round = (x: number, digits: number) => Number(x.toFixed(digits));
/**
 * What differs between PostgreSQL and MySQL/MariaDB in the aggregate queries. Patterns avoid
 * backslashes (MySQL's string literals read them as escapes) and case (its REGEXP follows the
 * column's collation, usually case-insensitive).
 */
interface Sql {
  readonly dialect: Dialect;
  q(name: string): string;
  /** A value as text. */
  text(expr: string): string;
  /** A number as a double. */
  float(expr: string): string;
  /** True when text matches a regular expression. */
  matches(expr: string, pattern: string): string;
  /** Seconds from b to a (two times). */
  seconds(a: string, b: string): string;
  /** The most digits after the decimal point of a numeric column. */
  decimals(expr: string): string;
}
const POSTGRES: Sql = {
  dialect: "postgres",
  q: (n) => ident("postgres", n),
  text: (e) => `CAST(${e} AS text)`,
  float: (e) => `CAST(${e} AS double precision)`,
  matches: (e, p) => `${e} ~ '${p}'`,
  seconds: (a, b) => `extract(epoch FROM ${a} - ${b})`,
  decimals: (e) => `max(length(split_part(CAST(${e} AS text), '.', 2)))`,
};
const MYSQL: Sql = {
  dialect: "mysql",
  q: (n) => ident("mysql", n),
  text: (e) => `CAST(${e} AS CHAR)`,
  float: (e) => `(${e} + 0e0)`,
  matches: (e, p) => `${e} REGEXP '${p}'`,
  seconds: (a, b) => `TIMESTAMPDIFF(SECOND, ${b}, ${a})`,
  decimals: (e) => `max(CASE WHEN LOCATE('.', CAST(${e} AS CHAR)) > 0 THEN LENGTH(SUBSTRING_INDEX(CAST(${e} AS CHAR), '.', -1)) ELSE 0 END)`,
};
const sqlOf = (conn: Connection): Sql => (conn.dialect === "mysql" ? MYSQL : POSTGRES);
/** How many rows a condition holds for, in either dialect. */
const countWhere = (condition: string) => `coalesce(sum(CASE WHEN ${condition} THEN 1 ELSE 0 END), 0)`;

/** MySQL's column types by the names PostgreSQL's information_schema gives (the rest of infer reads those). */
function mysqlType(dataType: string, columnType: string): string {
  const t = dataType.toLowerCase();
  if (t === "tinyint" && /^tinyint\(1\)/i.test(columnType)) return "boolean";
  if (t === "tinyint" || t === "mediumint" || t === "int") return "integer";
  if (t === "decimal") return "numeric";
  if (t === "float") return "real";
  if (t === "double") return "double precision";
  if (t === "varchar") return "character varying";
  if (t === "char") return "character";
  if (/text$/.test(t) || t === "enum" || t === "set") return "text";
  if (t === "datetime" || t === "timestamp") return "timestamp";
  return t;
}
const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));

const NUMERIC = /^(smallint|integer|bigint|numeric|decimal|real|double precision)$/;
const INTEGER = /^(smallint|integer|bigint)$/;
const TEXT = /^(text|character varying|character|varchar|char|citext|uuid)$/;

/**
 * The catalogue queries of each dialect, giving the same columns: a table's columns
 * (table_name, column_name, data_type, column_type, is_nullable, max_length) and the first column
 * of each primary and foreign key (table_name, kind, column_name, ref_table, ref_column, width).
 */
const CATALOGUE: Record<Dialect, { columns: string; keys: string; type(dataType: string, columnType: string): string }> = {
  postgres: {
    columns: `SELECT c.table_name, c.column_name, c.data_type, c.data_type AS column_type, c.is_nullable, c.character_maximum_length AS max_length
     FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> '${LEDGER_TABLE}' ORDER BY c.table_name, c.ordinal_position`,
    keys: `SELECT rel.relname AS table_name, CASE con.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'FOREIGN KEY' END AS kind, att.attname AS column_name, frel.relname AS ref_table, fatt.attname AS ref_column, array_length(con.conkey, 1) AS width
     FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = rel.relnamespace
     JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
     LEFT JOIN pg_class frel ON frel.oid = con.confrelid LEFT JOIN pg_attribute fatt ON fatt.attrelid = con.confrelid AND fatt.attnum = con.confkey[1]
     WHERE ns.nspname = current_schema() AND con.contype IN ('p', 'f') ORDER BY rel.relname, con.conname`,
    type: (dataType) => dataType,
  },
  mysql: {
    columns: `SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type, c.COLUMN_TYPE AS column_type, c.IS_NULLABLE AS is_nullable, c.CHARACTER_MAXIMUM_LENGTH AS max_length
     FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
     WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_NAME <> '${LEDGER_TABLE}' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
    keys: `SELECT k.TABLE_NAME AS table_name, tc.CONSTRAINT_TYPE AS kind, k.COLUMN_NAME AS column_name, k.REFERENCED_TABLE_NAME AS ref_table, k.REFERENCED_COLUMN_NAME AS ref_column,
            (SELECT count(*) FROM information_schema.KEY_COLUMN_USAGE w WHERE w.TABLE_SCHEMA = k.TABLE_SCHEMA AND w.TABLE_NAME = k.TABLE_NAME AND w.CONSTRAINT_NAME = k.CONSTRAINT_NAME) AS width
     FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND tc.TABLE_NAME = k.TABLE_NAME AND tc.CONSTRAINT_NAME = k.CONSTRAINT_NAME
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.ORDINAL_POSITION = 1 AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'FOREIGN KEY') ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME`,
    type: mysqlType,
  },
};

/** The current schema's (MySQL: database's) tables, their columns by PostgreSQL's type names, single-column keys and row counts. */
async function structure(conn: Connection): Promise<{ tables: Table[]; foreignKeys: ForeignKey[] }> {
  const catalogue = CATALOGUE[conn.dialect];
  const tables = new Map<string, Table>();
  for (const c of await conn.query(catalogue.columns)) {
    const name = String(c.table_name);
    if (!tables.has(name)) tables.set(name, { name, columns: [], rows: 0 });
    const type = catalogue.type(String(c.data_type), String(c.column_type));
    tables.get(name)?.columns.push({
      name: String(c.column_name),
      type,
      nullable: c.is_nullable === "YES",
      length: c.max_length === null || c.max_length === undefined || !/^character/.test(type) ? undefined : num(c.max_length),
    });
  }
  const foreignKeys: ForeignKey[] = [];
  for (const k of await conn.query(catalogue.keys)) {
    if (Number(k.width) !== 1) continue;
    const table = tables.get(String(k.table_name));
    if (!table) continue;
    if (k.kind === "PRIMARY KEY") table.primaryKey = String(k.column_name);
    else if (tables.has(String(k.ref_table))) foreignKeys.push({ table: table.name, column: String(k.column_name), references: String(k.ref_table), key: String(k.ref_column) });
  }
  const { q } = sqlOf(conn);
  for (const t of tables.values()) t.rows = num((await conn.query(`SELECT count(*) AS n FROM ${q(t.name)}`))[0]?.n);
  return { tables: [...tables.values()], foreignKeys };
}

/** The children per parent, as a histogram: how many parents have n children. */
async function childCounts(conn: Connection, child: Table, fk: ForeignKey): Promise<{ histogram: Map<number, number>; orphans: number }> {
  const { q } = sqlOf(conn);
  const rows = await conn.query(
    `SELECT n, count(*) AS parents FROM (SELECT count(c.${q(fk.column)}) AS n FROM ${q(fk.references)} p LEFT JOIN ${q(child.name)} c ON c.${q(fk.column)} = p.${q(fk.key)} GROUP BY p.${q(fk.key)}) x GROUP BY n ORDER BY n`,
  );
  const orphans = await conn.query(
    `SELECT count(*) AS n FROM ${q(child.name)} c WHERE c.${q(fk.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${q(fk.references)} p WHERE p.${q(fk.key)} = c.${q(fk.column)})`,
  );
  return { histogram: new Map(rows.map((r) => [num(r.n), num(r.parents)])), orphans: num(orphans[0]?.n) };
}

/** The per_parent distribution that explains a histogram best (the largest log-likelihood): fixed, uniform or Poisson. */
export function fitChildCount(histogram: ReadonlyMap<number, number>): Record<string, unknown> | number {
  const entries = [...histogram.entries()].filter(([, c]) => c > 0);
  const parents = entries.reduce((n, [, c]) => n + c, 0);
  if (entries.length === 1) return (entries[0] as [number, number])[0];
  const mean = entries.reduce((n, [k, c]) => n + k * c, 0) / Math.max(1, parents);
  const min = Math.min(...entries.map(([k]) => k));
  const max = Math.max(...entries.map(([k]) => k));
  const logFactorial = (k: number) => {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  };
  const poisson = mean > 0 ? entries.reduce((s, [k, c]) => s + c * (k * Math.log(mean) - mean - logFactorial(k)), 0) : -Infinity;
  const uniform = -parents * Math.log(max - min + 1);
  return poisson >= uniform ? { distribution: "poisson", mean: round(mean, 3) } : { distribution: "uniform", min, max };
}

/** What an empty table's column can be, by its type alone (a DDL file's tables): a schema says what values may be, not how often. */
function typeOnlySpec(column: Column): FieldSpec {
  const spec = ((): FieldSpec => {
    const t = column.type;
    if (t === "boolean") return { boolean: { probability: 0.5 } };
    if (/^timestamp/.test(t)) return { timestamp: "iso" };
    if (t === "date") return { timestamp: "date" };
    if (t === "uuid") return { faker: "string.uuid" };
    if (INTEGER.test(t)) return { number: { min: 0, max: 1000, decimals: 0 } };
    if (NUMERIC.test(t)) return { number: { min: 0, max: 1000, decimals: 2 } };
    if (/^json/.test(t)) return { const: {} };
    const byName = freeTextSpec(column.name, 12);
    if (column.length === undefined || typeof byName.faker === "string") return byName;
    return { faker: { method: "string.alphanumeric", args: [{ length: { min: 1, max: Math.min(column.length, 64) } }] } };
  })();
  return column.nullable ? { ...spec, null_probability: OPTIONAL_NULLS } : spec;
}

/** What one column's aggregates say, as a field. */
async function columnSpec(conn: Connection, table: Table, column: Column): Promise<FieldSpec> {
  if (table.rows === 0) return typeOnlySpec(column);
  const sql = sqlOf(conn);
  const c = sql.q(column.name);
  const t = sql.q(table.name);
  const base = (await conn.query(`SELECT count(${c}) AS present, count(DISTINCT ${c}) AS n_distinct FROM ${t}`))[0] as Row;
  const present = num(base.present);
  const distinct = num(base.n_distinct);
  const nullShare = table.rows > 0 ? 1 - present / table.rows : 0;
  const withNulls = (spec: FieldSpec): FieldSpec => (nullShare > 0.0005 ? { ...spec, null_probability: round(nullShare, 3) } : spec);
  if (present === 0) return { const: null };
  const frequencies = async () => {
    const rows = await conn.query(`SELECT ${sql.text(c)} AS v, count(*) AS n FROM ${t} WHERE ${c} IS NOT NULL GROUP BY ${c} ORDER BY count(*) DESC, 1 LIMIT ${MAX_CHOICES + 1}`);
    return rows.map((r) => [String(r.v), num(r.n)] as const);
  };
  const type = column.type;
  if (type === "boolean") {
    const trues = num((await conn.query(`SELECT ${countWhere(c)} AS n FROM ${t}`))[0]?.n);
    return withNulls({ boolean: { probability: round(trues / present, 3) } });
  }
  if (/^timestamp/.test(type)) return withNulls({ timestamp: "iso" });
  if (type === "date") return withNulls({ timestamp: "date" });
  if (NUMERIC.test(type)) {
    const s = (
      await conn.query(
        `SELECT ${sql.float(`min(${c})`)} AS min, ${sql.float(`max(${c})`)} AS max, ${sql.float(`avg(${c})`)} AS mean, ${sql.float(`stddev_pop(${c})`)} AS sd, ${sql.decimals(c)} AS decimals FROM ${t}`,
      )
    )[0] as Row;
    const ints = INTEGER.test(type);
    const [min, max, mean, sd] = [num(s.min), num(s.max), num(s.mean), num(s.sd)];
    const decimals = ints ? 0 : Math.min(6, num(s.decimals) || 0);
    if (ints && distinct <= 10 && present >= 20) return withNulls(fewWholeNumbers(new Map(await frequencies())));
    const uniformSd = (max - min) / Math.sqrt(12);
    if (max === min || present < 20 || Math.abs(sd / uniformSd - 1) < 0.12) return withNulls({ number: { min, max, decimals } });
    return withNulls({ number: { distribution: "normal", mean: round(mean, 4), stddev: round(sd, 4), min, max, decimals } });
  }
  if (TEXT.test(type)) {
    if (type === "uuid") return withNulls({ faker: "string.uuid" });
    const s = (
      await conn.query(
        `SELECT ${countWhere(sql.matches(c, "^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$"))} AS email,
                ${countWhere(sql.matches(c, "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))} AS uuid,
                ${countWhere(sql.matches(c, "^[0-9]{4}-[0-9][0-9]-[0-9][0-9]T"))} AS iso, ${sql.float(`avg(length(${c}))`)} AS mean_length FROM ${t}`,
      )
    )[0] as Row;
    const all = (n: unknown) => num(n) >= present * 0.98;
    if (all(s.iso)) return withNulls({ timestamp: "iso" });
    if (all(s.uuid)) return withNulls({ faker: "string.uuid" });
    if (all(s.email)) return withNulls({ faker: "internet.email" });
    if (distinct <= MAX_CHOICES && distinct <= Math.max(2, present / 4)) {
      const f = await frequencies();
      return withNulls({ choice: Object.fromEntries(f.map(([v, n]) => [v, Math.max(1, Math.round((n / present) * 1000))])) });
    }
    // Free-form text: the name decides the faker method (as for a sample); the mean length otherwise.
    return withNulls(freeTextSpec(column.name, num(s.mean_length)));
  }
  if (/^json/.test(type)) return withNulls({ const: {} });
  return withNulls({ faker: { method: "string.alphanumeric", args: [8] } });
}

/**
 * A child's time that always falls after a time of its parent: `{ timestamp: { after, within } }`,
 * `within` the longest gap seen, in whole days (hours under a day). Undefined when some row is
 * earlier than its parent's time, or the parent has no time.
 */
async function afterParent(conn: Connection, child: Table, column: Column, fk: ForeignKey, parent: Table): Promise<FieldSpec | undefined> {
  const sql = sqlOf(conn);
  const q = sql.q;
  for (const pc of parent.columns.filter((c) => /^timestamp/.test(c.type))) {
    const r = (
      await conn.query(
        `SELECT ${countWhere(`c.${q(column.name)} < p.${q(pc.name)}`)} AS n_before, ${sql.float(`max(${sql.seconds(`c.${q(column.name)}`, `p.${q(pc.name)}`)})`)} AS most, count(c.${q(column.name)}) AS n
       FROM ${q(child.name)} c JOIN ${q(parent.name)} p ON c.${q(fk.column)} = p.${q(fk.key)}`,
      )
    )[0] as Row;
    const most = num(r.most);
    if (num(r.n_before) === 0 && num(r.n) > 0 && Number.isFinite(most)) {
      const nulls = child.rows > 0 ? 1 - num((await conn.query(`SELECT count(${q(column.name)}) AS n FROM ${q(child.name)}`))[0]?.n) / child.rows : 0;
      const within = most >= 86_400 ? `${Math.ceil(most / 86_400)}d` : `${Math.max(1, Math.ceil(most / 3600))}h`;
      return { timestamp: { after: `${parent.name}.${pc.name}`, within }, ...(nulls > 0.0005 ? { null_probability: round(nulls, 3) } : {}) };
    }
  }
  return undefined;
}

/** How a reference's picks lean: Zipf with s = log2(top count ÷ second count) when the hottest key is clearly hotter; else uniform (nothing said). */
async function pickSkew(conn: Connection, child: Table, fk: ForeignKey): Promise<{ skew?: { zipf: number } }> {
  const { q } = sqlOf(conn);
  const top = await conn.query(`SELECT count(*) AS n FROM ${q(child.name)} WHERE ${q(fk.column)} IS NOT NULL GROUP BY ${q(fk.column)} ORDER BY count(*) DESC LIMIT 2`);
  const [first, second] = [num(top[0]?.n), num(top[1]?.n)];
  if (!(first > 0 && second > 0) || first / second < 1.5) return {};
  return { skew: { zipf: round(Math.min(10, Math.log2(first / second)), 2) } };
}

/** A key column's sequence: numbers from the smallest, or the shared text before the numbers (`ord-{n}`). */
async function keySpec(conn: Connection, table: Table, column: Column): Promise<FieldSpec> {
  if (table.rows === 0) return INTEGER.test(column.type) ? { sequence: {} } : column.type === "uuid" ? { faker: "string.uuid" } : { sequence: { format: `${table.name}-{n}` } };
  const sql = sqlOf(conn);
  const c = sql.q(column.name);
  const t = sql.q(table.name);
  if (INTEGER.test(column.type)) {
    const min = num((await conn.query(`SELECT min(${c}) AS min FROM ${t}`))[0]?.min);
    return { sequence: Number.isFinite(min) && min !== 1 ? { start: min } : {} };
  }
  const s = (
    await conn.query(
      `SELECT min(regexp_replace(${sql.text(c)}, '[0-9]+$', '')) AS lo, max(regexp_replace(${sql.text(c)}, '[0-9]+$', '')) AS hi, ${countWhere(`NOT (${sql.matches(sql.text(c), "[0-9]+$")})`)} AS plain FROM ${t}`,
    )
  )[0] as Row;
  if (num(s.plain) === 0 && s.lo === s.hi) return { sequence: { format: `${String(s.lo)}{n}` } };
  return { faker: "string.uuid" };
}

/**
 * Infers a scenario from the database's current schema: every table (at most 16) as a dataset,
 * parents first. A table's first single-column foreign key is its parent; a foreign key to an
 * ancestor becomes a `ref` through its lineage, one to another root table a reference; a foreign
 * key neither can express (to a child table off the lineage, or closing a cycle) is kept as a
 * plain column and listed in `notes`.
 */
export async function inferScenario(target: DatabaseTarget, name: string): Promise<{ document: Record<string, unknown>; notes: string[] }> {
  let conn: Connection;
  try {
    conn = await connect(target);
  } catch (err) {
    throw new ValidationError("source", `cannot connect to ${describeTarget(target)}: ${(err as Error).message}`);
  }
  try {
    return await fromConnection(conn, describeTarget(target), name);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/**
 * A scenario from PostgreSQL DDL (`CREATE TABLE` statements with their keys): run by PGlite, real
 * PostgreSQL, in memory, so the database's own parser reads it; its empty tables give each column
 * by its type, roots EMPTY_COUNT entities and children EMPTY_PER_PARENT per parent.
 */
export async function inferScenarioFromDdl(ddl: string, source: string, name: string): Promise<{ document: Record<string, unknown>; notes: string[] }> {
  const { run, skipped } = ddlStatements(ddl, source);
  if (run.length === 0) throw new ValidationError("source", `${source} holds no CREATE statement`);
  const conn = await connect({ kind: "pglite", dir: PGLITE_MEMORY });
  try {
    for (const { statement, number } of run) {
      try {
        await conn.exec?.(statement);
      } catch (err) {
        throw new ValidationError(
          "source",
          `${source}: PostgreSQL refused the DDL: ${(err as Error).message} (statement ${number}: ${statement.slice(0, 60).replace(/\s+/g, " ")}${statement.length > 60 ? "…" : ""})`,
        );
      }
    }
    // A dump that names its schema (shop.users) is read in that schema when it is the only one with tables.
    const schemas = await conn.query("SELECT DISTINCT table_schema AS s FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')");
    if (schemas.length === 1 && schemas[0]?.s !== "public") await conn.exec?.(`SET search_path TO ${POSTGRES.q(String(schemas[0]?.s))}`);
    const result = await fromConnection(
      conn,
      source,
      name,
      `Inferred by synthgen infer from the PostgreSQL DDL ${source}: each column by its type, ${EMPTY_COUNT} entities a root, Poisson ${EMPTY_PER_PARENT.mean} children a parent.`,
    );
    if (skipped) result.notes.push(`${skipped} statements skipped (owners, grants, settings, extensions: not the tables' structure)`);
    return result;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function fromConnection(
  conn: Connection,
  where: string,
  name: string,
  description = `Inferred by synthgen infer from ${where} (aggregates only).`,
): Promise<{ document: Record<string, unknown>; notes: string[] }> {
  {
    const { tables, foreignKeys } = await structure(conn);
    if (tables.length === 0) throw new ValidationError("source", `${where} has no tables in its ${conn.dialect === "mysql" ? "database" : "current schema"}`);
    if (tables.length > MAX_TABLES)
      throw new ValidationError(
        "source",
        `${where} has ${tables.length} tables; a scenario holds at most ${MAX_TABLES}: infer from ${conn.dialect === "mysql" ? "a database" : "a schema (search_path)"} with fewer`,
      );
    const notes: string[] = [];
    const byName = new Map(tables.map((t) => [t.name, t]));
    const parent = new Map<string, ForeignKey>();
    const lineage = (n: string): string[] => {
      const p = parent.get(n);
      return p ? [...lineage(p.references), n] : [n];
    };
    // Parents: of each table's foreign keys, the one on its earliest column (that closes no cycle).
    for (const t of tables) {
      const position = (f: ForeignKey) => t.columns.findIndex((c) => c.name === f.column);
      const fk = foreignKeys.filter((f) => f.table === t.name && f.references !== t.name && !lineage(f.references).includes(t.name)).sort((a, b) => position(a) - position(b))[0];
      if (fk) parent.set(t.name, fk);
    }
    const order: string[] = [];
    const visit = (n: string) => {
      if (order.includes(n)) return;
      const p = parent.get(n);
      if (p) visit(p.references);
      for (const f of foreignKeys) if (f.table === n && f !== p && !parent.has(f.references) && f.references !== n && !lineage(f.references).includes(n)) visit(f.references);
      order.push(n);
    };
    for (const t of tables) visit(t.name);

    const datasets: Record<string, Record<string, unknown>> = {};
    for (const n of order) {
      const t = byName.get(n) as Table;
      const p = parent.get(n);
      const doc: Record<string, unknown> = {};
      if (p) {
        doc.parent = p.references;
        if (t.rows === 0) doc.per_parent = { ...EMPTY_PER_PARENT };
        else {
          const { histogram, orphans } = await childCounts(conn, t, p);
          doc.per_parent = fitChildCount(histogram);
          if (orphans > 0) doc.orphans = round(orphans / t.rows, 4);
        }
      } else doc.count = t.rows > 0 ? t.rows : EMPTY_COUNT;
      const references: Record<string, { dataset: string }> = {};
      const fields: Record<string, FieldSpec> = {};
      const line = lineage(n);
      for (const column of t.columns) {
        const fk = foreignKeys.find((f) => f.table === n && f.column === column.name);
        if (column.name === t.primaryKey) fields[column.name] = await keySpec(conn, t, column);
        else if (fk && line.includes(fk.references) && fk.references !== n) fields[column.name] = { ref: `${fk.references}.${fk.key}` };
        else if (fk && !parent.has(fk.references) && fk.references !== n) {
          references[fk.references] = { dataset: fk.references, ...(await pickSkew(conn, t, fk)) };
          fields[column.name] = { ref: `${fk.references}.${fk.key}` };
        } else if (p && /^timestamp/.test(column.type) && (await afterParent(conn, t, column, p, byName.get(p.references) as Table))) {
          fields[column.name] = (await afterParent(conn, t, column, p, byName.get(p.references) as Table)) as FieldSpec;
        } else {
          if (fk) notes.push(`${n}.${column.name} refers to ${fk.references}, which is neither an ancestor of ${n} nor a root table: written as a plain column`);
          fields[column.name] = await columnSpec(conn, t, column);
        }
      }
      if (Object.keys(references).length) doc.references = references;
      doc.fields = fields;
      datasets[n] = doc;
    }
    return { document: { name, description, datasets }, notes };
  }
}
