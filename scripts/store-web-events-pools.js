#!/usr/bin/env node
// Stores what faker makes of web-events' pool seed as src/datasets/web-events-pools.json, after a
// faker upgrade changed it (the spec "builds its pools from faker's output stored as data" says
// so). Run after `npm run build`; then `npm run format`. Changing the stored pools changes every
// web-events file: the pinned SHA-256 spec must change with them, on purpose.
"use strict";
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");
const { fakerPoolText } = require("../dist/src/datasets/web-events-pool-source");

writeFileSync(join(__dirname, "..", "src", "datasets", "web-events-pools.json"), `${JSON.stringify(fakerPoolText(), null, 2)}\n`);
