/**
 * Schemas that once exhausted a 2 GiB heap or hung `validate`, `preview` or `generate` (and, in
 * Lambda, the handler's main thread). Each must be refused quickly, naming the path and the limit.
 * The handler's side of this table is in generate-files-handler.spec.ts.
 */
export const HOSTILE_SCHEMAS: [string, string, RegExp][] = [
  [
    "faker string.alpha with a length of 1e9",
    "name: h\nfields:\n  s: { faker: { method: string.alpha, args: [1000000000] } }\n",
    /fields\.s\.faker\.args\[0\]: 1000000000 is over the limit of 1000 for a length or count/,
  ],
  ["faker lorem.paragraphs(1e6)", "name: h\nfields:\n  s: { faker: { method: lorem.paragraphs, args: [1000000] } }\n", /fields\.s\.faker\.args\[0\]: 1000000 is over the limit of 1000/],
  [
    "a 100,000-entry pool of 1e6-character strings",
    "name: h\nfields:\n  s: { faker: { method: string.alpha, args: [{ length: 1000000 }], pool: 100000 } }\n",
    /fields\.s\.faker\.args\[0\]\.length: 1000000 is over the limit of 1000/,
  ],
  [
    "arrays nested 3 deep × 1,000",
    "name: h\nfields:\n  a: { array: { min: 1000, max: 1000, items: { array: { min: 1000, max: 1000, items: { array: { min: 1000, max: 1000, items: { const: 1 } } } } } } }\n",
    /fields\.a\.array\.items\.array: can hold up to 1001000 items .* at most 10000 array items/,
  ],
  ["a 50 MB const", `name: h\nfields:\n  c: { const: "${"x".repeat(50 * 1024 * 1024)}" }\n`, /a schema may be at most 262144 bytes/],
];
