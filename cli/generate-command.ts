import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { threadsFor } from "../src/capacity";
import { CapacityError, ValidationError } from "../src/errors";
import { generate } from "../src/generate";
import { createFilePool } from "../src/pool";
import { normaliseKeyPrefix } from "../src/request";
import type { SinkSpec } from "../src/sinks";
import { badInput, crashed, eventFrom, finish, numeric } from "./common";
import { progressBar } from "./progress";

/** `synthgen generate` flags, as commander hands them over (strings until validated). */
export interface GenerateFlags {
  files?: string;
  sizeMb?: string;
  date?: string;
  dataset?: string;
  seed?: string;
  runId?: string;
  keyPrefix?: string;
  threads?: string;
  out: string;
  endpoint?: string;
}

/** Which flag carries each event field, so CLI errors name what the user typed. */
const FLAG_FOR_FIELD: Record<string, string> = {
  file_count: "--files",
  target_size_mb: "--size-mb",
  date_prefix: "--date",
  dataset: "--dataset",
  seed: "--seed",
  run_id: "--run-id",
  key_prefix: "--key-prefix",
};

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `--out`: `s3://bucket/prefix` or a local folder. Returns the sink and the prefix it implies. */
export function parseDestination(out: string, endpoint: string | undefined): { sink: SinkSpec; prefix: string } {
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new ValidationError("--endpoint", `--endpoint must be an http:// or https:// URL (got "${endpoint}")`);
  }
  const m = /^s3:\/\/([^/]*)\/?(.*)$/.exec(out);
  if (!m) {
    if (endpoint !== undefined) throw new ValidationError("--endpoint", "--endpoint needs an s3:// destination in --out");
    return { sink: { kind: "local", dir: resolve(out) }, prefix: "" };
  }
  const bucket = m[1] ?? "";
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new ValidationError("--out", `--out must name an S3 bucket of 3 to 63 lowercase letters, digits, "." or "-" (got "${bucket}")`);
  }
  return {
    sink: { kind: "s3", bucket, ...(endpoint ? { endpoint } : {}) },
    prefix: normaliseKeyPrefix("--out", m[2] ?? ""),
  };
}

function parseThreads(text: string | undefined): number {
  const cores = availableParallelism();
  if (text === undefined) return threadsFor(undefined, cores);
  const n = numeric(text);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 64) {
    throw new ValidationError("--threads", `--threads must be a whole number from 1 to 64 (got "${text}")`);
  }
  return n;
}

/**
 * Runs `synthgen generate`: the same request validation, plan and worker code as the Lambda
 * function. Prints the function's response body on stdout; returns the exit code.
 */
export async function runGenerateCommand(flags: GenerateFlags): Promise<number> {
  const event = eventFrom({
    file_count: numeric(flags.files),
    target_size_mb: numeric(flags.sizeMb),
    date_prefix: flags.date,
    dataset: flags.dataset,
    seed: numeric(flags.seed),
    run_id: flags.runId,
    key_prefix: flags.keyPrefix,
  });

  let threads: number;
  let destination: ReturnType<typeof parseDestination>;
  try {
    threads = parseThreads(flags.threads);
    destination = parseDestination(flags.out, flags.endpoint);
  } catch (err) {
    return badInput(err, FLAG_FOR_FIELD);
  }

  const pool = createFilePool(threads);
  let progress: ReturnType<typeof progressBar> | undefined;
  try {
    const { body } = await generate(event, {
      defaults: { fileCount: 10, targetSizeMb: 3.5 },
      configuredPrefix: destination.prefix,
      sink: destination.sink,
      pool,
      context: { now: new Date() },
      beforeRun: (plan) => {
        progress = progressBar(plan.files.length);
      },
      onFileDone: (r) => progress?.onFileDone(r),
    });
    progress?.stop();
    return finish(body, `${body.failed} of ${body.total_files} files failed; see "errors" above`);
  } catch (err) {
    progress?.stop();
    if (err instanceof ValidationError || err instanceof CapacityError) return badInput(err, FLAG_FOR_FIELD);
    return crashed(err);
  } finally {
    await pool.close();
  }
}
