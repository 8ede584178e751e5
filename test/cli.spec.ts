import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
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
    const body = JSON.parse(res.stdout) as { status: string; successful: number; run_id: string; seed: number; files: { key: string; size_bytes: number }[] };
    assert.deepEqual([body.status, body.successful, body.run_id, body.seed], ["completed", 3, "cli-run", 9]);
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

  it("exits 1 with the failed keys in the summary when the sink fails", async () => {
    const res = await synthgen(["generate", "--files", "2", "--size-mb", "0.05", "--out", "s3://no-such-bucket", "--endpoint", s3.endpoint]);
    assert.equal(res.code, 1);
    const body = JSON.parse(res.stdout) as { status: string; failed: number; errors: { key: string; error: string }[] };
    assert.deepEqual([body.status, body.failed], ["failed", 2]);
    assert.match(body.errors[0]!.error, /NoSuchBucket/);
    assert.match(res.stderr, /2 of 2 files failed/);
  });

  it("documents every flag in --help", async () => {
    const res = await synthgen(["generate", "--help"]);
    assert.equal(res.code, 0);
    for (const flag of ["--files", "--size-mb", "--date", "--dataset", "--seed", "--run-id", "--key-prefix", "--threads", "--out", "--endpoint", "Exit codes"]) {
      assert.ok(res.stdout.includes(flag), flag);
    }
  });
});
