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
    env: programEnvironment(fn, args.s3Endpoint, args.env),
    timeoutSeconds: fn.timeout,
    executionName: args.executionName,
    input: args.input,
  });
}

/** The function's declared environment and memory, as Lambda gives them, with S3 at the stand-in. */
function programEnvironment(fn: ReturnType<typeof functionOf>, s3Endpoint: string, more: Record<string, string> = {}): Record<string, string> {
  return lambdaEnvironment(fn.memorySize, {
    ...fn.environment,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    S3_ENDPOINT: s3Endpoint,
    ...more,
  }) as Record<string, string>;
}

/**
 * One direct invocation of the program's bundled function (as `aws lambda invoke` does), in a
 * fresh process on Lambda's Node with its declared environment. Resolves with the handler's
 * answer, or `{thrown}` naming the error it threw.
 */
export async function invokeProgramFunction(args: {
  readonly program: LoadedProgram;
  readonly component: string;
  readonly bundleDir: string;
  readonly s3Endpoint: string;
  readonly event: unknown;
}): Promise<unknown> {
  return (await invokeProgramFunctionLogged(args)).result;
}

/** The same, with what the function printed on stdout (its log lines, EMF metric lines among them). */
export async function invokeProgramFunctionLogged(args: {
  readonly program: LoadedProgram;
  readonly component: string;
  readonly bundleDir: string;
  readonly s3Endpoint: string;
  readonly event: unknown;
  readonly environment?: Record<string, string>;
}): Promise<{ result: unknown; stdout: string[] }> {
  const fn = functionOf(args.program, args.component);
  const file = join(args.bundleDir, `${fn.handler.split(".")[0]}.js`);
  const script = `
    const { handler } = require(${JSON.stringify(file)});
    const started = Date.now();
    const context = { awsRequestId: "direct-1", getRemainingTimeInMillis: () => ${fn.timeout * 1000} - (Date.now() - started) };
    handler(${JSON.stringify(args.event)}, context)
      .catch((err) => ({ thrown: err.name + ": " + err.message }))
      .then((res) => { process.stdout.write("RESULT " + JSON.stringify(res) + "\\n"); process.exit(0); }, (err) => { process.stderr.write(String(err && err.stack)); process.exit(1); });`;
  const { stdout } = await promisify(execFile)(lambdaNode(), ["-e", script], { cwd: args.bundleDir, env: programEnvironment(fn, args.s3Endpoint, args.environment), maxBuffer: 64 * 1024 * 1024 });
  const lines = stdout.split("\n");
  const line = lines.find((l) => l.startsWith("RESULT "));
  if (line === undefined) throw new Error(`no answer from ${args.component}: ${stdout.slice(-2000)}`);
  return { result: JSON.parse(line.slice(7)) as unknown, stdout: lines.filter((l) => l !== "" && !l.startsWith("RESULT ")) };
}
