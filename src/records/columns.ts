/**
 * The columns of a dataset: what CSV headers and Parquet schemas are made from. Every column is
 * nullable (dirty data and optional fields leave values out).
 *
 * - `string`, `boolean`: as in JSON.
 * - `int`: whole numbers (Parquet INT64); `double`: any number (Parquet DOUBLE).
 * - `timestamp`: an ISO-8601 UTC string in the records (Parquet INT64 TIMESTAMP(MICROS, UTC)).
 * - `json`: a value whose shape varies from record to record (Parquet BYTE_ARRAY JSON; in CSV, its
 *   JSON text in one cell).
 * - `{ struct }`: a nested object of known fields (a Parquet group; in CSV, one `parent.child`
 *   column per leaf).
 */
export type ColumnType = "string" | "int" | "double" | "boolean" | "timestamp" | "json" | { readonly struct: readonly Column[] };

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

/** Shorthand for the built-in datasets' declarations. */
export const col = (name: string, type: ColumnType): Column => ({ name, type });

/** A leaf column of a flattened record: its dotted CSV name and the path to its value. */
export interface Leaf {
  readonly name: string;
  readonly path: readonly string[];
  readonly type: Exclude<ColumnType, { struct: readonly Column[] }>;
}

/** Structs flattened to their leaves, depth first, in declared order: the CSV columns. */
export function leavesOf(columns: readonly Column[], prefix: readonly string[] = []): Leaf[] {
  return columns.flatMap((c) => {
    const path = [...prefix, c.name];
    return typeof c.type === "object" ? leavesOf(c.type.struct, path) : [{ name: path.join("."), path, type: c.type }];
  });
}

/** Top-level names a record may carry; anything else is a declaration bug and fails loudly. */
export function columnNames(columns: readonly Column[]): ReadonlySet<string> {
  return new Set(columns.map((c) => c.name));
}
