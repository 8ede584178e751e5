import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { ValidationError } from "../src/core/errors";
import { BYTES_PER_MB } from "../src/core/limits";
import { threadsForVolume } from "../src/files/capacity";
import { planRun } from "../src/files/plan";
import { parseDateRange, parseGenerateRequest } from "../src/files/request";
import { fileDatasetLoader, readSchemaFile, resolveDataset, sha256Of } from "../src/catalog/resolve";
import { DIRTY_KINDS, type DirtyKind } from "../src/records/dirty";
import type { ResolvedDataset } from "../src/records/dataset";
import { sinkLocation } from "../src/sinks";
import { MAX_REQUIRED, OUTCOMES, type Outcome, PRECISION_UNITS, type Precision, type VerifyOptions, type VerifyReport, verifyOutput } from "../src/verify/verify";
import type { ExpectedSource } from "../src/verify/expected";
import { badInput, crashed, EXIT, eventFrom, numeric, parsePairs } from "./common";
import { FLAG_FOR_FIELD, parseDestination, runEventOf } from "./generate-options";
import { readRunDocument } from "./run-document";
import type { VerifyFlags } from "./verify-flags";

export type { VerifyFlags } from "./verify-flags";

const FLAGS: Record<string, string> = {
  ...FLAG_FOR_FIELD,
  key: "--key",
  threads: "--threads",
  precision: "--precision",
  map: "--map",
  drop: "--drop",
  ignore: "--ignore",
  require: "--require",
  expect: "--expect",
  output: "--output",
  manifest: "--manifest",
  scenario: "--scenario",
  files: "--files",
  "--out": "--output",
  table: "--table",
  emit_report: "--emit-report",
  index_report: "--index-report",
  stream_count: "--streams",
  events_per_stream: "--events-per-stream",
  event_weights: "--weights",
  stream_skew: "--skew",
  idempotency_field: "--idempotency-field",
  sent_field: "--sent-field",
  arrival_field: "--arrival-field",
  events: "--in-order",
};

const list = (text: string | undefined): string[] | undefined =>
  text === undefined
    ? undefined
    : text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");

/** `--map out=gen,...`: output column → generated field. */
function parseMap(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of list(text) ?? []) {
    const m = /^([^=]+)=([^=]+)$/.exec(pair);
    if (!m) throw new ValidationError("map", `--map takes output=generated pairs, e.g. --map event_id=id (got "${pair}")`);
    out[(m[1] as string).trim()] = (m[2] as string).trim();
  }
  return out;
}

/** `--expect kind=outcome,...`: what the pipeline should do with each dirty kind. */
function parseExpect(text: string | undefined): Partial<Record<DirtyKind, Outcome>> | undefined {
  if (text === undefined) return undefined;
  const out: Partial<Record<DirtyKind, Outcome>> = {};
  for (const pair of list(text) ?? []) {
    const [kind, outcome] = pair.split("=").map((s) => s.trim()) as [string, string | undefined];
    if (!(DIRTY_KINDS as readonly string[]).includes(kind)) throw new ValidationError("expect", `--expect: unknown dirty kind "${kind}"; kinds: ${DIRTY_KINDS.join(", ")}`);
    if (outcome === undefined || !(OUTCOMES as readonly string[]).includes(outcome)) {
      throw new ValidationError("expect", `--expect ${kind}= must be one of ${OUTCOMES.join(", ")} (got "${outcome ?? ""}")`);
    }
    if (kind === "duplicate" ? outcome === "repaired" : outcome === "deduplicated") {
      throw new ValidationError("expect", `--expect ${kind}=${outcome} cannot happen: ${kind === "duplicate" ? "a duplicate is kept, deduplicated or dropped" : "only duplicates are deduplicated"}`);
    }
    out[kind as DirtyKind] = outcome as Outcome;
  }
  return out;
}

/** A manifest holds a line per file: 10,000 files are a few MiB; more than 64 MiB is not one of ours. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** The generate event a manifest describes (its run's identity and request). */
function eventFromManifest(manifest: Record<string, unknown>, dataset: string | undefined, where: string): Record<string, unknown> {
  // A whole scenario's manifest: the identity at the top, each dataset's request under datasets.
  const scenarioDatasets =
    typeof manifest.scenario === "string" && typeof manifest.datasets === "object" && manifest.datasets !== null ? (manifest.datasets as Record<string, { parameters?: unknown }>) : undefined;
  if (scenarioDatasets && (dataset === undefined || !Object.hasOwn(scenarioDatasets, dataset))) {
    throw new ValidationError("dataset", `--manifest ${where} is scenario ${manifest.scenario}'s: --dataset must name one of its datasets (${Object.keys(scenarioDatasets).join(", ")})`);
  }
  const request = (scenarioDatasets ? scenarioDatasets[dataset as string]?.parameters : manifest.parameters) as Record<string, unknown> | undefined;
  if (typeof request !== "object" || request === null || typeof manifest.run_id !== "string" || typeof manifest.hhmmss !== "string") {
    throw new ValidationError("manifest", `--manifest ${where}: not a synthgen run manifest (no run_id, hhmmss and parameters)`);
  }
  const hhmmss = String(manifest.hhmmss ?? "");
  const range = request.date_from !== undefined;
  return eventFrom({
    dataset: dataset ?? manifest.dataset,
    seed: manifest.seed,
    run_id: manifest.run_id,
    file_count: request.file_count,
    target_size_mb: request.target_size_mb,
    format: request.format,
    parquet_codec: request.parquet_codec,
    daily_curve: request.daily_curve,
    dirty: request.dirty,
    ...(range ? { date_from: request.date_from, date_to: request.date_to, partition: request.partition } : { date_prefix: manifest.date_prefix }),
    time: `${range ? request.date_from : manifest.date_prefix}T${hhmmss.slice(0, 2)}:${hhmmss.slice(2, 4)}:${hhmmss.slice(4, 6)}Z`,
  });
}

/**
 * Runs `synthgen verify`: recomputes what a run wrote from its identity (the flags `generate`
 * took, or its manifest) and checks the pipeline's output against it. The report goes to stdout
 * as JSON, a summary to stderr; exit 0 when everything holds, 1 when the pipeline lost, added or
 * changed data (or did otherwise with dirty records than --expect says), 2 on bad input.
 */
export async function runVerifyCommand(flags: VerifyFlags): Promise<number> {
  let report: VerifyReport;
  try {
    const { isEmitRun } = require("./verify-emit") as typeof import("./verify-emit");
    const emitRun = isEmitRun(flags);
    // An http(s) URL is an Elasticsearch index (`https://HOST:9200/INDEX`), which an index run fills.
    const searchIndex = /^https?:\/\//i.test(flags.output);
    if (searchIndex !== (flags.indexReport !== undefined)) {
      throw new ValidationError(
        "index_report",
        searchIndex ? "an Elasticsearch --output holds an index run: give --index-report with what synthgen index printed" : "--index-report needs an Elasticsearch --output (https://HOST:9200/INDEX)",
      );
    }
    if (flags.runId === undefined && flags.manifest === undefined && !emitRun && !searchIndex) {
      throw new ValidationError("run_id", "--run-id is required (the run id generate printed), or --manifest with the run's manifest (an emit run: --emit-report with what emit printed)");
    }
    const eventFlags = { "--idempotency-field": flags.idempotencyField, "--sent-field": flags.sentField, "--arrival-field": flags.arrivalField, "--in-order": flags.inOrder };
    const eventFlag = Object.entries(eventFlags).find(([, v]) => v !== undefined)?.[0];
    if (eventFlag !== undefined && !emitRun) throw new ValidationError("events", `${eventFlag} applies to an emit run (--emit-report, or --streams and --events-per-stream)`);
    const { isDatabaseUrl, parseDatabaseTarget } = require("../src/databases/target") as typeof import("../src/databases/target");
    const database = isDatabaseUrl(flags.output) ? parseDatabaseTarget("output", flags.output) : undefined;
    if (database === undefined && flags.table !== undefined) throw new ValidationError("table", "--table applies to a database --output (postgres://, mysql://, pglite://)");
    const output = database || searchIndex ? undefined : parseDestination(flags.output, flags.endpoint);
    let parts: readonly ExpectedSource[];
    let run: Record<string, unknown>;
    let defaultTable: string;
    /** A files run's planned volume: its default thread count follows it, as generate's does. */
    let plannedMib: number | undefined;
    if (searchIndex) {
      const indexed = await indexRunOf(flags.indexReport as string, flags.output);
      parts = [indexed.part];
      run = indexed.run;
      defaultTable = indexed.index;
    } else if (emitRun) {
      const { emitRunOf } = require("./verify-emit") as typeof import("./verify-emit");
      const { emittedStreams } = require("../src/verify/expected") as typeof import("../src/verify/expected");
      const { request, custom } = await emitRunOf(flags);
      parts = emittedStreams(request);
      const { totalEvents } = require("../src/events/request") as typeof import("../src/events/request");
      run = { run_id: request.runId, dataset: request.dataset, seed: request.seed, date: request.datePrefix, hhmmss: request.hhmmss, streams: request.streamCount, events: totalEvents(request) };
      defaultTable = custom?.name ?? request.dataset;
    } else {
      const plan = await generateRunOf(flags);
      parts = plan.files;
      plannedMib = plan.files.reduce((n, f) => n + f.targetBytes, 0) / BYTES_PER_MB;
      run = { run_id: plan.request.runId, dataset: plan.request.dataset, seed: plan.request.seed, days: plan.request.days, files: plan.files.length, format: plan.request.format };
      defaultTable = plan.table;
    }
    const started = performance.now();
    let files = 0;
    const key = list(flags.key);
    const map = parseMap(flags.map);
    const drop = list(flags.drop);
    const ignore = list(flags.ignore);
    const required = list(flags.require);
    if (required && required.length > MAX_REQUIRED) throw new ValidationError("require", `--require names at most ${MAX_REQUIRED} columns (got ${required.length})`);
    const expect = parseExpect(flags.expect);
    const examples = numeric(flags.examples);
    // By default, the cores (at most one per part), and for a files run one thread per 64 MiB
    // planned: 8 × 8 MiB took 0.76–1.12 s on 1 thread and 1.08–1.23 s on 2 (a worker loads every
    // module again), 16 × 8 MiB 1.54–1.74 s on 1 and 1.34–1.38 s on 2.
    const cores = Math.min(availableParallelism(), parts.length);
    const threads = flags.threads !== undefined ? numeric(flags.threads) : plannedMib !== undefined ? threadsForVolume(plannedMib, cores) : cores;
    if (typeof threads !== "number" || !Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new ValidationError("threads", `--threads must be a whole number from 1 to 64 (got "${flags.threads}")`);
    }
    if (flags.precision !== undefined && !Object.hasOwn(PRECISION_UNITS, flags.precision)) {
      throw new ValidationError("precision", `--precision must be one of ${Object.keys(PRECISION_UNITS).join(", ")} (got "${flags.precision}")`);
    }
    const options: VerifyOptions = {
      ...(flags.precision !== undefined ? { precision: flags.precision as Precision } : {}),
      ...(key ? { key } : {}),
      ...(map ? { map } : {}),
      ...(drop ? { drop } : {}),
      ...(ignore ? { ignore } : {}),
      ...(required ? { require: required } : {}),
      ...(expect ? { expect } : {}),
      ...(typeof examples === "number" ? { examples } : {}),
      ...(eventFlag !== undefined
        ? {
            events: {
              ...(flags.idempotencyField !== undefined ? { idempotencyField: flags.idempotencyField } : {}),
              ...(flags.sentField !== undefined ? { sentField: flags.sentField } : {}),
              ...(flags.arrivalField !== undefined ? { arrivalField: flags.arrivalField } : {}),
              ...(flags.inOrder ? { ordered: true } : {}),
            },
          }
        : {}),
      threads,
      onFile: (_, rows) => {
        files++;
        if (process.stderr.isTTY) process.stderr.write(`\rsynthgen: read ${files} output files (${rows} rows in the last)`);
      },
    };
    if (output) {
      const location = sinkLocation(output.sink);
      report = await verifyOutput(parts, output.sink, output.prefix, (k) => location.uri(k), options);
    } else if (searchIndex) {
      const { searchIndexReader } = require("../src/verify/search-index") as typeof import("../src/verify/search-index");
      const { verifyReader } = require("../src/verify/verify") as typeof import("../src/verify/verify");
      const url = new URL(flags.output);
      const apiKey = process.env.ELASTICSEARCH_API_KEY || undefined;
      const reader = await searchIndexReader({ node: `${url.protocol}//${url.host}`, ...(apiKey ? { apiKey } : {}) }, defaultTable);
      try {
        report = await verifyReader(parts, reader, options);
      } finally {
        await reader.close?.();
      }
    } else {
      const target = database as NonNullable<typeof database>;
      const { connect } = require("../src/databases/connection") as typeof import("../src/databases/connection");
      const { describeTarget } = require("../src/databases/target") as typeof import("../src/databases/target");
      const { tableReader } = require("../src/verify/table") as typeof import("../src/verify/table");
      const { verifyReader } = require("../src/verify/verify") as typeof import("../src/verify/verify");
      const where = describeTarget(target);
      // Verify reads: a PGlite folder that is not there is not created.
      if (target.kind === "pglite" && !require("node:fs").existsSync(target.dir)) throw new ValidationError("output", `${where}: no PGlite database there`);
      const conn = await connect(target).catch((err: Error) => {
        throw new ValidationError("output", `cannot connect to ${where}: ${err.message}`);
      });
      try {
        report = await verifyReader(parts, await tableReader(conn, flags.table ?? defaultTable, where), options);
      } finally {
        await conn.close().catch(() => undefined);
      }
    }
    if (process.stderr.isTTY) process.stderr.write("\n");
    const body = { ...report, run, duration_ms: Math.round(performance.now() - started) };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    process.stderr.write(`synthgen: ${summary(report)}\n`);
    if (flags.junit !== undefined) await writeFile(flags.junit, junit(report));
    return report.status === "passed" ? EXIT.OK : EXIT.FAILED;
  } catch (err) {
    if (err instanceof ValidationError) return badInput(err, FLAGS);
    return crashed(err);
  }
}

/** An index report (what `synthgen index` printed) is small: its errors are capped. */
const MAX_INDEX_REPORT_BYTES = 1024 * 1024;

/** The index run a report names, and the index the output URL's path names (it must be the report's). */
async function indexRunOf(file: string, output: string) {
  const { readText } = require("../src/sinks/local") as typeof import("../src/sinks/local");
  const text = await readText(file, MAX_INDEX_REPORT_BYTES).catch((err: NodeJS.ErrnoException) => {
    throw new ValidationError("index_report", `--index-report ${file}: cannot read it (${err.code ?? err.message})`);
  });
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ValidationError("index_report", `--index-report ${file}: not JSON`);
  }
  const { index, seed, hours, to, run_id } = report;
  const endMs = typeof to === "string" ? Date.parse(to) : Number.NaN;
  if (typeof index !== "string" || !Number.isInteger(seed) || !Number.isInteger(hours) || (hours as number) < 1 || Number.isNaN(endMs)) {
    throw new ValidationError("index_report", `--index-report ${file}: not a synthgen index report (it has index, seed, hours and to)`);
  }
  const path = new URL(output).pathname.replace(/^\/+|\/+$/g, "");
  if (path !== "" && path !== index) throw new ValidationError("output", `--output names index "${path}"; the report's run indexed "${index}"`);
  const part: ExpectedSource = {
    key: `index ${index}`,
    datePrefix: new Date(endMs).toISOString().slice(0, 10),
    dataset: "merchant-metrics",
    indexed: { seed: seed as number, endMs, hours: hours as number },
  };
  return { part, index, run: { run_id, index, seed, hours, to } };
}

/** The generate run the flags (or its manifest) name: its planned files, and the table a database output holds it in by default. */
async function generateRunOf(flags: VerifyFlags) {
  let event: Record<string, unknown>;
  if (flags.manifest !== undefined) {
    const text = await readRunDocument("manifest", "--manifest", flags.manifest, MAX_MANIFEST_BYTES, flags.endpoint, "a synthgen manifest");
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ValidationError("manifest", `--manifest ${flags.manifest}: not JSON`);
    }
    event = eventFromManifest(manifest, flags.dataset, flags.manifest);
    if (typeof manifest.scenario === "string") {
      if (flags.scenario === undefined)
        throw new ValidationError("scenario", `--manifest ${flags.manifest} is scenario ${manifest.scenario}'s: give --scenario FILE, the scenario it was written from`);
      const sha = sha256Of(await readSchemaFile("scenario", flags.scenario));
      if (typeof manifest.scenario_sha256 === "string" && manifest.scenario_sha256 !== sha) {
        throw new ValidationError(
          "scenario",
          `--scenario ${flags.scenario} is not the text the run was written from (sha256 ${sha.slice(0, 12)}…, the manifest's ${manifest.scenario_sha256.slice(0, 12)}…)`,
        );
      }
    }
  } else {
    event = { ...runEventOf(flags), ...eventFrom({ dirty: parsePairs("--dirty", flags.dirty) }) };
  }
  let custom: ResolvedDataset | undefined;
  if (flags.scenario !== undefined) {
    // One dataset of a scenario, with the files generate --scenario gave it at this size.
    if (flags.dataset === undefined) throw new ValidationError("dataset", "--scenario needs --dataset, the scenario's dataset to verify");
    const { loadScenarioText, planScenario } = require("../src/scenarios/plan") as typeof import("../src/scenarios/plan");
    const loaded = loadScenarioText(await readSchemaFile("scenario", flags.scenario), flags.scenario, "scenario");
    const days = parseDateRange(event, 1)?.length ?? 1;
    const run = planScenario(loaded, typeof event.target_size_mb === "number" ? event.target_size_mb : 3.5, days).find((r) => r.name === flags.dataset);
    if (!run) throw new ValidationError("dataset", `--dataset must name a dataset of scenario ${loaded.scenario.name}: ${[...loaded.scenario.datasets.keys()].join(", ")}`);
    custom = run.resolved;
    Object.assign(event, { dataset: run.resolved.name, file_count: run.files });
  } else custom = await resolveDataset(event, fileDatasetLoader);
  const plan = planRun(parseGenerateRequest(event, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }, custom), "");
  const table = flags.scenario !== undefined ? String(flags.dataset) : custom ? custom.name : String(plan.request.dataset);
  return { ...plan, table };
}

function summary(r: VerifyReport): string {
  const head = `${r.status}: ${r.found} of ${r.clean_records} clean records found once`;
  const problems = [
    r.missing && `${r.missing} missing`,
    r.duplicated && `${r.duplicated} duplicated`,
    r.changed && `${r.changed} changed (${Object.keys(r.changed_fields).join(", ")})`,
    r.unexpected && `${r.unexpected} unexpected rows`,
    r.unkeyed && `${r.unkeyed} rows without a key`,
    r.unparseable && `${r.unparseable} unreadable rows`,
    r.misplaced && `${r.misplaced} under another day's partition`,
  ].filter(Boolean);
  const dirty = Object.entries(r.dirty ?? {})
    .map(
      ([kind, d]) =>
        `${kind} ${d.injected}: ${
          OUTCOMES.filter((o) => (d[o] ?? 0) > 0)
            .map((o) => `${d[o]} ${o}`)
            .join(", ") || "none found"
        }${d.expected ? (d.holds ? ` (expected ${d.expected}: holds)` : ` (expected ${d.expected}: does not hold)`) : ""}`,
    )
    .join("; ");
  return `${head}${problems.length ? `; ${problems.join(", ")}` : ""}${dirty ? `; dirty: ${dirty}` : ""}`;
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The report as JUnit XML, one test case per check: what CI systems show as test results. */
/** What junit reads of an emit run's `events` part (see src/verify/events.ts). */
interface EventsPart {
  readonly order: { readonly required: boolean; readonly out_of_order: number; readonly streams_out_of_order: number };
  readonly idempotency?: { readonly mismatched: number; readonly without_key: number };
}

/** An emit run's checks that can fail: the landing order when required, the idempotency keys when read. */
function eventCases(events: EventsPart | undefined): [string, string | undefined][] {
  if (!events) return [];
  const cases: [string, string | undefined][] = [];
  if (events.order.required) {
    cases.push([
      "every stream's events landed in the order they were sent",
      events.order.out_of_order ? `${events.order.out_of_order} events out of order in ${events.order.streams_out_of_order} streams` : undefined,
    ]);
  }
  const keys = events.idempotency;
  if (keys) {
    cases.push([
      "every row carries its own event's idempotency key",
      keys.mismatched + keys.without_key ? `${keys.mismatched} rows with another event's key, ${keys.without_key} without one` : undefined,
    ]);
  }
  return cases;
}

export function junit(r: VerifyReport): string {
  const cases: [string, string | undefined][] = [
    ["every clean record is in the output", r.missing ? `${r.missing} of ${r.clean_records} missing` : undefined],
    ["no record is in the output twice", r.duplicated ? `${r.duplicated} extra copies` : undefined],
    [
      "every value is as generated",
      r.changed
        ? `${r.changed} records changed: ${Object.entries(r.changed_fields)
            .map(([f, c]) => `${f} (${c.rows})`)
            .join(", ")}`
        : undefined,
    ],
    ["no row the run did not generate", r.unexpected + r.unkeyed ? `${r.unexpected} unexpected rows, ${r.unkeyed} without a key` : undefined],
    ["every row can be read", r.unparseable ? `${r.unparseable} rows could not be read` : undefined],
    ["every record under its day's partition", r.misplaced ? `${r.misplaced} records under another day` : undefined],
    ...Object.entries(r.dirty ?? {})
      .filter(([, d]) => d.expected !== undefined)
      .map(([kind, d]): [string, string | undefined] => [`${kind} records are ${d.expected}`, d.holds ? undefined : `${d[d.expected as Outcome] ?? 0} of ${d.injected} ${d.expected}`]),
    ...Object.entries(r.required_columns ?? {}).map(([column, c]): [string, string | undefined] => [
      `every row holds ${column}`,
      c.rows_without ? `${c.rows_without} rows without ${column}` : undefined,
    ]),
    ...eventCases(r.events as EventsPart | undefined),
  ];
  const failures = cases.filter(([, f]) => f !== undefined).length;
  const body = cases.map(([name, failure]) => `    <testcase classname="synthgen.verify" name="${xml(name)}">${failure ? `<failure message="${xml(failure)}"/>` : ""}</testcase>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="synthgen verify" tests="${cases.length}" failures="${failures}">\n${body}\n  </testsuite>\n</testsuites>\n`;
}
