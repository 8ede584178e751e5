#!/usr/bin/env node
// Stores the padding source (makePaddingSource in src/records/record-source.ts) as
// src/records/padding-source.json, after a change to how it is made (the spec "slices its padding
// from the stored padding source" says so). Run after `npm run build`. Changing it changes every
// padded file: the pinned SHA-256 spec must change with it, on purpose.
"use strict";
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");
const { makePaddingSource } = require("../dist/src/records/record-source");

writeFileSync(join(__dirname, "..", "src", "records", "padding-source.json"), `${JSON.stringify(makePaddingSource())}\n`);
