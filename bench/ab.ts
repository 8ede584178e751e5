import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { pinCpus, pinned } from "./child";
import type { RenderRateSpec } from "./render-rate";

/**
 * A change judged by its A/B in one session, not by two runs an hour apart:
 * `node dist/bench/ab.js OTHER [rounds]` renders the same files with the build in OTHER (a
 * checkout of the code before, built: `git worktree add ../before HEAD~1`, its `node_modules`
 * installed or linked, `npm run build`) and with this one, alternating, each measurement in a
 * process of its own pinned as the ratios' are (`bench/render-rate.js`), and prints each path's
 * medians, records/s, and after / before.
 */
const PATHS: readonly [string, RenderRateSpec][] = [
  ["built-in web-events", { kind: "built-in", files: 4 }],
  ["schema `examples/web-events-like.yaml`", { kind: "schema", files: 4 }],
  ["schema `examples/orders.yaml`", { kind: "schema", files: 4, example: "orders.yaml" }],
  ["scenario `examples/shop.yaml`, its child `orders`", { kind: "schema", files: 4, example: "shop.yaml", scenarioDataset: "orders" }],
  ["Parquet, built-in web-events", { kind: "built-in", files: 2, format: "parquet" }],
];

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
};

async function recordsPerS(root: string, spec: RenderRateSpec): Promise<number> {
  const [program, args] = pinned(process.execPath, [join(root, "dist", "bench", "render-rate.js"), JSON.stringify(spec)]);
  const { stdout } = await promisify(execFile)(program, args, { maxBuffer: 1 << 20 });
  return (JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { recordsPerS: number }).recordsPerS;
}

async function main(): Promise<void> {
  const [other, roundsArg] = process.argv.slice(2);
  const rounds = roundsArg === undefined ? 7 : Number(roundsArg);
  if (!other || !existsSync(join(resolve(other), "dist", "bench", "render-rate.js"))) {
    throw new Error(`OTHER must be a built checkout (it has dist/bench/render-rate.js); got ${other === undefined ? "nothing" : JSON.stringify(other)}. Usage: node dist/bench/ab.js OTHER [rounds]`);
  }
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 99) throw new Error(`rounds must be a whole number from 1 to 99 (got ${roundsArg})`);
  const before = resolve(other);
  const after = join(__dirname, "..", "..");
  const pin = pinCpus();
  try {
    console.log(`A/B, ${rounds} alternated rounds, records/s (median): before ${before}, after ${after}; ${pin.note}\n`);
    console.log("| path | before | after | after / before |");
    console.log("|---|---|---|---|");
    for (const [label, spec] of PATHS) {
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < rounds; i++) {
        a.push(await recordsPerS(before, spec));
        b.push(await recordsPerS(after, spec));
      }
      console.log(`| ${label} | ${(median(a) / 1000).toFixed(1)} k | ${(median(b) / 1000).toFixed(1)} k | ${(median(b) / median(a)).toFixed(3)} |`);
    }
  } finally {
    pin.release();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
