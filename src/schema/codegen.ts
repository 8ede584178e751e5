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

import { flatText } from "../core/flat-text";

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
  /**
   * How each field's string values are written: `plain`, every string as itself in quotes (its
   * writer says so); `check`, a string `isPlain` passes as itself in quotes, any other value by its
   * writer; `writer`, every value by its writer (a cached text, a number, an object).
   */
  readonly quoting: readonly ("plain" | "check" | "writer")[];
  /** A string JSON writes as itself in quotes (printable ASCII but `"` and `\\`). */
  readonly isPlain: (value: string) => boolean;
  /**
   * For a field whose values come from a small fixed set: each value's text, and which of them a
   * value is (-1: none, written by the field's writer). The record then takes the field's key and
   * value as one piece, made here once for each value and each form of the key.
   */
  readonly pieces: readonly ({ readonly texts: readonly string[]; readonly index: (value: unknown) => number } | undefined)[];
  /** What the schema may still spend on those pieces (its objects took theirs first). */
  readonly keyedBudget: KeyedBudget;
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

/**
 * What a schema's keys joined ahead with their values may hold (see `RecordPlan.pieces`), in
 * characters: one field's pieces, per form of its key, and all of a schema's fields together. A
 * field past either (a long name, large values, a schema of many such fields) is written by its
 * writer instead, so a hostile schema cannot make these pieces take much memory.
 */
export const KEYED_LIMITS = Object.freeze({ FIELD_CHARS: 256 * 1024, SCHEMA_CHARS: 4 * 1024 * 1024 });

/** What is left of a schema's KEYED_LIMITS.SCHEMA_CHARS. */
export interface KeyedBudget {
  left: number;
}

/**
 * Each form of a field's key (as it stands first, after a comma, …) joined with each of its
 * values' texts, made flat, by form; taken from `budget`. Undefined, with nothing taken, past the
 * field's or the schema's bound (KEYED_LIMITS).
 */
export function joinedAhead(forms: readonly string[], texts: readonly string[], budget: KeyedBudget): string[][] | undefined {
  let chars = 0;
  for (const form of forms) for (const text of texts) chars += form.length + text.length;
  if (chars > forms.length * KEYED_LIMITS.FIELD_CHARS || chars > budget.left) return undefined;
  budget.left -= chars;
  return forms.map((form) => texts.map((text) => flatText(form + text)));
}

const integer = (n: number): string => {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`codegen: ${n} is not a position`);
  return String(n);
};

/** Compiles a schema's record plan into its two functions (see the module's comment for what the source may hold). */
export function compileRecord<Scope extends { values: Record<string, unknown>; rng: unknown; fieldRng?: (field: number) => unknown }>(plan: RecordPlan<Scope>): RecordCode<Scope> {
  const n = plan.keys.length;
  // Each field's key and value joined ahead, in the key's three forms (as P, C and CQ above), where they fit.
  const joined = plan.pieces.map((pieces, i) => {
    const prefix = plan.prefixes[i] as string;
    return pieces && joinedAhead([prefix, `,${prefix}`, `",${prefix}`], pieces.texts, plan.keyedBudget);
  });
  const lines: string[] = ['"use strict";'];
  for (let i = 0; i < n; i++) {
    const p = integer(i);
    lines.push(`const g${p} = G[${p}], x${p} = X[${p}], p${p} = P[${p}], c${p} = C[${p}], cq${p} = CQ[${p}], sp${p} = SP[${p}], sc${p} = SC[${p}], sq${p} = SQ[${p}];`);
    if (joined[i]) lines.push(`const i${p} = I[${p}], kp${p} = KP[${p}], kc${p} = KC[${p}], kq${p} = KQ[${p}];`);
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
  // A string written as itself leaves its closing quote open (`q`): the next field's key comes
  // with it (`","name":`), or the record's end adds it. The quotes never become pieces of their
  // own, which is what a record's text costs when it is written (see flatText).
  lines.push("function head(row) {", 'let t = "{";', "let v, w, k, q = false;");
  for (let i = 0; i < n; i++) {
    const p = integer(i);
    const quoting = plan.quoting[i];
    lines.push(`v = row[${p}];`);
    if (quoting === "plain" || quoting === "check") {
      const test = quoting === "plain" ? 'typeof v === "string"' : `typeof v === "string" && isPlain(v)`;
      lines.push(`if (${test}) { t += (t.length === 1 ? sp${p} : q ? sq${p} : sc${p}) + v; q = true; }`, "else ");
    }
    const byWriter = `w = x${p}(v); if (w !== undefined) { t += (t.length === 1 ? p${p} : q ? cq${p} : c${p}) + w; q = false; }`;
    if (joined[i]) lines.push(`if (v !== undefined) { k = i${p}(v); if (k >= 0) { t += (t.length === 1 ? kp${p} : q ? kq${p} : kc${p})[k]; q = false; } else { ${byWriter} } }`);
    else lines.push(`if (v !== undefined) { ${byWriter} }`);
  }
  lines.push("if (q) t += Q;", "if (t.length + 1 > L) tooLarge(t.length + 1);", "return t;", "}", "return { values, head };");
  const source = lines.join("\n");
  // The factory's parameters are this module's names; the arrays carry the rest of the schema.
  // Each field's key as it follows: nothing (P, SP), a value (C, SC), a string left open (CQ, SQ); for a value by its writer (P, C, CQ), or a string's opening quote (SP, SC, SQ).
  const pieces = (make: (prefix: string) => string) => plan.prefixes.map((prefix) => flatText(make(prefix)));
  const factory = new Function("G", "X", "P", "C", "CQ", "SP", "SC", "SQ", "Q", "I", "KP", "KC", "KQ", "O", "L", "tooLarge", "isPlain", source) as (...args: unknown[]) => RecordCode<Scope>;
  return factory(
    plan.gens,
    plan.writers,
    plan.prefixes,
    pieces((prefix) => `,${prefix}`),
    pieces((prefix) => `",${prefix}`),
    pieces((prefix) => `${prefix}"`),
    pieces((prefix) => `,${prefix}"`),
    pieces((prefix) => `",${prefix}"`),
    '"',
    plan.pieces.map((p, i) => (joined[i] ? p?.index : undefined)),
    joined.map((forms) => forms?.[0]),
    joined.map((forms) => forms?.[1]),
    joined.map((forms) => forms?.[2]),
    plan.omit,
    plan.maxRecordBytes,
    plan.tooLarge,
    plan.isPlain,
  );
}
