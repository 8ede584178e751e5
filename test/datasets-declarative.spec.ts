import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValidationError } from "../src/core/errors";
import { generate } from "../src/files/generate";
import { createFilePool, type FilePool } from "../src/files/pool";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { parseGenerateRequest } from "../src/files/request";
import { Prng } from "../src/core/prng";
import { compileRecord } from "../src/schema/codegen";
import { compileSchema, isoOfMs } from "../src/schema/compile";
import { parseSchemaText } from "../src/schema/dataset";
import { FAKER_REFERENCE_MS } from "../src/schema/faker-methods";
import { DIRTY_KINDS, OVERSIZE_BYTES, type DirtyKind } from "../src/records/dirty";
import { synthgen } from "./support/cli";

type Json = Record<string, any>;
const EXAMPLE = join(__dirname, "..", "..", "examples", "orders.yaml");

function lines(id: FileIdentity): { text: string[]; stats: ReturnType<typeof renderFile>["stats"] } {
  const file = renderFile(id);
  const text = Buffer.concat([...file.chunks])
    .toString("latin1")
    .trimEnd()
    .split("\n");
  return { text, stats: file.stats };
}

const ALL_KINDS = {
  name: "every-kind",
  required: ["id"],
  fields: {
    id: { sequence: { start: 10, step: 5, format: "r{file}-{n}" } },
    constant: { const: "v1" },
    email: { faker: "internet.email" },
    words: { faker: { method: "lorem.words", args: [3] } },
    tier: { choice: { gold: 1, silver: 3, bronze: 6 } },
    color: { choice: ["red", "green"] },
    uniform_int: { number: { min: 1, max: 6 } },
    normal: { number: { distribution: "normal", mean: 100, stddev: 10, decimals: 1 } },
    exponential: { number: { distribution: "exponential", rate: 2, decimals: 3 } },
    flag: { boolean: { probability: 0.25 } },
    at: { timestamp: "iso" },
    at_ms: { timestamp: "epoch_ms" },
    address: { object: { city: { faker: "location.city" }, zip: { faker: "location.zipCode" } } },
    tags: { array: { min: 1, max: 3, items: { choice: ["a", "b", "c"] } } },
    label: { template: "{id}/{tier}/{address.city}" },
    same_email: { ref: "email" },
    maybe: { number: { min: 0, max: 1, decimals: 2 }, null_probability: 0.5 },
    sometimes: { const: true, omit_probability: 0.5 },
  },
};

const identity = (over: Partial<FileIdentity> = {}): FileIdentity => ({
  dataset: "every-kind",
  schema: ALL_KINDS,
  seed: 4,
  runId: "decl",
  datePrefix: "2025-12-23",
  hhmmss: "101010",
  fileIndex: 2,
  fileCount: 3,
  targetBytes: 400_000,
  ...over,
});

describe("declarative datasets: the schema language", () => {
  const records = lines(identity()).text.map((l) => JSON.parse(l) as Json);

  it("produces every generator kind as declared", () => {
    assert.ok(records.length > 500);
    records.forEach((r, i) => {
      assert.equal(r.id, `r2-${10 + 5 * i}`);
      assert.equal(r.constant, "v1");
      assert.match(r.email, /^[^@\s]+@[^@\s]+$/);
      assert.equal(r.words.split(" ").length, 3);
      assert.ok(["gold", "silver", "bronze"].includes(r.tier) && ["red", "green"].includes(r.color));
      assert.ok(Number.isInteger(r.uniform_int) && r.uniform_int >= 1 && r.uniform_int <= 6);
      assert.ok(r.exponential >= 0);
      assert.equal(typeof r.flag, "boolean");
      assert.ok(r.at.startsWith("2025-12-23T") && r.at_ms >= Date.UTC(2025, 11, 23) && r.at_ms < Date.UTC(2025, 11, 24));
      assert.equal(typeof r.address.city, "string");
      assert.ok(r.tags.length >= 1 && r.tags.length <= 3);
      assert.equal(r.label, `${r.id}/${r.tier}/${r.address.city}`);
      assert.equal(r.same_email, r.email);
      assert.ok(r.maybe === null || (r.maybe >= 0 && r.maybe <= 1));
      assert.ok(!("sometimes" in r) || r.sometimes === true);
      assert.deepEqual(
        Object.keys(r).filter((k) => k !== "sometimes"),
        Object.keys(ALL_KINDS.fields).filter((k) => k !== "sometimes"),
      );
    });
  });

  it("follows weights and distributions (within 4 standard errors)", () => {
    const n = records.length;
    const share = (p: (r: Json) => boolean) => records.filter(p).length / n;
    const close = (observed: number, expected: number) => Math.abs(observed - expected) < 4 * Math.sqrt((expected * (1 - expected)) / n);
    assert.ok(
      close(
        share((r) => r.tier === "bronze"),
        0.6,
      ),
    );
    assert.ok(
      close(
        share((r) => r.flag),
        0.25,
      ),
    );
    assert.ok(
      close(
        share((r) => r.maybe === null),
        0.5,
      ),
    );
    const mean = records.reduce((s, r) => s + r.normal, 0) / n;
    assert.ok(Math.abs(mean - 100) < 4 * (10 / Math.sqrt(n)), `normal mean ${mean}`);
    const expMean = records.reduce((s, r) => s + r.exponential, 0) / n;
    assert.ok(Math.abs(expMean - 0.5) < 4 * (0.5 / Math.sqrt(n)), `exponential mean ${expMean}`);
  });

  it("dates faker's date methods from the file's day, never from the clock: the same file twice is the same bytes", () => {
    const schema = {
      name: "dated",
      fields: {
        n: { sequence: {} },
        seen: { faker: "date.recent" },
        due: { faker: "date.soon" },
        pooled: { faker: { method: "date.past", pool: 5 } },
      },
    };
    const id = identity({ dataset: "dated", schema, datePrefix: "2025-03-01", targetBytes: 20_000 });
    const first = lines(id).text;
    const until = Date.now() + 5;
    while (Date.now() < until); // the clock moves on between the two renders
    assert.deepEqual(lines(id).text, first);
    const day = Date.UTC(2025, 2, 1);
    for (const line of first) {
      const r = JSON.parse(line) as Json;
      const seen = Date.parse(r.seen);
      const due = Date.parse(r.due);
      assert.ok(seen >= day - 86_400_000 && seen <= day, `date.recent ${r.seen} is the day before 2025-03-01`);
      assert.ok(due >= day && due <= day + 86_400_000, `date.soon ${r.due} is the day from 2025-03-01`);
      // A pool is made once per schema, for every file: its dates are relative to a fixed day.
      assert.ok(Date.parse(r.pooled) < FAKER_REFERENCE_MS, `pooled ${r.pooled}`);
    }
  });

  it("draws pooled faker fields from a fixed pool of that many values", () => {
    const pooled = { name: "pooled", fields: { city: { faker: { method: "location.city", pool: 3 } }, n: { number: {} } } };
    const cities = lines({ ...identity(), dataset: "pooled", schema: pooled, targetBytes: 20_000 }).text.map((l) => (JSON.parse(l) as Json).city as string);
    assert.equal(new Set(cities).size, 3);
    assert.throws(() => compileSchema({ name: "x", fields: { c: { faker: { method: "location.city", pool: 0 } } } }), /fields\.c\.faker\.pool: must be a number from 1/);
  });

  it("is deterministic: the same identity gives the same bytes, another seed others", () => {
    assert.deepEqual(lines(identity()).text, lines(identity()).text);
    assert.notDeepEqual(lines(identity({ seed: 5 })).text, lines(identity()).text);
  });

  it("reads YAML and JSON alike, and the example schema", async () => {
    const yaml = parseSchemaText("name: t\nfields:\n  a: { const: 1 }\n", "t.yaml");
    const json = parseSchemaText('{"name": "t", "fields": {"a": {"const": 1}}}', "t.json");
    assert.deepEqual(yaml, json);
    compileSchema(parseSchemaText(await readFile(EXAMPLE, "utf8"), "orders.yaml"));
  });

  const errors: [string, unknown, string, RegExp][] = [
    ["a misspelt generator", { name: "x", fields: { a: { numbr: {} } } }, "dataset.fields.a.numbr", /unknown generator "numbr"; did you mean "number"\?/],
    ["a misspelt faker method", { name: "x", fields: { a: { faker: "internet.emial" } } }, "dataset.fields.a.faker", /did you mean "internet.email"\?/],
    ["faker's helpers (not callable from a schema)", { name: "x", fields: { a: { faker: "helpers.fake" } } }, "dataset.fields.a.faker", /unknown faker method "helpers.fake"/],
    ["a prototype name", { name: "x", fields: { a: { faker: "constructor.constructor" } } }, "dataset.fields.a.faker", /unknown faker method/],
    ["a misspelt distribution", { name: "x", fields: { a: { number: { distribution: "normall", mean: 1, stddev: 1 } } } }, "dataset.fields.a.number.distribution", /did you mean "normal"\?/],
    ["a normal without stddev", { name: "x", fields: { a: { number: { distribution: "normal", mean: 1 } } } }, "dataset.fields.a.number.stddev", /must be a number/],
    ["a ref to a missing field", { name: "x", fields: { email: { const: 1 }, b: { ref: "emial" } } }, "dataset.fields.b.ref", /not a field of the record; did you mean "email"\?/],
    ["a template cycle", { name: "x", fields: { a: { template: "{b}" }, b: { ref: "a" } } }, "dataset.fields.a", /refers back to itself through a → b → a/],
    ["two generators", { name: "x", fields: { a: { const: 1, ref: "b" }, b: { const: 2 } } }, "dataset.fields.a", /exactly one generator/],
    ["an unknown setting", { name: "x", fields: { a: { number: { minn: 1 } } } }, "dataset.fields.a.number.minn", /did you mean "min"\?/],
    ["min over max", { name: "x", fields: { a: { number: { min: 5, max: 1 } } } }, "dataset.fields.a.number.min", /must not exceed max/],
    ["all weights 0", { name: "x", fields: { a: { choice: { y: 0 } } } }, "dataset.fields.a.choice", /weight above 0/],
    ["a required field that does not exist", { name: "x", required: ["idd"], fields: { id: { const: 1 } } }, "dataset.required", /"idd" is not a field; did you mean "id"\?/],
    ["a misspelt top-level key", { name: "x", feilds: {} }, "dataset.feilds", /did you mean "fields"\?/],
    ["bad faker args", { name: "x", fields: { a: { faker: { method: "number.int", args: [{ min: 5, max: 1 }] } } } }, "dataset.fields.a.faker", /rejects these args/],
  ];
  for (const [what, schema, field, message] of errors) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(
        () => compileSchema(schema),
        (err: unknown) => err instanceof ValidationError && err.field === field && message.test(err.message),
      );
    });
  }
});

describe("a record's text, written value by value", () => {
  it("is asciiText(JSON.stringify(record)) for any value: quotes, backslashes, control and non-ASCII characters, lone surrogates, -0, NaN, Infinity, nesting, omitted fields", () => {
    const c = compileSchema({ name: "texts", fields: { a: { const: 1 }, b: { const: 1 }, c: { const: 1 } } });
    const values: unknown[] = [
      "plain",
      "",
      'say "hi"',
      "back\\slash",
      "tab\there\nline",
      "\u0000\u001f\u007f",
      "é ü € 😀",
      "\ud800 lone",
      "~ { } [ ] / <>",
      0,
      -0,
      1.5e300,
      -2.25,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      true,
      false,
      null,
      undefined,
      { nested: ["é", 1, null, { 'k"ey': "v" }] },
      [],
    ];
    for (const a of values) {
      for (const b of [undefined, "x", "ü"]) {
        const record = { a, b, c: -0 };
        const expected = JSON.stringify(record).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
        assert.equal(c.text(record), expected, JSON.stringify(record));
      }
    }
  });

  it("writes each field by its generator's own writer exactly as asciiText(JSON.stringify(value)): choices and pools of any values, numbers, booleans, times, sequence formats, objects, nulls and omissions", () => {
    const c = compileSchema({
      name: "writers",
      fields: {
        // A string left open for the next key to close: first, omitted, null, last.
        lead: { timestamp: "iso", omit_probability: 0.3 },
        pick: { choice: ["plain", 'q"uote', "back\\slash", "é", "\ud800", 0, -0, 1.5, true, null, { o: [1, "ü"] }, [2]] },
        weighted: { choice: { a: 1, 'b"': 2, ключ: 3 }, null_probability: 0.2 },
        pooled: { faker: { method: "person.fullName", pool: 50 } },
        pooled_numbers: { faker: { method: "location.latitude", pool: 20 } },
        whole: { number: { min: -5, max: 5 } },
        fraction: { number: { min: -0.004, max: 0.004, decimals: 2 }, omit_probability: 0.3 },
        normal: { number: { distribution: "normal", mean: 0, stddev: 1, decimals: 3 } },
        flag: { boolean: { probability: 0.5 }, null_probability: 0.3 },
        at: { timestamp: "iso" },
        day: { timestamp: "date" },
        ms: { timestamp: "epoch_ms" },
        later: { timestamp: { after: "at", within: "2h" } },
        seq: { sequence: { start: -3, step: 0.5, format: "s-{n}/{file}" } },
        quoted_seq: { sequence: { format: 'q"{n}' } },
        bare_seq: { sequence: { start: 1e20, step: 1e20 } },
        nested: {
          object: {
            constructor: { choice: ["c"], omit_probability: 0.5 },
            toString: { number: { min: 1, max: 2 }, omit_probability: 0.5 },
            inner: { object: { x: { choice: ["é", "e"] }, y: { boolean: {} } } },
          },
        },
        indexed: { object: { b: { choice: [1] }, "1": { choice: [2] }, a: { choice: [3] } } },
        // An object of small fixed sets, a child left out or null.
        flags: { object: { p: { boolean: {}, omit_probability: 0.3 }, q: { choice: ["x", 'y"', "é"], null_probability: 0.3 }, deep: { object: { r: { boolean: {} } } } } },
        // Lists, each item by its own writer: empty ones, nulls, left-out items, lists of lists and of objects.
        list: { array: { min: 0, max: 4, items: { choice: ["é", 'q"', -0, null, true], null_probability: 0.2, omit_probability: 0.2 } } },
        rows: { array: { min: 1, max: 3, items: { object: { k: { choice: ["a", "ü"] }, n: { number: { min: 0, max: 9 }, omit_probability: 0.5 } } } } },
        grid: { array: { min: 0, max: 2, items: { array: { min: 0, max: 2, items: { sequence: { format: "g{n}" } } } } } },
        // An item naming a field left out of the record is undefined in the list: JSON writes null.
        echoes: { array: { min: 1, max: 2, items: { ref: "fraction" } } },
        // Strings with no writer of their own, plain or not (a pick with a quote, a backslash, é).
        shown: { template: "{pick}/{weighted}", null_probability: 0.1 },
        copy: { ref: "pick" },
        maybe_seq: { sequence: { format: "m-{n}" }, null_probability: 0.3, omit_probability: 0.3 },
        // Templates of plain text and plain fields are written as themselves; a quote or a backslash around them is not plain.
        quoted_template: { template: 'q"{seq}\\{at}' },
        of_maybe: { template: "m={maybe_seq}/{at}" },
        last: { template: "t{seq}", omit_probability: 0.5 },
      },
    });
    const reference = (values: Record<string, unknown>): string => {
      const ascii = (json: string) => json.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
      const parts: string[] = [];
      for (const k of Object.keys(c.schema.fields)) {
        const json = JSON.stringify(values[k]) as string | undefined;
        if (values[k] !== undefined && json !== undefined) parts.push(`${ascii(JSON.stringify(k))}:${ascii(json)}`);
      }
      return `{${parts.join(",")}}`;
    };
    const scope = (seed: number) => ({ rng: Prng.fromParts("writers", seed), index: 0, fileIndex: 3, values: {}, dayStartMs: Date.UTC(2025, 0, 1), secondOfDay: () => 43_200 });
    for (let seed = 0; seed < 3; seed++) {
      const byHead = scope(seed);
      const byValues = scope(seed);
      for (let i = 0; i < 2000; i++) {
        byHead.index = byValues.index = i;
        const line = `${c.recordHead(byHead)}}`;
        const values = c.values(byValues);
        assert.equal(line, reference(values), `seed ${seed} record ${i}`);
        assert.equal(c.text(values), line);
      }
    }
  });

  it("compiles a record into code that holds no part of the schema: hostile names and values stay data", () => {
    const hostile = ['"]; globalThis.pwned = 1; //', "*/ globalThis.pwned = 1; /*", `$${"{"}globalThis.pwned = 1}`, "\\", "a\u2028b", "');globalThis.pwned=1;('", "0", "constructor", "é😀"];
    const fields: Record<string, unknown> = {};
    hostile.forEach((name, i) => {
      fields[name] = i % 2 ? { choice: [name, `${name}\n`] } : { sequence: { format: `${name}{n}` } };
    });
    fields.nested = { object: Object.fromEntries(hostile.map((name) => [name, { const: name }])) };
    const c = compileSchema({ name: "hostile", fields });
    const scope = { rng: Prng.fromParts("hostile"), index: 0, fileIndex: 0, values: {}, dayStartMs: 0, secondOfDay: () => 0 };
    for (let i = 0; i < 50; i++) {
      scope.index = i;
      const record = JSON.parse(`${c.recordHead(scope)}}`) as Record<string, unknown>;
      assert.deepEqual(Object.keys(record).sort(), [...hostile, "nested"].sort());
      assert.deepEqual(record.nested, Object.fromEntries(hostile.map((name) => [name, name])));
    }
    assert.equal((globalThis as Record<string, unknown>).pwned, undefined);
    // The generated functions' source: positions, this module's own names, and each field's name only as JSON.stringify's literal of it.
    const code = compileRecord({
      order: hostile.map((_, i) => hostile.length - 1 - i),
      keys: hostile,
      gens: hostile.map((name) => () => name),
      writers: hostile.map(() => (v: unknown) => JSON.stringify(v)),
      prefixes: hostile.map((name) => `${JSON.stringify(name)}:`),
      // Each way a value reaches the text; `plain` only where the writer may vouch for it.
      quoting: hostile.map((name, i) => (i % 3 === 0 ? "writer" : i % 3 === 1 || !/^[ !#-[\]-~]*$/.test(name) ? "check" : "plain")),
      isPlain: (v) => /^[ !#-[\]-~]*$/.test(v),
      // Some as pieces from a fixed set: their key and value joined ahead.
      pieces: hostile.map((name, i) => (i % 4 === 3 ? { texts: [JSON.stringify(name)], index: (v: unknown) => (v === name ? 0 : -1) } : undefined)),
      keyedBudget: { left: 1 << 20 },
      omit: Symbol("omit"),
      tooLarge: () => {
        throw new Error("too large");
      },
      maxRecordBytes: 1 << 20,
    });
    for (const source of [String(code.values), String(code.head)]) {
      // Each name's literal stands in a property store's brackets; what is left holds nothing of the schema.
      let rest = source;
      for (const name of hostile) rest = rest.split(`out[${JSON.stringify(name)}] = v;`).join("out[NAME] = v;");
      assert.match(rest, /^[A-Za-z0-9_ \n(){}[\];.,=!<>+"?:|&-]*$/, "the rest is made of identifiers, positions and operators only");
      for (const name of hostile) if (name.length > 1) assert.ok(!rest.includes(name), `${JSON.stringify(name)} appears only as its literal`);
    }
    assert.equal((String(code.values).match(/out\[/g) ?? []).length, hostile.length, "one store per field");
    const row: unknown[] = [];
    const values = code.values({ values: {}, rng: undefined }, row);
    assert.deepEqual(Object.keys(values).sort(), [...hostile].sort());
    assert.equal(JSON.parse(`${code.head(row)}}`)[hostile[0] as string], hostile[0]);
  });

  it("joins a field's key with each of its values ahead only while that stays small: a long name, a large value or a schema's budget spent are left to the writer", () => {
    const big = "v".repeat(300_000);
    const keys = ["small", "long_name_".repeat(30_000), "large_values", "after_budget"];
    const values = ["b", "a", big, "c"];
    // Exactly what the first field's pieces take: its key's three forms, each joined with "a" and "b".
    const budget = { left: ['"small":', ',"small":', '","small":'].reduce((n, form) => n + 2 * (form.length + 3), 0) };
    const code = compileRecord({
      order: [0, 1, 2, 3],
      keys,
      gens: values.map((v) => () => v),
      writers: keys.map(() => (v: unknown) => JSON.stringify(v)),
      quoting: keys.map(() => "writer" as const),
      isPlain: () => false,
      pieces: [["a", "b"], ["a"], ["x", big], ["c"]].map((set) => ({ texts: set.map((v) => JSON.stringify(v)), index: (v: unknown) => set.indexOf(v as string) })),
      keyedBudget: budget,
      prefixes: keys.map((k) => `${JSON.stringify(k)}:`),
      omit: Symbol("omit"),
      tooLarge: () => {
        throw new Error("too large");
      },
      maxRecordBytes: 1 << 20,
    });
    const head = String(code.head);
    assert.ok(head.includes("kp0"), "the small set's pieces are made");
    assert.ok(!head.includes("kp1") && !head.includes("kp2"), "a 300,000-character name, or a value of 300,000, are written by the writer");
    assert.ok(!head.includes("kp3"), "the schema's budget went to the first field");
    assert.equal(budget.left, 0);
    const row: unknown[] = [];
    code.values({ values: {}, rng: undefined }, row);
    assert.deepEqual(JSON.parse(`${code.head(row)}}`), Object.fromEntries(keys.map((k, i) => [k, values[i]])));
  });

  it("writes an ISO time as Date's toISOString does, from 1970 to 9999 and past it", () => {
    const times = [0, 1, 999, 1000, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), 253_402_300_799_999, 253_402_300_800_000, 8.64e15];
    for (let i = 0; i < 20_000; i++) times.push(Math.floor(((i * 2_654_435_761) % 4_294_967_296) * 59_000));
    for (const ms of times) assert.equal(isoOfMs(ms), new Date(ms).toISOString(), String(ms));
  });
});

describe("dirty data on purpose", () => {
  const clean = (id: Partial<FileIdentity>) => lines({ ...identity(), dataset: "tutoring-events", schema: undefined, targetBytes: 3_000_000, ...id }).text;

  it("injects each kind at its rate and counts exactly what it injected", () => {
    const rates = Object.fromEntries(DIRTY_KINDS.map((k) => [k, k === "oversize" ? 0.002 : 0.02])) as Record<DirtyKind, number>;
    const base = { dataset: "tutoring-events", schema: undefined, targetBytes: 2_000_000 } as const;
    const dirty = lines({ ...identity(), ...base, dirty: rates });
    const original = clean({});
    const seen: Record<string, number> = {};
    const count = (k: string) => (seen[k] = (seen[k] ?? 0) + 1);
    let j = 0;
    for (let i = 0; i < dirty.text.length; i++, j++) {
      const d = dirty.text[i]!;
      const c = original[j]!;
      if (d === c) {
        if (dirty.text[i + 1] === c) {
          count("duplicate");
          i++;
        }
        continue;
      }
      let parsed: Json;
      try {
        parsed = JSON.parse(d) as Json;
      } catch {
        assert.ok(c.startsWith(d), "a malformed line is a cut record");
        count("malformed");
        continue;
      }
      const o = JSON.parse(c) as Json;
      if (d.length > OVERSIZE_BYTES) count("oversize");
      else if (!("event_type" in parsed)) count("missing_required");
      else if (typeof Object.values(parsed.payload).find((_v, n) => typeof Object.values(o.payload)[n] === "number") === "string") count("wrong_type");
      else if (JSON.stringify(parsed).includes("-") && Object.values(parsed.payload).some((v) => typeof v === "number" && v < 0)) count("out_of_range");
      else if (parsed.payload.timestamp < o.payload.timestamp) count("late");
      else assert.fail(`unexplained change at record ${j}: ${d.slice(0, 120)}`);
    }
    assert.deepEqual(seen, dirty.stats.dirty);
    const records = j;
    for (const kind of DIRTY_KINDS) {
      const n = seen[kind] ?? 0;
      const p = rates[kind];
      assert.ok(Math.abs(n - p * records) <= 4 * Math.sqrt(records * p * (1 - p)) + 1, `${kind}: ${n} of ${records} at ${p}`);
    }
  });

  it("leaves the clean records exactly as they would be without dirt", () => {
    const dirty = lines({ ...identity(), dataset: "tutoring-events", schema: undefined, targetBytes: 300_000, dirty: { malformed: 0.1 } }).text;
    const original = clean({});
    const intact = dirty.filter((l, i) => l === original[i]).length;
    assert.ok(intact / dirty.length > 0.85);
  });

  it("rejects an unknown kind or rates over 1, naming dirty", () => {
    const now = { now: new Date() };
    assert.throws(() => parseGenerateRequest({ dirty: { malformd: 0.1 } }, { fileCount: 1, targetSizeMb: 1 }, now), /unknown kind "malformd"; did you mean "malformed"\?/);
    assert.throws(() => parseGenerateRequest({ dirty: { late: 0.7, duplicate: 0.6 } }, { fileCount: 1, targetSizeMb: 1 }, now), /add up to at most 1/);
  });
});

describe("date-range backfill and the daily curve", () => {
  let pool: FilePool;
  let dir: string;
  before(async () => {
    pool = createFilePool(2);
    dir = await mkdtemp(join(tmpdir(), "synthgen-backfill-"));
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes file_count files per day under dt=YYYY-MM-DD/, every timestamp inside its day", async () => {
    const out = join(dir, "dt");
    const { body } = await generate(
      { date_from: "2025-12-30", date_to: "2026-01-02", file_count: 2, target_size_mb: 0.05, run_id: "bf", seed: 1 },
      { defaults: { fileCount: 1, targetSizeMb: 1 }, configuredPrefix: "", sink: { kind: "local", dir: out }, pool, context: { now: new Date() } },
    );
    assert.deepEqual([body.total_files, body.days, body.date_from, body.date_to], [8, 4, "2025-12-30", "2026-01-02"]);
    const days = (await readdir(out)).sort();
    assert.deepEqual(days, ["dt=2025-12-30", "dt=2025-12-31", "dt=2026-01-01", "dt=2026-01-02"]);
    for (const day of days) {
      const date = day.slice(3);
      const files = (await readdir(join(out, day))).sort();
      assert.equal(files.length, 2);
      assert.match(files[0]!, new RegExp(`^${date}-test0000-\\d{6}\\.ndjson$`));
      for (const f of files) {
        for (const line of (await readFile(join(out, day, f), "utf8")).trimEnd().split("\n")) assert.ok((JSON.parse(line) as Json).timestamp.startsWith(`${date}T`));
      }
    }
  });

  it("keeps the seed's keys side by side with partition flat, and refuses a bad range", async () => {
    const request = parseGenerateRequest({ date_from: "2025-12-01", date_to: "2025-12-02", partition: "flat", file_count: 1 }, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() });
    assert.deepEqual([request.days, request.partition], [["2025-12-01", "2025-12-02"], "flat"]);
    const bad = (e: Json) => () => parseGenerateRequest(e, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() });
    assert.throws(bad({ date_from: "2025-12-02", date_to: "2025-12-01" }), /date_to must not be before date_from/);
    assert.throws(bad({ date_from: "2025-12-01" }), /needs both date_from and date_to/);
    assert.throws(bad({ date_from: "2024-01-01", date_to: "2025-12-31" }), /at most 366 days/);
    assert.throws(bad({ date_from: "2025-12-01", date_to: "2025-12-31", file_count: 1000 }), /31 days × 1000 files/);
  });

  it("shapes timestamps by the daily curve: busy afternoons, quiet nights", () => {
    const hours = (curve: boolean) => {
      const h = new Array(24).fill(0) as number[];
      for (const l of lines({ ...identity(), dataset: "web-events", schema: undefined, targetBytes: 3_000_000, dailyCurve: curve }).text) {
        const hour = Number((JSON.parse(l) as Json).timestamp.slice(11, 13));
        h[hour] = (h[hour] ?? 0) + 1;
      }
      return h;
    };
    const flat = hours(false);
    const curved = hours(true);
    const ratio = (h: number[]) => (h[13]! + h[14]! + h[15]!) / (h[2]! + h[3]! + h[4]!);
    assert.ok(ratio(flat) < 1.5, `flat ratio ${ratio(flat)}`);
    assert.ok(ratio(curved) > 6, `curved ratio ${ratio(curved)}`);
  });
});

describe("synthgen preview and validate", () => {
  it("previews n records of a schema file, as generate would write them", async () => {
    const res = await synthgen(["preview", "--dataset", EXAMPLE, "-n", "3", "--seed", "2"]);
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout.trimEnd().split("\n");
    assert.equal(out.length, 3);
    assert.equal((JSON.parse(out[0]!) as Json).order_id, "ord_0_100000");
  });

  it("validates a schema, and names the bad field with a suggestion", async () => {
    const ok = await synthgen(["validate", EXAMPLE]);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /ok — dataset "orders", 13 fields/);
    const file = join(tmpdir(), `bad-${process.pid}.yaml`);
    await writeFile(file, "name: bad\nfields:\n  when: { timestamp: isoo }\n");
    const bad = await synthgen(["validate", file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /fields\.when\.timestamp: unknown format "isoo"; did you mean "iso"\?/);
    await rm(file);
  });

  it("generates from a schema file with the same bytes on 1 and 2 threads", async () => {
    const work = await mkdtemp(join(tmpdir(), "synthgen-decl-"));
    try {
      const args = (threads: string, out: string) => [
        "generate",
        "--dataset",
        EXAMPLE,
        "--files",
        "4",
        "--size-mb",
        "0.1",
        "--run-id",
        "decl",
        "--seed",
        "3",
        "--date",
        "2025-12-23",
        "--threads",
        threads,
        "--out",
        out,
      ];
      assert.equal((await synthgen(args("1", join(work, "a")))).code, 0);
      assert.equal((await synthgen(args("2", join(work, "b")))).code, 0);
      for (const f of await readdir(join(work, "a"))) assert.ok((await readFile(join(work, "a", f))).equals(await readFile(join(work, "b", f))), f);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
