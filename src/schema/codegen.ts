/**
 * A validated schema's record as straight-line code, made once per schema and thread: each field
 * computed by its own call (in dependency order) and written by its own writer (in declared
 * order), with no loop over the fields — so every call site sees one function and V8 can inline it.
 *
 * What of the schema the generated source holds: positions (whole numbers this module writes) and
 * each field's name as the string literal `JSON.stringify` makes of it, inside the brackets of a
 * property store (`out["name"] = v`: V8 stores a literal name as a named property, where a name
 * from a variable is a keyed store, and an object given many of those goes to dictionary mode:
 * with them, web-events-like ran at 1.22× the loop's speed, with literals 1.3×). A JSON string is a valid JavaScript
 * string literal of the same value (U+2028 and U+2029 included since ES2019), so a name cannot end
 * the literal or the brackets. Every value, prefix, generator and writer reaches the code through
 * the arrays it is handed, never as source text. A spec compiles names and values built to break
 * out (quotes, backslashes, `*\/`, `${}`, statements, U+2028) and checks the source and the records.
 */

/** What one record needs from its schema, each array by declared position. */
export interface RecordPlan<Scope> {
  /** Declared positions in the order the fields are computed (dependencies first). */
  readonly order: readonly number[];
  /** Field names. */
  readonly keys: readonly string[];
  /** Each field's generator; `omit` for a field left out of this record. */
  readonly gens: readonly ((scope: Scope) => unknown)[];
  /** Each field's writer: its value's JSON text (undefined: left out). */
  readonly writers: readonly ((value: unknown) => string | undefined)[];
  /** `"name":` of each field, as the record's text holds it. */
  readonly prefixes: readonly string[];
  readonly omit: symbol;
  /** Called with a record's length when it is over the limit; throws. */
  readonly tooLarge: (length: number) => never;
  readonly maxRecordBytes: number;
}

/** A schema's compiled record: its values (by name, and by position into `row`) and its text from values by position. */
export interface RecordCode<Scope> {
  values(scope: Scope, row: unknown[]): Record<string, unknown>;
  /** The record's text less its closing brace. */
  head(row: readonly unknown[]): string;
}

const integer = (n: number): string => {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`codegen: ${n} is not a position`);
  return String(n);
};

/** Compiles a schema's record plan into its two functions (see the module's comment for what the source may hold). */
export function compileRecord<Scope extends { values: Record<string, unknown>; rng: unknown; fieldRng?: (field: number) => unknown }>(plan: RecordPlan<Scope>): RecordCode<Scope> {
  const n = plan.keys.length;
  const lines: string[] = ['"use strict";'];
  for (let i = 0; i < n; i++) {
    const p = integer(i);
    lines.push(`const g${p} = G[${p}], x${p} = X[${p}], p${p} = P[${p}], c${p} = C[${p}];`);
  }
  lines.push("function values(s, row) {", "const out = {};", "s.values = out;", "const fr = s.fieldRng;", "let v;");
  for (const i of plan.order) {
    const p = integer(i);
    const name = plan.keys[i] as string;
    // Refused by the schema's checks already: as a literal store it would set the prototype.
    if (name === "__proto__") throw new Error('codegen: "__proto__" is not a field name');
    const literal = JSON.stringify(name);
    if (JSON.parse(literal) !== name) throw new Error(`codegen: ${literal} does not read back as the field's name`);
    lines.push(`if (fr !== undefined) s.rng = fr.call(s, ${p});`, `v = g${p}(s);`, `if (v !== O) { out[${literal}] = v; row[${p}] = v; } else row[${p}] = undefined;`);
  }
  lines.push("return out;", "}");
  lines.push("function head(row) {", 'let t = "{";', "let v, w;");
  for (let i = 0; i < n; i++) {
    const p = integer(i);
    lines.push(`v = row[${p}];`, `if (v !== undefined) { w = x${p}(v); if (w !== undefined) t += (t.length === 1 ? p${p} : c${p}) + w; }`);
  }
  lines.push("if (t.length + 1 > L) tooLarge(t.length + 1);", "return t;", "}", "return { values, head };");
  const source = lines.join("\n");
  // The factory's parameters are this module's names; the arrays carry the rest of the schema.
  const factory = new Function("G", "X", "P", "C", "O", "L", "tooLarge", source) as (...args: unknown[]) => RecordCode<Scope>;
  return factory(
    plan.gens,
    plan.writers,
    plan.prefixes,
    plan.prefixes.map((prefix) => `,${prefix}`),
    plan.omit,
    plan.maxRecordBytes,
    plan.tooLarge,
  );
}
