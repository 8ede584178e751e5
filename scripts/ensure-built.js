#!/usr/bin/env node
// Builds dist/ only when a TypeScript source is newer than the last build, so a second `npm start`
// starts at once instead of spending ~10 s and ~700 MB in tsc. Plain JavaScript: it runs before
// anything is compiled.
"use strict";
const { execFileSync } = require("node:child_process");
const { readdirSync, statSync, existsSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const stamp = join(root, "dist", "cli", "synthgen.js");
const sources = ["index.ts", "infra", "functions", "workers", "src", "cli", "test", "bench", "types", "tsconfig.json", "package.json"];

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) latest = Math.max(latest, newest(join(path, entry.name)));
  return latest;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = sources
  .map((s) => join(root, s))
  .filter(existsSync)
  .some((p) => newest(p) > built);
if (changed) {
  process.stderr.write("synthgen: compiling (sources changed since the last build)\n");
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", root], { stdio: "inherit" });
}
