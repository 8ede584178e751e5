import assert from "node:assert/strict";
import { Prng } from "../src/core/prng";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { fastFaker } from "../src/schema/faker-fast";
import { SeededFaker } from "../src/schema/faker-methods";

/** The call shapes made without faker, each as a schema would write it. */
const FAST_SHAPES: readonly [string, unknown[]][] = [
  ["string.hexadecimal", []],
  ["string.hexadecimal", [{ length: 32, prefix: "" }]],
  ["string.hexadecimal", [{ length: 8, casing: "upper" }]],
  ["string.hexadecimal", [{ length: 5, casing: "lower", prefix: "#" }]],
  ["string.hexadecimal", [{ length: 1, casing: "mixed", prefix: 'q"\\' }]],
  ["string.hexadecimal", [{ length: 0 }]],
  ["string.hexadecimal", [{ length: -3, prefix: "z" }]],
  ["string.alpha", []],
  ["string.alpha", [12]],
  ["string.alpha", [{ length: 6, casing: "upper" }]],
  ["string.alpha", [{ length: 1, casing: "lower" }]],
  ["string.alphanumeric", [10]],
  ["string.alphanumeric", [{ length: 3, casing: "upper" }]],
  ["string.alphanumeric", [{ casing: "lower" }]],
  ["string.alphanumeric", [0]],
  ["string.numeric", []],
  ["string.numeric", [8]],
  ["string.numeric", [{ length: 6, allowLeadingZeros: false }]],
  ["string.numeric", [{ length: 1, allowLeadingZeros: false }]],
  ["string.numeric", [{ length: 4, allowLeadingZeros: true }]],
  ["string.uuid", []],
  ["string.uuid", [{ version: 4 }]],
];

/** Shapes left to faker: a length range, an exclude, a casing faker reads its own way, another uuid version, more arguments. */
const FAKER_SHAPES: readonly [string, unknown[]][] = [
  ["string.hexadecimal", [{ length: { min: 2, max: 9 } }]],
  ["string.hexadecimal", [{ casing: "weird" }]],
  ["string.hexadecimal", [{ length: 2.5 }]],
  ["string.hexadecimal", [{ prefix: 7 }]],
  ["string.hexadecimal", [{ length: 4 }, "extra"]],
  ["string.alpha", [{ length: 4, exclude: ["a"] }]],
  ["string.alpha", [{ casing: "title" }]],
  ["string.alphanumeric", [{ length: { min: 1, max: 3 } }]],
  ["string.numeric", [{ length: 3, exclude: "0" }]],
  ["string.numeric", [{ length: 3, allowLeadingZeros: "no" }]],
  ["string.uuid", [{ version: 7 }]],
  ["string.uuid", [{ refDate: "2025-01-01" }]],
  ["string.octal", []],
  ["internet.email", []],
];

describe("faker's table-drawn string methods, made without faker", () => {
  it("make the values faker makes from the same draws, and take exactly as many draws", () => {
    const seeded = new SeededFaker();
    for (const [name, args] of FAST_SHAPES) {
      const fast = fastFaker(name, args);
      assert.ok(fast, `${name}(${JSON.stringify(args)}) should have a fast form`);
      const method = seeded.method(name);
      for (const seed of [1, 2, 3]) {
        const byFaker = Prng.fromParts("faker-fast", seed, name);
        const byFast = Prng.fromParts("faker-fast", seed, name);
        seeded.use(byFaker);
        for (let i = 0; i < 2_000; i++) {
          const expected = method(...args);
          const actual: string = fast.draw(byFast);
          if (actual !== expected) assert.fail(`${name}(${JSON.stringify(args)}), seed ${seed}, value ${i}: ${JSON.stringify(actual)}, faker ${JSON.stringify(expected)}`);
          assert.ok(actual.startsWith(fast.prefix));
        }
        // Both PRNGs are at the same place: the next draws agree.
        assert.deepEqual([byFast.next(), byFast.next()], [byFaker.next(), byFaker.next()], `${name}(${JSON.stringify(args)}) drew a different number of times`);
      }
    }
  });

  it("leave every other call shape to faker", () => {
    for (const [name, args] of FAKER_SHAPES) assert.equal(fastFaker(name, args), undefined, `${name}(${JSON.stringify(args)})`);
  });

  it("write a prefix with quotes and backslashes as JSON, in every record", () => {
    const schema = {
      name: "prefixed",
      fields: {
        odd: { faker: { method: "string.hexadecimal", args: [{ length: 4, prefix: 'a"b\\' }] } },
        id: { faker: "string.uuid" },
        code: { faker: { method: "string.alphanumeric", args: [6] } },
      },
    };
    const id: FileIdentity = { dataset: "prefixed", schema, seed: 9, runId: "fast", datePrefix: "2025-12-23", hhmmss: "101010", fileIndex: 0, fileCount: 1, targetBytes: 50_000 };
    const lines = Buffer.concat([...renderFile(id).chunks])
      .toString("latin1")
      .trimEnd()
      .split("\n");
    assert.ok(lines.length > 300);
    for (const line of lines) {
      const r = JSON.parse(line) as Record<string, string>;
      assert.match(r.odd as string, /^a"b\\[0-9a-fA-F]{4}$/);
      assert.match(r.id as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.match(r.code as string, /^[0-9a-zA-Z]{6}$/);
    }
  });
});
