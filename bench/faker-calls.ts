import { Prng } from "../src/core/prng";
import { SeededFaker } from "../src/schema/faker-methods";

/** Methods a schema often names (and `synthgen infer` writes): faker's per-call cost with its own helpers, and with ours. */
const METHODS = [
  "internet.email",
  "person.fullName",
  "location.city",
  "location.streetAddress",
  "commerce.isbn",
  "commerce.productName",
  "company.name",
  "phone.number",
  "internet.url",
  "lorem.sentence",
];

/** ns per call of `name` on `f`, over one timed loop of `calls` calls. */
function nsPerCall(f: SeededFaker, name: string, calls: number): number {
  const method = f.method(name);
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) sink += String(method()).length;
  if (sink < 0) throw new Error("unreachable");
  return Number(process.hrtime.bigint() - started) / calls;
}

/**
 * faker's calls as a schema makes them: faker's own helpers against ours (faker-templates.ts,
 * faker-core.ts: the same values from the same draws), alternated, best of three each.
 */
export function fakerCalls(calls = 50_000): void {
  const make = (options: ConstructorParameters<typeof SeededFaker>[0]) => {
    const f = new SeededFaker(options);
    f.use(Prng.fromParts("faker-calls"));
    return f;
  };
  const own = make({ helpers: "faker's" });
  const ours = make({});
  console.log("faker calls, one thread, ns a call (best of 3, alternated):\n");
  console.log("| method | faker's helpers | ours | faster |");
  console.log("|---|---|---|---|");
  for (const name of METHODS) {
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < 3; r++) {
      a.push(nsPerCall(own, name, calls));
      b.push(nsPerCall(ours, name, calls));
    }
    const [x, y] = [Math.min(...a), Math.min(...b)];
    console.log(`| \`${name}\` | ${x.toFixed(0)} | ${y.toFixed(0)} | ${(x / y).toFixed(2)}× |`);
  }
  console.log("");
}
