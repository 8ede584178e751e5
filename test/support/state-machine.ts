import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { lambdaNode } from "./lambda-runtime";
import type { DriverJob, DriverResult } from "./state-machine-driver";

export type { DriverJob, DriverResult } from "./state-machine-driver";

const DRIVER = join(__dirname, "state-machine-driver.js");

/**
 * Executes a state machine definition once with a local States Language interpreter, its Lambda
 * Tasks calling the bundled handler, in a fresh process on Lambda's Node (a cold container; the
 * interpreter needs Node 22). Resolves with how the execution ended.
 */
export async function runStateMachine(job: DriverJob): Promise<DriverResult> {
  const dir = await mkdtemp(join(tmpdir(), "synthgen-sfn-"));
  try {
    const jobFile = join(dir, "job.json");
    await writeFile(jobFile, JSON.stringify(job));
    const { stdout } = await promisify(execFile)(lambdaNode(), [DRIVER, jobFile], {
      cwd: join(__dirname, "..", "..", ".."),
      env: { PATH: process.env.PATH },
      maxBuffer: 64 << 20,
    });
    const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`the state machine driver printed no result:\n${stdout}`);
    return JSON.parse(line.slice("RESULT ".length)) as DriverResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
