import { CapacityError, ValidationError } from "../src/core/errors";

/** Exit codes of every command: 0 all done, 1 a failure (see the summary), 2 bad input (nothing done). */
export const EXIT = Object.freeze({ OK: 0, FAILED: 1, BAD_INPUT: 2 });

/** A numeric-looking flag becomes a number; anything else stays text for the validator to name. */
export function numeric(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  return /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : text;
}

/** `a=1,b=0.5` as an object (values numeric when they look it), for --weights and --dirty. */
export function parsePairs(flag: string, text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const part of text.split(",")) {
    const m = /^\s*([A-Za-z_]+)\s*=\s*(.+?)\s*$/.exec(part);
    if (!m) throw new ValidationError(flag, `${flag} must be NAME=VALUE pairs separated by commas (got "${part}")`);
    // A plain object would take "__proto__" as its prototype and drop the pair without a word.
    if (m[1] === "__proto__") throw new ValidationError(flag, `${flag}: "__proto__" is not a NAME`);
    out[m[1] as string] = numeric(m[2]);
  }
  return out;
}

/** An event object from flag values, leaving out the flags not given. */
export function eventFrom(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/**
 * Prints a validation error with the flag the user typed in place of the event field it fed, and
 * returns the bad-input exit code. Anything that is not bad input is rethrown.
 */
export function badInput(err: unknown, flagForField: Readonly<Record<string, string>>): number {
  if (!(err instanceof ValidationError || err instanceof CapacityError)) throw err;
  const flag = flagForField[err.field];
  // A message that starts with its flag already names it.
  const named = flag === undefined || err.message.startsWith(flag);
  process.stderr.write(`synthgen: ${named ? "" : `${flag}: `}${err.message}\n`);
  return EXIT.BAD_INPUT;
}

/** Prints the summary JSON on stdout and, when it failed, one line on stderr; returns the exit code. */
export function finish<T extends { status: string }>(body: T, failure: string): number {
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  if (body.status === "failed") {
    process.stderr.write(`synthgen: ${failure}\n`);
    return EXIT.FAILED;
  }
  return EXIT.OK;
}

/** An unexpected error: one line on stderr, exit 1. */
export function crashed(err: unknown): number {
  process.stderr.write(`synthgen: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.FAILED;
}

/**
 * The AWS SDK warns once per thread that its 2027 releases need Node 22; every worker thread of a
 * run printed it over the progress bar. Say it once, in one line, and silence the SDK's copies
 * (worker threads take the environment as it is when they start).
 */
export function sdkNodeNoticeOnce(): void {
  if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === "true") return;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) process.stderr.write(`synthgen: note: AWS SDK releases from January 2027 need Node.js 22 or newer (this is ${process.version})\n`);
}
