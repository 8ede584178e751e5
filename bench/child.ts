import { execFile, spawnSync } from "node:child_process";
import { cpus } from "node:os";
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
  const [program, args] = pinned(process.execPath, [join(__dirname, script), JSON.stringify(spec)]);
  const { stdout } = await run(program, args, { env: { ...process.env, ...env }, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Figures;
}

/** The CPU measured child processes run on while `pinCpus` holds (see there), else undefined. */
let childCpu: number | undefined;

/** A command line run on `childCpu` (through `taskset`) while the bench is pinned; unchanged otherwise. */
export function pinned(program: string, args: readonly string[]): [string, string[]] {
  return childCpu === undefined ? [program, [...args]] : ["taskset", ["-c", String(childCpu), program, ...args]];
}

/**
 * Puts this process — the servers it runs (the embedded S3) and forks (the loopback ingest server)
 * — on CPU 0 and the measured child processes on CPU 1, so a path and its limit do not share a
 * core with the server they talk to, and neither with the other's leftovers: quieter ratios. Does
 * nothing (says why) on one core or without `taskset`. Returns the undo.
 */
export function pinCpus(): { note: string; release: () => void } {
  const cores = cpus().length;
  const taskset = spawnSync("taskset", ["-p", String(process.pid)], { encoding: "utf8" });
  if (cores < 2 || taskset.status !== 0) return { note: cores < 2 ? "not pinned: one core" : "not pinned: taskset not found", release: () => undefined };
  const all = `0-${cores - 1}`;
  spawnSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)]);
  childCpu = 1;
  return {
    note: "pinned: this process and its servers on CPU 0, each measured process on CPU 1",
    release: () => {
      spawnSync("taskset", ["-a", "-p", "-c", all, String(process.pid)]);
      childCpu = undefined;
    },
  };
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
