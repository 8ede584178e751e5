import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildSync } from "esbuild";
import * as pulumi from "@pulumi/pulumi";

/** The project root: the nearest folder above this file with the synthgen package.json. */
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "Pulumi.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the synthgen project root above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** One function's code: its handler entry and, when it runs a piscina pool, its worker entry. */
export interface BundleEntries {
  /** e.g. `functions/generate-files.ts`; bundled to `functions/generate-files.js`. */
  readonly handler: string;
  /** e.g. `workers/generate-file.ts`; bundled to `workers/generate-file.js`. */
  readonly worker?: string;
}

/**
 * Bundles a function with esbuild into files keyed by their path in the archive. With a worker,
 * piscina's own thread bootstrap is emitted as `functions/worker.js`: piscina starts it from
 * `__dirname`, which inside the bundle is the handler's folder.
 *
 * Deterministic: same sources, same bytes (no timestamps, paths relative to the project root),
 * so an unchanged program produces an identical archive and no diff on `pulumi up`.
 */
export function bundleFiles(entries: BundleEntries): Map<string, string> {
  const root = projectRoot();
  const strip = (entry: string) => entry.replace(/\.ts$/, "");
  const entryPoints: Record<string, string> = { [strip(entries.handler)]: join(root, entries.handler) };
  if (entries.worker) {
    entryPoints[strip(entries.worker)] = join(root, entries.worker);
    // piscina's exports map hides dist/worker.js; it sits beside the package's main file.
    const piscinaMain = require.resolve("piscina", { paths: [root] });
    entryPoints[join(dirname(entries.handler), "worker")] = join(dirname(piscinaMain), "worker.js");
  }
  const result = buildSync({
    absWorkingDir: root,
    entryPoints,
    outdir: join(root, ".bundle"),
    // The Lambda runtime ships an AWS SDK too, but bundling ours pins the version the tests ran.
    bundle: true,
    // piscina loads this native, platform-specific module optionally (inside try/catch); pg its
    // libpq binding only when asked (pg.native). PGlite runs a database in the process, which a
    // deployed function never does (load-database reaches a server): loaded only by pglite://.
    external: ["@napi-rs/nice", "pg-native", "@electric-sql/pglite"],
    write: false,
    platform: "node",
    target: "node22",
    format: "cjs",
    legalComments: "none",
    logLevel: "silent",
  });
  const files = new Map<string, string>();
  for (const out of result.outputFiles) {
    files.set(out.path.slice(join(root, ".bundle").length + 1), out.text);
  }
  return files;
}

/** The bundle as a Pulumi archive for `aws.lambda.Function.code`. */
export function bundleArchive(entries: BundleEntries): pulumi.asset.AssetArchive {
  const assets: Record<string, pulumi.asset.StringAsset> = {};
  for (const [path, text] of bundleFiles(entries)) assets[path] = new pulumi.asset.StringAsset(text);
  return new pulumi.asset.AssetArchive(assets);
}
