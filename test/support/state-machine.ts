import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { S3RVER_CREDENTIALS } from "../../cli/embedded-s3";
import { lambdaEnvironment, lambdaNode } from "./lambda-runtime";
import { functionOf, type LoadedProgram } from "./program";
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

/**
 * One execution of a state machine the program declares, its Tasks calling the bundle of the
 * function `component` with the memory, timeout and environment the program declares for it,
 * S3 reached through `s3Endpoint` (a strict proxy) with s3rver's credentials.
 */
export function runProgramMachine(args: {
  readonly program: LoadedProgram;
  readonly component: string;
  readonly definition: Record<string, unknown>;
  readonly bundleDir: string;
  readonly s3Endpoint: string;
  readonly executionName: string;
  readonly input: unknown;
  /** More environment, such as a local target's endpoint. */
  readonly env?: Record<string, string>;
}): Promise<DriverResult> {
  const fn = functionOf(args.program, args.component);
  return runStateMachine({
    definition: args.definition,
    bundleDir: args.bundleDir,
    handlerFile: `${fn.handler.split(".")[0]}.js`,
    env: lambdaEnvironment(fn.memorySize, {
      ...fn.environment,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      S3_ENDPOINT: args.s3Endpoint,
      ...args.env,
    }) as Record<string, string>,
    timeoutSeconds: fn.timeout,
    executionName: args.executionName,
    input: args.input,
  });
}
