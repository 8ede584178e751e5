import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli", "synthgen.js");

/** Every block fenced as ```sh local in the README and the guides, in reading order. */
function localExamples(): { doc: string; script: string }[] {
  const docs = [
    "README.md",
    ...readdirSync(join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .sort()
      .map((f) => join("docs", f)),
  ];
  return docs.flatMap((doc) => [...readFileSync(join(ROOT, doc), "utf8").matchAll(/^```sh local\n([\s\S]*?)^```$/gm)].map((m) => ({ doc, script: m[1] as string })));
}

/** The environment a reader's shell has: no AWS settings of ours, `synthgen` on the PATH. */
function readerEnvironment(bin: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  return { ...env, PATH: `${bin}:${process.env.PATH}` };
}

describe("the README's and guides' local examples, run as written against `synthgen local`", () => {
  const examples = localExamples();
  let work: string;
  let local: ChildProcess;
  let localLog = "";

  before(async function () {
    work = await mkdtemp(join(tmpdir(), "synthgen-readme-"));
    const bin = join(work, "bin");
    await mkdir(bin);
    // What `npm link` provides: a `synthgen` command.
    await writeFile(join(bin, "synthgen"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(join(bin, "synthgen"), 0o755);
    // The reader runs the examples from a checkout: examples/ is there.
    await mkdir(join(work, "checkout"));
    await symlink(join(ROOT, "examples"), join(work, "checkout", "examples"));
    local = spawn(process.execPath, [CLI, "local", "--dir", join(work, ".synthgen")], { cwd: join(work, "checkout"), env: readerEnvironment(bin) });
    await new Promise<void>((resolve, reject) => {
      local.stderr!.on("data", (c: Buffer) => {
        localLog += c.toString();
        if (localLog.includes("ready")) resolve();
      });
      local.on("exit", (code) => reject(new Error(`synthgen local exited ${code}: ${localLog}`)));
    });
    this.bin = bin;
  });

  after(async () => {
    if (local && local.exitCode === null) {
      const exited = new Promise<number | null>((resolve) => local.on("exit", (code) => resolve(code)));
      local.kill("SIGINT");
      assert.equal(await exited, 0, `synthgen local stops cleanly on Ctrl-C: ${localLog}`);
    }
    await rm(work, { recursive: true, force: true });
  });

  it("finds the marked examples (the README's tour at least)", () => {
    assert.ok(examples.filter((e) => e.doc === "README.md").length >= 5, `${examples.length} examples found`);
  });

  for (const [i, { doc, script }] of localExamples().entries()) {
    const first = script.split("\n").find((l) => l.trim() !== "" && !l.startsWith("export")) ?? script;
    it(`${doc} #${i + 1}: ${first.slice(0, 90)}`, async function () {
      const env = readerEnvironment(this.bin as string);
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile("bash", ["-euo", "pipefail", "-c", script], { cwd: join(work, "checkout"), env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      assert.equal(result.code, 0, `${doc}:\n${script}\nexit ${result.code}\n${result.stderr}`);
      // Every command prints its JSON summary (or, for validate and preview, its text) on stdout.
      assert.notEqual(result.stdout.trim(), "");
    });
  }
});
