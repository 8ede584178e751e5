import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthgen } from "./support/cli";
import { startTestS3, type TestS3 } from "./support/s3";

describe("synthgen generate (CLI)", () => {
  let work: string;
  let s3: TestS3;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "synthgen-cli-"));
    s3 = await startTestS3(["cli-bucket"]);
  });
  after(async () => {
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("writes files to a local folder and prints the function's response body", async () => {
    const out = join(work, "local");
    const res = await synthgen(["generate", "--files", "3", "--size-mb", "0.25", "--date", "2025-12-23", "--run-id", "cli-run", "--seed", "9", "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    const body = JSON.parse(res.stdout) as {
      status: string;
      successful: number;
      run_id: string;
      seed: number;
      folder: string;
      bucket?: string;
      files: { key: string; size_bytes: number; path: string; s3_uri?: string }[];
    };
    assert.deepEqual([body.status, body.successful, body.run_id, body.seed], ["completed", 3, "cli-run", 9]);
    // A local run names its folder and each file's path, not a bucket and an s3:// (or file://) URI.
    assert.deepEqual([body.folder, body.bucket, body.files[0]!.s3_uri], [out, undefined, undefined]);
    assert.equal(body.files[0]!.path, join(out, body.files[0]!.key));
    const names = (await readdir(out)).sort();
    assert.deepEqual(names, body.files.map((f) => f.key).sort());
    for (const name of names) assert.equal((await stat(join(out, name))).size, 0.25 * 1024 * 1024);
  });

  it("writes the same keys and bytes for the same run id, whatever the thread count", async () => {
    const a = join(work, "same-a");
    const b = join(work, "same-b");
    const args = ["generate", "--files", "2", "--size-mb", "0.1", "--date", "2025-12-23", "--run-id", "repeatable"];
    assert.equal((await synthgen([...args, "--threads", "1", "--out", a])).code, 0);
    assert.equal((await synthgen([...args, "--threads", "2", "--out", b])).code, 0);
    const names = (await readdir(a)).sort();
    assert.deepEqual((await readdir(b)).sort(), names);
    for (const name of names) assert.ok((await readFile(join(a, name))).equals(await readFile(join(b, name))));
  });

  it("writes to an S3-compatible endpoint under the destination's prefix", async () => {
    const res = await synthgen(["generate", "--files", "2", "--size-mb", "0.1", "--run-id", "to-s3", "--out", "s3://cli-bucket/loadtest", "--endpoint", s3.endpoint]);
    assert.equal(res.code, 0, res.stderr);
    const body = JSON.parse(res.stdout) as { bucket: string; files: { key: string; s3_uri: string }[] };
    assert.equal(body.bucket, "cli-bucket");
    assert.match(body.files[0]!.s3_uri, /^s3:\/\/cli-bucket\/loadtest\//);
    assert.deepEqual(await s3.keys("cli-bucket", "loadtest/"), body.files.map((f) => f.key).sort());
  });

  it("exits 2 naming the flag, and writes nothing, on bad input", async () => {
    const out = join(work, "never");
    const cases: [string[], RegExp][] = [
      [["--files", "0"], /--files: file_count must be a whole number from 1 to 10000 \(got 0\)/],
      [["--files", "ten"], /--files: file_count must be a whole number .* \(got "ten"\)/],
      [["--size-mb", "-2"], /--size-mb: target_size_mb must be a number of MiB from 0\.01 to 1024/],
      [["--date", "2025-13-01"], /--date: date_prefix must be a real date/],
      [["--dataset", "nope"], /--dataset: dataset must be one of web-events/],
      [["--threads", "0"], /--threads must be a whole number from 1 to 64/],
      [["--key-prefix", "../up"], /--key-prefix: key_prefix must be a relative S3 key prefix/],
    ];
    for (const [args, message] of cases) {
      const res = await synthgen(["generate", ...args, "--out", out]);
      assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
      assert.match(res.stderr, message);
      assert.equal(res.stdout, "");
    }
    assert.equal(existsSync(out), false);
    const bad = await synthgen(["generate", "--out", "s3://B!/x", "--endpoint", s3.endpoint]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--out must name an S3 bucket/);
  });

  it("exits 1 when the sink fails, with the failures folded by cause: 30 identical errors are one entry with its count", async () => {
    const res = await synthgen(["generate", "--files", "30", "--size-mb", "0.05", "--out", "s3://no-such-bucket", "--endpoint", s3.endpoint]);
    assert.equal(res.code, 1);
    const body = JSON.parse(res.stdout) as { status: string; failed: number; errors: { key: string; error: string; count: number }[] };
    assert.deepEqual([body.status, body.failed, body.errors.length, body.errors[0]!.count], ["failed", 30, 1, 30]);
    assert.match(body.errors[0]!.error, /NoSuchBucket/);
    assert.match(body.errors[0]!.key, /-test00\d\d-/);
    assert.match(res.stderr, /30 of 30 files failed/);
  });

  it("documents every flag in --help", async () => {
    const res = await synthgen(["generate", "--help"]);
    assert.equal(res.code, 0);
    for (const flag of ["--files", "--size-mb", "--date", "--dataset", "--seed", "--run-id", "--key-prefix", "--threads", "--out", "--endpoint", "Exit codes"]) {
      assert.ok(res.stdout.includes(flag), flag);
    }
  });
});

describe("synthgen: the conventions of command-line tools", () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "synthgen-conv-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("exits 2 with the command's usage line on an unknown command, an unknown flag or a missing argument", async () => {
    const cases: [string[], RegExp, RegExp][] = [
      [["genrate"], /unknown command 'genrate'/, /Usage: synthgen \[options\] \[command\]/],
      [["generate", "--file", "3"], /unknown option '--file'\n\(Did you mean --files\?\)/, /Usage: synthgen generate \[options\]/],
      [["validate"], /missing required argument 'file'/, /Usage: synthgen validate \[options\] <file>/],
      [["emit", "--streams"], /option '--streams <n>' argument missing/, /Usage: synthgen emit \[options\]/],
    ];
    for (const [args, error, usage] of cases) {
      const res = await synthgen(args);
      assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
      assert.match(res.stderr, error);
      assert.match(res.stderr, usage);
      assert.equal(res.stdout, "");
    }
  });

  it("prints its version with --version, and exit codes in every command's help", async () => {
    const { version } = JSON.parse(await readFile(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
    const res = await synthgen(["--version"]);
    assert.deepEqual([res.code, res.stdout.trim()], [0, version]);
    for (const command of ["generate", "emit", "index", "preview", "validate", "local"]) {
      const help = await synthgen([command, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Exit codes: 0 /, command);
    }
  });

  it("stops quietly with exit 0 when its output pipe closes early (`synthgen … | head -1`)", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [join(__dirname, "..", "cli", "synthgen.js"), "preview", "-n", "10000"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Error/);
  });

  /** Starts a long run, waits for its first finished file, then sends `signal`. */
  async function interrupt(signal: NodeJS.Signals, out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [join(__dirname, "..", "cli", "synthgen.js"), "generate", "--files", "40", "--size-mb", "16", "--threads", "2", "--run-id", `sig-${signal}`, "--out", out]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    for (let i = 0; i < 600; i++) {
      const names = await readdir(out).catch(() => [] as string[]);
      if (names.some((n) => n.endsWith(".ndjson")) && names.some((n) => n.endsWith(".partial"))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill(signal);
    return { code: await exited, stdout, stderr };
  }

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`stops on ${signal}: exit ${code}, the summary so far on stdout, no temporary file left`, async () => {
      const out = join(work, `interrupted-${signal}`);
      const res = await interrupt(signal, out);
      assert.equal(res.code, code, res.stderr);
      const body = JSON.parse(res.stdout) as { status: string; signal: string; successful: number; not_written: number; total_files: number };
      assert.deepEqual([body.status, body.signal, body.total_files], ["interrupted", signal, 40]);
      assert.ok(body.successful >= 1 && body.not_written >= 1 && body.successful + body.not_written === 40, JSON.stringify(body));
      const names = await readdir(out);
      assert.deepEqual(
        names.filter((n) => n.includes(".partial")),
        [],
      );
      assert.equal(names.length, body.successful);
      assert.match(res.stderr, /interrupted: \d+ of 40 files written; run again with --run-id/);
    });
  }

  it("removes temporary files a killed run left, and keeps those of a run still going", async () => {
    const out = join(work, "stale");
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "2025-01-01-test0000-000000.ndjson.999999-1.partial"), "half a file");
    await writeFile(join(out, `2025-01-01-test0001-000000.ndjson.${process.pid}-1.partial`), "still being written");
    const res = await synthgen(["generate", "--files", "1", "--size-mb", "0.05", "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /removed 1 temporary files that an interrupted run left/);
    const names = await readdir(out);
    assert.ok(!names.some((n) => n.includes("999999")));
    assert.ok(names.some((n) => n.includes(`${process.pid}-1.partial`)));
  });

  it("prints the plan first, and refuses an --out it cannot write to, with one clear error and nothing written", async () => {
    const { writeFile } = await import("node:fs/promises");
    const file = join(work, "a-file");
    await writeFile(file, "");
    const res = await synthgen(["generate", "--files", "10000", "--size-mb", "0.01", "--out", join(file, "sub")]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /10000 files × 0\.01 MiB = 100\.0 MiB of web-events to .*a-file\/sub/);
    assert.match(res.stderr, /synthgen: --out .*a-file\/sub cannot be written to \(ENOTDIR\); nothing was written/);
    assert.equal(res.stderr.split("\n").filter((l) => l.includes("ENOTDIR")).length, 1);
    assert.equal(res.stdout, "");
  });

  it("refuses a local run larger than the free space (10,000 × 1 GiB), unless told to ignore it", async () => {
    const out = join(work, "huge");
    const res = await synthgen(["generate", "--files", "10000", "--size-mb", "1024", "--out", out]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /10000 files × 1024\.0 MiB = 10000\.0 GiB/);
    assert.match(res.stderr, /synthgen: the run needs 10000\.0 GiB but .* has [\d.]+ GiB free: lower --files or --size-mb, choose another --out, or pass --ignore-free-space/);
    assert.deepEqual(await readdir(out), []);
  });

  it("emit takes a schema file as --dataset, as generate does: its records go out as events", async () => {
    const { startIngestServer } = await import("./support/ingest-server");
    const server = await startIngestServer();
    try {
      const example = join(__dirname, "..", "..", "examples", "orders.yaml");
      const res = await synthgen(["emit", "--to", server.url, "--dataset", example, "--streams", "3", "--events-per-stream", "5", "--run-id", "orders-emit"]);
      assert.equal(res.code, 0, res.stderr);
      const body = JSON.parse(res.stdout) as { dataset: string; sent: number };
      assert.deepEqual([body.dataset, body.sent, server.accepted.length], ["orders", 15, 15]);
      for (const a of server.accepted) assert.ok("order_id" in (a.body as object) && "amount" in (a.body as object), JSON.stringify(a.body));
    } finally {
      await server.close();
    }
  });

  it("emit speaks TLS to an https: ingest API, trusting a private CA given by NODE_EXTRA_CA_CERTS, and refuses it without", async () => {
    const { startIngestServer } = await import("./support/ingest-server");
    const { LOCALHOST_CERT, LOCALHOST_KEY } = await import("./support/tls");
    const server = await startIngestServer(undefined, { tls: { cert: LOCALHOST_CERT, key: LOCALHOST_KEY } });
    const dir = await mkdtemp(join(tmpdir(), "synthgen-ca-"));
    try {
      const ca = join(dir, "ca.pem");
      await writeFile(ca, LOCALHOST_CERT);
      const args = ["emit", "--to", server.url, "--streams", "2", "--events-per-stream", "10", "--run-id", "tls-emit"];
      const trusted = await synthgen(args, { NODE_EXTRA_CA_CERTS: ca });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal((JSON.parse(trusted.stdout) as { sent: number }).sent, 20);
      assert.equal(server.accepted.length, 20);
      const untrusted = await synthgen(args);
      assert.notEqual(untrusted.code, 0);
      assert.match(untrusted.stdout + untrusted.stderr, /DEPTH_ZERO_SELF_SIGNED_CERT/);
      assert.equal(server.accepted.length, 20);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
