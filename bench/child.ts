import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { SinkSpec } from "../src/sinks";

const run = promisify(execFile);

/** What a bench child process prints as its last line. */
export interface Figures {
  seconds: number;
  mbPerS: number;
  peakRssMb: number;
  mb?: number;
  recordsPerS?: number;
}

/**
 * Runs one bench script in its own process (so its peak RSS is its own) and reads its figures;
 * `env` adds to this process's environment.
 */
export async function child(script: string, spec: unknown, env: Readonly<Record<string, string>> = {}): Promise<Figures> {
  const { stdout } = await run(process.execPath, [join(__dirname, script), JSON.stringify(spec)], { env: { ...process.env, ...env }, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Figures;
}

export interface GenerateRunSpec {
  files: number;
  sizeMb: number;
  threads: number;
  sink: SinkSpec;
  prefix: string;
  format?: string;
}

/** One `generate` run (bench/generate-run.ts) in its own process. */
export const generateRun = (spec: GenerateRunSpec, env?: Readonly<Record<string, string>>): Promise<Figures> => child("generate-run.js", spec, env);
