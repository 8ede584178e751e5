import { execFile } from "node:child_process";
import { join } from "node:path";
import { S3RVER_CREDENTIALS } from "../../cli/embedded-s3";

const CLI = join(__dirname, "..", "..", "cli", "synthgen.js");

/** Runs the built `synthgen` CLI in a child process, with s3rver's credentials. */
export function synthgen(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
