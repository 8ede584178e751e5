/**
 * Runs one execution of a state machine definition with a local States Language interpreter
 * (`aws-local-stepfunctions`), each `arn:aws:states:::lambda:invoke` Task routed to a bundled
 * Lambda handler in this process, as the Lambda integration calls it:
 * - the Task's `Parameters.Payload` is the event; the Task's result is
 *   `{ ExecutedVersion, Payload: <handler's return>, StatusCode: 200 }`;
 * - a handler that throws fails the Task with the error's name as `Error` (what `Retry` and
 *   `Catch` match), its message as `Cause`.
 *
 * Run on Lambda's Node (the interpreter needs Node 22) by `runStateMachine` in
 * `state-machine.ts`. Reads a job file (argv[2]) and prints one `RESULT {...}` line.
 */
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";

export interface DriverJob {
  readonly definition: Record<string, unknown>;
  /** A folder holding the bundle (`functions/<name>.js`). */
  readonly bundleDir: string;
  readonly handlerFile: string;
  /** The function's environment, as the stack declares it, plus Lambda's own variables. */
  readonly env: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly executionName: string;
  readonly input: unknown;
}

export interface DriverResult {
  readonly status: "SUCCEEDED" | "FAILED";
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Invocations per Task state name, retries included. */
  readonly invocations: Record<string, number>;
  /** The most Task invocations of each state that were running at the same time. */
  readonly maxInFlight: Record<string, number>;
  readonly node: string;
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2] as string, "utf8")) as DriverJob;
  // The handler reads its environment once, at load, as in a Lambda container.
  Object.assign(process.env, job.env);
  const { handler } = require(join(job.bundleDir, job.handlerFile)) as {
    handler: (event: unknown, context: { awsRequestId: string; getRemainingTimeInMillis(): number }) => Promise<unknown>;
  };
  const { StateMachine } = require("aws-local-stepfunctions") as typeof import("aws-local-stepfunctions");

  const invocations: Record<string, number> = {};
  const inFlight: Record<string, number> = {};
  const maxInFlight: Record<string, number> = {};
  let running = 0;
  const lambdaInvoke = (state: string) => async (input: { FunctionName: string; Payload: unknown }) => {
    invocations[state] = (invocations[state] ?? 0) + 1;
    inFlight[state] = (inFlight[state] ?? 0) + 1;
    maxInFlight[state] = Math.max(maxInFlight[state] ?? 0, inFlight[state] as number);
    running++;
    const deadline = Date.now() + job.timeoutSeconds * 1000;
    try {
      const payload = await handler(input.Payload, { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() });
      return { ExecutedVersion: "$LATEST", Payload: payload, StatusCode: 200 };
    } catch (err) {
      const failure = new Error((err as Error).message);
      failure.name = (err as Error).name;
      throw failure;
    } finally {
      inFlight[state] = (inFlight[state] as number) - 1;
      running--;
    }
  };

  const taskStates = (states: Record<string, any>, into: Record<string, ReturnType<typeof lambdaInvoke>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === "Task" && state.Resource === "arn:aws:states:::lambda:invoke") into[name] = lambdaInvoke(name);
      if (state.Type === "Map") taskStates((state.ItemProcessor ?? state.Iterator).States, into);
    }
    return into;
  };
  const handlers = taskStates((job.definition as { States: Record<string, any> }).States, {});
  // Retry waits shortened to nothing: the count of attempts is what the spec checks, not the clock.
  const noWaits = Object.fromEntries(Object.keys(handlers).map((name) => [name, 0]));

  const machine = new StateMachine(job.definition as never, { validationOptions: { checkPaths: true, checkArn: true } });
  const execution = machine.run(job.input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: noWaits },
    context: { Execution: { Name: job.executionName } },
  });
  let result: Omit<DriverResult, "invocations" | "maxInFlight" | "node">;
  try {
    result = { status: "SUCCEEDED", output: await execution.result };
  } catch (err) {
    // The interpreter wraps what ended the execution (a Fail state, an uncaught error) in an ExecutionError.
    const reason = ((err as Error).name === "ExecutionError" && (err as Error).cause instanceof Error ? (err as Error).cause : err) as Error;
    result = { status: "FAILED", error: reason.name, cause: reason.message };
  }
  // An aborted Map leaves invocations running, as Lambda would: let them end before reporting.
  while (running > 0) await new Promise((r) => setTimeout(r, 20));
  const out: DriverResult = { ...result, invocations, maxInFlight, node: process.version };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  });
}
