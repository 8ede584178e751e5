import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { S3RVER_CREDENTIALS } from "../cli/embedded-s3";
import { bundleFiles } from "../infra/bundle";
import { spread } from "./ratios";

const run = promisify(execFile);

/**
 * What the run metrics cost: the bundled generate-files handler on this Node, loaded and invoked
 * in a fresh process (a cold start) for `files` small files, with its EMF lines on and off
 * (`POWERTOOLS_METRICS_DISABLED`), alternated `rounds` times: require time and invocation time,
 * min and median, and the ratio on / off per pair.
 */
export async function runMetricsCost(s3: { endpoint: string; bucket: string }, rounds = 7, files = 20): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "synthgen-metrics-cost-"));
  try {
    for (const [path, text] of bundleFiles({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" })) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const script = `
      const t0 = performance.now();
      const { handler } = require(${JSON.stringify(join(dir, "functions", "generate-files.js"))});
      const loaded = performance.now() - t0;
      const t1 = performance.now();
      const out = process.stdout.write.bind(process.stdout);
      let emf = 0;
      process.stdout.write = (s, ...r) => { if (String(s).includes('"_aws"')) emf++; return true; };
      handler({ file_count: ${files}, target_size_mb: 0.05, run_id: "metrics-cost", date_prefix: "2025-12-23" }, { awsRequestId: "bench", getRemainingTimeInMillis: () => 900000 }).then((res) => {
        out(JSON.stringify({ loadedMs: loaded, invocationMs: performance.now() - t1, successful: res.body.successful, emf }) + "\\n");
        process.exit(0);
      }, (err) => { process.stderr.write(String(err && err.stack) + "\\n"); process.exit(1); });`;
    const once = async (metrics: boolean) => {
      const { stdout } = await run(process.execPath, ["-e", script], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1769",
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          BUCKET_NAME: s3.bucket,
          KEY_PREFIX: "metrics-cost/",
          S3_ENDPOINT: s3.endpoint,
          ...(metrics ? {} : { POWERTOOLS_METRICS_DISABLED: "true" }),
        },
        maxBuffer: 1 << 20,
      });
      return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { loadedMs: number; invocationMs: number; successful: number; emf: number };
    };
    const on: { loadedMs: number; invocationMs: number; emf: number }[] = [];
    const off: { loadedMs: number; invocationMs: number; emf: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      on.push(await once(true));
      off.push(await once(false));
    }
    const f = (x: number) => x.toFixed(1);
    const row = (what: string, key: "loadedMs" | "invocationMs") => {
      const a = spread(on.map((x) => x[key]));
      const b = spread(off.map((x) => x[key]));
      const ratio = spread(on.map((x, i) => x[key] / (off[i] as { loadedMs: number; invocationMs: number })[key]));
      console.log(`| ${what} | ${f(a.min)} / ${f(a.median)} | ${f(b.min)} / ${f(b.median)} | ${ratio.min.toFixed(3)} / ${ratio.median.toFixed(3)} |`);
    };
    console.log(`run metrics (EMF) on vs off: the bundled generate-files, a fresh process each, ${files} × 0.05 MiB to the embedded S3, ${rounds} rounds alternated; ms, min / median\n`);
    console.log(`| step | metrics on | metrics off | on ÷ off per pair (min / median) |`);
    console.log(`|---|---|---|---|`);
    row("require the handler (cold start)", "loadedMs");
    row("the invocation", "invocationMs");
    console.log(`\nEMF lines per invocation: on ${on[0]?.emf}, off ${off[0]?.emf}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
