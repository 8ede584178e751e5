import { ValidationError } from "../core/errors";

/**
 * The statements of a DDL file that infer runs, split as PostgreSQL splits them (quotes, quoted
 * names, dollar-quoted bodies and comments kept whole). A schema is all infer needs, so only
 * statements that define one run: nothing in the file executes a query, writes a row or loops
 * (PGlite has no statement timeout to stop one). What `pg_dump --schema-only` adds around the
 * schema — owners, grants, settings, extensions, psql's backslash lines — is skipped and counted.
 */

export interface DdlStatements {
  /** The statements to run, in order, each with its number in the file (from 1). */
  readonly run: { readonly statement: string; readonly number: number }[];
  /** Statements skipped as not part of the tables' structure (owners, grants, settings, …). */
  readonly skipped: number;
}

/** Statements a DDL file may hold at most. */
const MAX_STATEMENTS = 10_000;

/** Splits SQL text into statements at top-level semicolons; psql's backslash lines count as statements of their own. */
export function splitStatements(sql: string, source: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  const unterminated = (what: string): never => {
    throw new ValidationError("source", `${source}: ${what} opened at character ${i} is never closed`);
  };
  const push = (end: number) => {
    const s = sql.slice(start, end).trim();
    if (s) out.push(s);
    if (out.length > MAX_STATEMENTS) throw new ValidationError("source", `${source} holds more than ${MAX_STATEMENTS} statements`);
  };
  // Nothing but blanks and comments since the last statement ended: a backslash here opens a psql line.
  let blank = true;
  while (i < n) {
    const c = sql[i] as string;
    if (blank && c === "\\") {
      // A psql meta-command (\connect, \restrict …) runs to the end of its line.
      const eol = sql.indexOf("\n", i);
      start = i;
      i = eol < 0 ? n : eol;
      push(i);
      start = i;
      continue;
    }
    const comment = (c === "-" && sql[i + 1] === "-") || (c === "/" && sql[i + 1] === "*");
    if (!comment && c !== " " && c !== "\t" && c !== "\r" && c !== "\n") blank = c === ";";
    if (c === "-" && sql[i + 1] === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? n : eol;
    } else if (c === "/" && sql[i + 1] === "*") {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        const pair = sql.slice(j, j + 2);
        if (pair === "/*") depth++;
        else if (pair === "*/") depth--;
        j += pair === "/*" || pair === "*/" ? 2 : 1;
      }
      if (depth > 0) unterminated("a comment");
      i = j;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(c, j);
        if (k < 0) unterminated(c === "'" ? "a string" : "a quoted name");
        if (sql[k + 1] === c) j = k + 2;
        else {
          j = k + 1;
          break;
        }
      }
      i = j;
    } else if (c === "$") {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        if (end < 0) unterminated(`a ${tag[0]} body`);
        i = end + tag[0].length;
      } else i++;
    } else if (c === ";") {
      push(i);
      i++;
      start = i;
    } else i++;
  }
  push(n);
  return out;
}

/** Characters of a statement read for its kind (its leading words; an OWNER TO statement is short). */
const HEAD = 4096;

/** The statement's head with comments, strings and bodies blanked, upper-cased, for reading its leading words. */
const words = (statement: string): string =>
  statement
    .slice(0, HEAD)
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, " ")
    .replace(/'(?:[^']|'')*'|(?<![A-Za-z0-9_])\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g, "''")
    .replace(/\s+/g, " ")
    .trim()
    .toUpperCase();

const SKIP: RegExp[] = [
  /^\\/, // psql meta-commands
  /^SET\b/,
  /^RESET\b/,
  /^SELECT PG_CATALOG\.SET_CONFIG\(/,
  /^(GRANT|REVOKE)\b/,
  /^ALTER DEFAULT PRIVILEGES\b/,
  /^ALTER [A-Z ]+ OWNER TO\b/,
  /^ALTER [A-Z ]+ .* OWNER TO [^ ]+$/,
  /^(CREATE|COMMENT ON|DROP) EXTENSION\b/,
  /^CREATE (OR REPLACE )?(EVENT TRIGGER|PUBLICATION|SUBSCRIPTION|ROLE|USER|DATABASE|TABLESPACE|SERVER|FOREIGN DATA WRAPPER|USER MAPPING)\b/,
  /^CREATE MATERIALIZED VIEW\b/,
  /^REFRESH MATERIALIZED VIEW\b/,
  /^(BEGIN|START TRANSACTION|COMMIT|END|ROLLBACK)\b/,
];

/** CREATE TABLE … ( columns ), … OF type, … PARTITION OF parent: a table defined rather than filled by a query. */
const DEFINED_TABLE = /^CREATE (?:(?:GLOBAL|LOCAL) )?(?:TEMP |TEMPORARY |UNLOGGED )?TABLE (?:IF NOT EXISTS )?(?:"(?:[^"]|"")*"|[^ ("]+)(?:\.(?:"(?:[^"]|"")*"|[^ ("]+))? ?(?:\(|OF |PARTITION OF )/;
const RUN = /^(CREATE|ALTER|COMMENT ON|DROP)\b/;

/** The statements to run from a DDL file, refusing (by number and leading words) any that would query or write. */
export function ddlStatements(sql: string, source: string): DdlStatements {
  const run: { statement: string; number: number }[] = [];
  let skipped = 0;
  splitStatements(sql, source).forEach((statement, index) => {
    const w = words(statement);
    if (w === "") return;
    if (SKIP.some((re) => re.test(w))) {
      skipped++;
      return;
    }
    const isTable = /^CREATE (?:(?:GLOBAL|LOCAL) )?(?:TEMP |TEMPORARY |UNLOGGED )?TABLE\b/.test(w);
    if (RUN.test(w) && (!isTable || DEFINED_TABLE.test(w))) {
      run.push({ statement, number: index + 1 });
      return;
    }
    const lead = w.split(" ").slice(0, 3).join(" ");
    throw new ValidationError(
      "source",
      `${source}: statement ${index + 1} (${lead} …) is not DDL: infer reads a schema — CREATE, ALTER and COMMENT statements (pg_dump --schema-only writes one), never a query, a row or a table made AS a query`,
    );
  });
  return { run, skipped };
}
