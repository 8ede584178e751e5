import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileSchema } from "../src/schema/compile";
import { SCHEMA_LIMITS } from "../src/schema/limits";
import { synthgen } from "./support/cli";
import { HOSTILE_SCHEMAS } from "./support/hostile-schemas";

/** An object field nested `depth` levels deep. */
function nested(depth: number): unknown {
  let spec: unknown = { const: 1 };
  for (let i = 0; i < depth; i++) spec = { object: { f: spec } };
  return spec;
}

describe("the schema language's limits: hostile schemas are refused, fast, naming the path and the limit", () => {
  const refusals: [string, unknown, RegExp][] = [
    ["a faker size argument over the limit", { name: "h", fields: { s: { faker: { method: "string.alpha", args: [1e9] } } } }, /fields\.s\.faker\.args\[0\]: 1000000000 is over the limit of 1000/],
    [
      "a size option over the limit",
      { name: "h", fields: { d: { faker: { method: "date.betweens", args: [{ from: "2020-01-01", to: "2021-01-01", count: 1e7 }] } } } },
      /args\[0\]\.count: 10000000 is over the limit/,
    ],
    [
      "a faker value over 64 KiB (lorem.paragraphs at its limit)",
      { name: "h", fields: { s: { faker: { method: "lorem.paragraphs", args: [1000] } } } },
      /fields\.s\.faker: makes values of \d+ bytes; a faker value may be at most 65536/,
    ],
    [
      "a pool whose values together pass 16 MiB",
      { name: "h", fields: { s: { faker: { method: "string.alpha", args: [1000], pool: 100000 } } } },
      /fields\.s\.faker\.pool: 100000 values of up to 1002 bytes are more than the 16777216 bytes a pool may hold/,
    ],
    [
      "arrays whose items multiply past 10,000",
      { name: "h", fields: { a: { array: { min: 1, max: 200, items: { array: { max: 100, items: { const: 1 } } } } } } },
      /fields\.a\.array: can hold up to 20200 items/,
    ],
    ["nesting deeper than 16", { name: "h", fields: { o: nested(18) } }, /nests objects and arrays more than 16 deep/],
    ["a const over 64 KiB", { name: "h", fields: { c: { const: "x".repeat(70_000) } } }, /fields\.c\.const: is 70002 bytes as JSON; a const may be at most 65536/],
    [
      "records that could pass 1 MiB",
      { name: "h", fields: { a: { array: { max: 1000, items: { faker: { method: "string.alpha", args: [1000] } } } }, b: { ref: "a" } } },
      /records can reach \d+ bytes \(a: up to \d+\); a record may be at most 1048576 bytes/,
    ],
    ["__proto__ as a field", JSON.parse('{"name":"h","fields":{"__proto__":{"const":1},"b":{"const":2}}}'), /fields\.__proto__: "__proto__" is not allowed as a name/],
    ["__proto__ inside an object field", JSON.parse('{"name":"h","fields":{"o":{"object":{"__proto__":{"const":1}}}}}'), /fields\.o\.object\.__proto__: "__proto__" is not allowed as a name/],
    ["__proto__ as a choice value", { name: "h", fields: { c: { choice: ["__proto__", "a"] } } }, /fields\.c\.choice: "__proto__" is not allowed as a value/],
    ["__proto__ as a weighted choice", JSON.parse('{"name":"h","fields":{"c":{"choice":{"__proto__":5,"a":1}}}}'), /fields\.c\.choice\.__proto__: "__proto__" is not allowed/],
    ["a uniform range that overflows", { name: "h", fields: { n: { number: { min: -1e308, max: 1e308, decimals: 2 } } } }, /fields\.n\.number: min -1e\+308 to max 1e\+308 is a range too wide/],
    ["a normal distribution that overflows", { name: "h", fields: { n: { number: { distribution: "normal", mean: 1e308, stddev: 1e307 } } } }, /would overflow to Infinity/],
    ["a sequence that overflows", { name: "h", fields: { n: { sequence: { start: 1e308, step: 1e308 } } } }, /fields\.n\.sequence: start 1e\+308 and step 1e\+308 would overflow/],
  ];
  for (const [what, schema, message] of refusals) {
    it(`refuses ${what}`, () => {
      const started = performance.now();
      assert.throws(
        () => compileSchema(schema),
        (err: Error) => err.name === "ValidationError" && message.test(err.message),
      );
      assert.ok(performance.now() - started < 1000, `refused in ${Math.round(performance.now() - started)} ms`);
    });
  }

  it("still takes what is within the limits: number.int up to 1e12, a 1,000-character string, a 1,000-item array", () => {
    const c = compileSchema({
      name: "ok",
      fields: {
        id: { faker: { method: "number.int", args: [{ min: 0, max: 1e12 }] } },
        text: { faker: { method: "string.alpha", args: [1000] } },
        tags: { array: { max: 1000, items: { choice: ["a", "b"] } } },
      },
    });
    assert.ok(c.maxRecordBytes > 1000 && c.maxRecordBytes < SCHEMA_LIMITS.MAX_RECORD_BYTES, String(c.maxRecordBytes));
  });

  describe("through the CLI: validate, preview and generate refuse each one with exit 2 and write nothing", () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "synthgen-hostile-"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    HOSTILE_SCHEMAS.forEach(([what, text, message], i) => {
      it(`${what}`, async () => {
        const file = join(dir, `hostile-${i}.yaml`);
        await writeFile(file, text);
        const out = join(dir, `out-${i}`);
        const runs = await Promise.all([
          synthgen(["validate", file]),
          synthgen(["preview", "--dataset", file, "-n", "3"]),
          synthgen(["generate", "--dataset", file, "--files", "2", "--size-mb", "0.5", "--out", out, "--threads", "1"]),
        ]);
        for (const [command, run] of ["validate", "preview", "generate"].map((c, k) => [c, runs[k]!] as const)) {
          assert.equal(run.code, 2, `${command}: ${run.stderr}`);
          assert.match(run.stderr, message, command);
        }
        assert.deepEqual(await readdir(out).catch(() => []), [], "generate wrote nothing");
      });
    });

    it("refuses a record larger than the file's target, naming target_size_mb", async () => {
      const file = join(dir, "wide.yaml");
      await writeFile(file, `name: wide\nfields:\n  c: { const: "${"x".repeat(20_000)}" }\n`);
      const run = await synthgen(["generate", "--dataset", file, "--files", "1", "--size-mb", "0.01", "--out", join(dir, "wide-out")]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--size-mb: target_size_mb 0\.01 MiB is smaller than one record of dataset wide, which can reach 20\d{3} bytes: raise target_size_mb to at least 0\.02/);
    });

    it("refuses --dirty __proto__=1 instead of dropping it", async () => {
      const run = await synthgen(["generate", "--dirty", "__proto__=1", "--files", "1", "--out", join(dir, "proto-out")]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--dirty: "__proto__" is not a NAME/);
    });
  });
});
