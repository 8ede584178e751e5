import assert from "node:assert/strict";
import { Prng } from "../src/core/prng";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { fastFaker } from "../src/schema/faker-fast";
import { fakerMethodNames, SeededFaker } from "../src/schema/faker-methods";

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
    const seeded = new SeededFaker({ helpers: "faker's" });
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

describe("faker's template helpers, with their paths walked once", () => {
  /** Both instances at one reference date: faker's date methods otherwise read the clock. */
  const pair = () => {
    const cached = new SeededFaker();
    const own = new SeededFaker({ helpers: "faker's" });
    for (const f of [cached, own]) f.faker.setDefaultRefDate(new Date("2025-06-15T12:00:00Z"));
    return { cached, own };
  };
  const outcome = (f: () => unknown): string => {
    try {
      const v = f();
      return JSON.stringify(v instanceof Date ? v.toISOString() : typeof v === "bigint" ? String(v) : v);
    } catch (err) {
      return `throws ${(err as Error).message}`;
    }
  };

  it("make, for every method a schema may name, faker's values from the same draws", function () {
    this.timeout(60_000);
    const { cached, own } = pair();
    const warn = console.warn;
    console.warn = () => undefined; // faker's deprecation notices, once per call
    try {
      for (const name of fakerMethodNames()) {
        for (const seed of [1, 2]) {
          const a = Prng.fromParts("templates", seed, name);
          const b = Prng.fromParts("templates", seed, name);
          cached.use(a);
          own.use(b);
          const mine = cached.method(name);
          const theirs = own.method(name);
          for (let i = 0; i < 40; i++) {
            const x = outcome(() => mine());
            const y = outcome(() => theirs());
            if (x !== y) assert.fail(`${name}, seed ${seed}, value ${i}: ${x}, faker's own ${y}`);
          }
          assert.equal(a.next(), b.next(), `${name} drew a different number of times`);
        }
      }
    } finally {
      console.warn = warn;
    }
  });

  it("fill patterns as faker does, where a path is walked once and where faker takes the step", () => {
    const { cached, own } = pair();
    const patterns: (string | string[])[] = [
      "{{person.firstName}} {{location.city_prefix}}",
      "{{location.city_pattern}}",
      "{{person.firstName.length}}",
      "{{location.city_prefix.length}}",
      "{{definitions.person.first_name.generic}}",
      "{{helpers.arrayElement(['a','b'])}}",
      '{{number.int({"min":5,"max":9})}}',
      "{{definitions.person.first_name}}",
      "{{person.}}",
      "{{nope.nothing}}",
      "{{person.firstName}} {{definitions.person.nonexistent_key}}",
      "{{{{person.lastName}}}}",
      "a{{b",
      "{{person.firstName}}{{",
      "{{person.firstName}}}}",
      "plain text",
      "a{b {{person.firstName}}",
      "{{{{location.city_suffix}}}}",
      "x {{person.firstName}} {{nope.nothing}} y",
      "{{person.lastName}}, {{helpers.arrayElement(['a','b'])}} end",
      "{{location.city_pattern}} and {{person.firstName}}",
      ["{{person.firstName}}-{{person.lastName}}", "{{company.name}} {{location.city_prefix}}"],
      "",
    ];
    for (const [i, pattern] of patterns.entries()) {
      const a = Prng.fromParts("patterns", i);
      const b = Prng.fromParts("patterns", i);
      cached.use(a);
      own.use(b);
      for (let k = 0; k < 30; k++)
        assert.equal(
          outcome(() => cached.faker.helpers.fake(pattern)),
          outcome(() => own.faker.helpers.fake(pattern)),
          String(pattern),
        );
      assert.equal(a.next(), b.next(), `${pattern} drew a different number of times`);
    }
    const data = { "person.firstName": "Jo$&", "a.b": () => "called", x: "$1 $$" };
    for (const text of ["{{person.firstName}} {{aXb}} {{a.b}} {{x}}", "", "no keys"]) {
      assert.equal(cached.faker.helpers.mustache(text, data), own.faker.helpers.mustache(text, data));
    }
    assert.equal(cached.faker.helpers.mustache(undefined, data), "");
  });
});

describe("faker's building blocks, leaner on our instance", () => {
  it("answer every call shape as faker's own do: the same values, errors and number of draws", () => {
    const calls: [string, (f: SeededFaker["faker"]) => unknown][] = [
      ["arrayElement of a list", (f) => f.helpers.arrayElement(["a", "b", "c"])],
      ["arrayElement of one", (f) => f.helpers.arrayElement([7])],
      ["arrayElement of a string", (f) => f.helpers.arrayElement("xyz" as unknown as string[])],
      ["arrayElement of nothing", (f) => f.helpers.arrayElement([])],
      ["multiple, by index", (f) => f.helpers.multiple((_v, i) => `${i}:${f.number.int(9)}`, { count: 4 })],
      ["multiple, default count", (f) => f.helpers.multiple(() => f.number.int(3))],
      ["multiple, a range of counts", (f) => f.helpers.multiple(() => 1, { count: { min: 1, max: 5 } })],
      ["multiple, none", (f) => f.helpers.multiple(() => 1, { count: 0 })],
      ["fromCharacters of one character", (f) => f.string.fromCharacters("a", 3)],
      ["fromCharacters of a one-item list", (f) => f.string.fromCharacters(["x"], 2)],
      ["fromCharacters of code points", (f) => f.string.fromCharacters("a😀b", 5)],
      ["fromCharacters of non-strings", (f) => f.string.fromCharacters([1, null, "z"] as unknown as string[], 6)],
      ["fromCharacters, a range", (f) => f.string.fromCharacters("abc", { min: 1, max: 4 } as unknown as number)],
      ["fromCharacters, 2.5", (f) => f.string.fromCharacters("abc", 2.5)],
      ["fromCharacters of nothing", (f) => f.string.fromCharacters("", 2)],
      ["int up to 7", (f) => f.number.int(7)],
      ["int, min and max", (f) => f.number.int({ min: -5, max: 5 })],
      ["int, one value", (f) => f.number.int({ min: 5, max: 5 })],
      ["int, reversed", (f) => f.number.int({ min: 3, max: 1 })],
      ["int, fractions", (f) => f.number.int({ min: 1.5, max: 3.7 })],
      ["int, multipleOf", (f) => f.number.int({ max: 10, multipleOf: 2 })],
      ["int, no options", (f) => f.number.int()],
      ["int, huge", (f) => f.number.int({ min: -(2 ** 60), max: 2 ** 60 })],
    ];
    const lean = new SeededFaker();
    const own = new SeededFaker({ helpers: "faker's" });
    for (const [label, call] of calls) {
      const a = Prng.fromParts("lean", label);
      const b = Prng.fromParts("lean", label);
      lean.use(a);
      own.use(b);
      for (let i = 0; i < 50; i++) {
        const outcome = (f: SeededFaker["faker"]) => {
          try {
            return JSON.stringify(call(f));
          } catch (err) {
            return `throws ${(err as Error).message}`;
          }
        };
        assert.equal(outcome(lean.faker), outcome(own.faker), label);
      }
      assert.equal(a.next(), b.next(), `${label} drew a different number of times`);
    }
  });
});
