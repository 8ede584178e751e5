import type { LineEncoder } from "../records/dirty";
import type { Prng } from "../core/prng";
import { columnNames, leavesOf, type Column, type Leaf } from "../records/columns";

/**
 * One CSV cell (RFC 4180): a value that holds a comma, a double quote, CR or LF is quoted, its
 * quotes doubled. Missing and null are an empty cell; an empty string is `""`, so the two stay
 * apart. Booleans are `true`/`false`, numbers as in JSON, a `json` column's value its JSON text.
 */
function cell(value: unknown, leaf: Leaf): string {
  if (value === undefined || value === null) return "";
  const text = leaf.type === "json" || typeof value === "object" ? JSON.stringify(value) : String(value);
  if (text === "") return '""';
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header line: the leaf columns' names, structs flattened to `parent.child`. */
export function csvHeader(columns: readonly Column[]): string {
  return leavesOf(columns)
    .map((l) => cell(l.name, { ...l, type: "string" }))
    .join(",");
}

/**
 * Records (as JSON) to CSV rows with the dataset's columns. A record field the columns do not
 * declare is a declaration bug and throws rather than being dropped silently.
 */
export function csvLines(columns: readonly Column[], dataset: string): LineEncoder {
  const leaves = leavesOf(columns);
  const known = columnNames(columns);
  return {
    encode(json) {
      const record = JSON.parse(json) as Record<string, unknown>;
      for (const k in record) if (!known.has(k)) throw new Error(`${dataset}: a record has field "${k}", which its columns do not declare`);
      let row = "";
      for (let i = 0; i < leaves.length; i++) {
        const leaf = leaves[i] as Leaf;
        let v: unknown = record;
        for (const k of leaf.path) v = v === null || typeof v !== "object" ? undefined : (v as Record<string, unknown>)[k];
        row += i === 0 ? cell(v, leaf) : `,${cell(v, leaf)}`;
      }
      return row;
    },
    /** Cut at a cell boundary outside quotes: a row with too few cells, as from a writer that died mid-row. */
    cut(line: string, rng: Prng) {
      const commas: number[] = [];
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === '"') quoted = !quoted;
        else if (c === "," && !quoted) commas.push(i);
      }
      if (commas.length === 0) return "";
      return line.slice(0, commas[rng.int(commas.length)]);
    },
  };
}
