import { constants } from "node:fs";
import { access, mkdir, statfs } from "node:fs/promises";
import { ValidationError } from "../src/core/errors";
import { BYTES_PER_MB } from "../src/core/limits";
import type { RunPlan } from "../src/files/plan";
import { sinkFor, type SinkSpec } from "../src/sinks";
import { removeStalePartials } from "../src/sinks/local";
import { presentKeys } from "../src/sinks/sink";
import { sdkNodeNoticeOnce } from "./common";

const mib = (bytes: number) => `${(bytes / BYTES_PER_MB).toFixed(bytes < 10 * BYTES_PER_MB ? 2 : 1)} MiB`;
const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * Before a CLI run writes anything: says what it will write (files, total size, where), and for a
 * local folder refuses a target it cannot write to or a run that does not fit in its free space
 * (unless told to ignore it), and removes the temporary files that killed runs left there.
 */
export async function preflight(plan: RunPlan, sink: SinkSpec, options: { ignoreFreeSpace: boolean }): Promise<void> {
  const total = plan.fileBytes * plan.files.length;
  const where = sink.kind === "s3" ? `s3://${sink.bucket}/${plan.keyPrefix}` : sink.dir;
  process.stderr.write(
    `synthgen: ${plan.files.length} files × ${mib(plan.fileBytes)} = ${total >= 1024 ** 3 ? gib(total) : mib(total)} of ${plan.request.dataset} to ${where} (run ${plan.request.runId})\n`,
  );
  if (sink.kind === "s3") {
    sdkNodeNoticeOnce();
    return;
  }
  try {
    await mkdir(sink.dir, { recursive: true });
    await access(sink.dir, constants.W_OK);
  } catch (err) {
    throw new ValidationError("--out", `--out ${sink.dir} cannot be written to (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was written`);
  }
  const stale = await removeStalePartials(sink.dir);
  if (stale > 0) process.stderr.write(`synthgen: removed ${stale} temporary files that an interrupted run left in ${sink.dir}\n`);
  if (options.ignoreFreeSpace) return;
  const fs = await statfs(sink.dir);
  const free = fs.bavail * fs.bsize;
  if (total > free) {
    throw new ValidationError(
      "--out",
      `the run needs ${gib(total)} but ${sink.dir} has ${gib(free)} free: lower --files or --size-mb, choose another --out, or pass --ignore-free-space; nothing was written`,
    );
  }
}

/** What stopped a run, and its conventional exit code (128 + signal number). */
export interface Interruption {
  readonly signal: NodeJS.Signals;
  readonly exitCode: 130 | 143;
}

/**
 * Traps Ctrl-C (SIGINT) and SIGTERM for the length of a run: the first one calls `stop` (which
 * ends the run's work so its summary can be printed); a second one exits at once.
 */
export function trapInterrupts(stop: () => Promise<void>): { readonly interruption: () => Interruption | undefined; dispose(): void } {
  let caught: Interruption | undefined;
  const on = (signal: NodeJS.Signals) => {
    if (caught) process.exit(caught.exitCode);
    caught = { signal, exitCode: signal === "SIGINT" ? 130 : 143 };
    process.stderr.write(`\nsynthgen: ${signal}: stopping; files in progress are abandoned and cleaned up (again to quit at once)\n`);
    void stop();
  };
  const onInt = () => on("SIGINT");
  const onTerm = () => on("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return {
    interruption: () => caught,
    dispose() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
  };
}

/**
 * After an interruption: which abandoned files landed anyway (a file can complete in the instant
 * its worker is stopped: renamed or completed as a whole, so it is whole), and removes what the
 * others left (temporary files, open multipart uploads). Returns how many landed.
 */
export async function settleAbandoned(sink: SinkSpec, abandoned: readonly string[]): Promise<number> {
  const landed = await presentKeys(sinkFor(sink), abandoned);
  const unfinished = abandoned.filter((k) => !landed.has(k));
  try {
    const removed = await sinkFor(sink).cleanUp(unfinished);
    if (removed > 0) process.stderr.write(`synthgen: cleaned up ${removed} unfinished ${sink.kind === "s3" ? "multipart uploads" : "temporary files"}\n`);
  } catch (err) {
    process.stderr.write(`synthgen: could not clean up unfinished uploads (${(err as Error).message}); a bucket created by the stack aborts them after a day\n`);
  }
  return landed.size;
}
