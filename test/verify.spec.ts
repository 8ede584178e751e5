import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { DuckDBInstance } from "@duckdb/node-api";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CsvRows } from "../src/formats/csv-rows";
import { linesOf, listOutput, type OutputFormat, ownedLines, rowsOf, shareOf } from "../src/verify/output";
import { keptAsWritten, type OutputReader, verifyOutput, verifyPlan, verifyReader } from "../src/verify/verify";
import { planRun } from "../src/files/plan";
import { parseGenerateRequest } from "../src/files/request";
import { renderFile } from "../src/formats/render";
import { sinkFor } from "../src/sinks";
import { canonical, fieldHash, isoMicros, Micros } from "../src/verify/canonical";
import { comparisonOf, defaultKey, expectFile, rowReader } from "../src/verify/expected";
import { RowDigester } from "../src/verify/digest";
import { hashContent, hashKey, KeyTable } from "../src/verify/key-table";
import { parseSchemaText } from "../src/schema/dataset";
import type { PlannedFile } from "../src/sinks/sink";
import type { Column } from "../src/records/columns";
import { leavesOf } from "../src/records/columns";
import { synthgen } from "./support/cli";
import { convert } from "./support/pipeline-under-test";
import { startTestS3 } from "./support/s3";

type Report = Record<string, any>;

/** The identity flags of the run every check below verifies: generate took them, verify takes them again. */
const RUN = ["--files", "3", "--size-mb", "0.3", "--date", "2026-01-15", "--seed", "11", "--run-id", "verify-1"];
/** DuckDB's CSV unnests custom_data into its leaves, named by the leaf alone. */
const CSV_MAP =
  "experiment_id=custom_data.experiment_id,variant=custom_data.variant,feature_1=custom_data.feature_flags.feature_1,feature_2=custom_data.feature_flags.feature_2,feature_3=custom_data.feature_flags.feature_3";

async function verify(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const run = await synthgen(["verify", ...args]);
  return { code: run.code, report: run.stdout ? (JSON.parse(run.stdout) as Report) : {}, stderr: run.stderr };
}

describe("synthgen verify: did the pipeline under test keep every record?", function () {
  this.timeout(300_000);
  let tmp: string;
  let landing: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "synthgen-verify-"));
    landing = join(tmp, "landing");
    const g = await synthgen(["generate", ...RUN, "--out", landing]);
    assert.equal(g.code, 0, g.stderr);
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  describe("a faithful pipeline", () => {
    it("its NDJSON is the run itself: every record found once, exit 0", async () => {
      const { code, report } = await verify([...RUN, "--output", landing]);
      assert.equal(code, 0);
      assert.equal(report.status, "passed");
      assert.deepEqual(report.matched_by, ["id"]);
      assert.ok(report.expected_records > 500);
      assert.deepEqual([report.found, report.missing, report.duplicated, report.changed, report.unexpected, report.unparseable], [report.expected_records, 0, 0, 0, 0, 0]);
      assert.equal(report.output.files, 3);
    });

    it("DuckDB's Parquet of it: TIMESTAMPs, BIGINTs, DOUBLEs and structs equal the generated values", async () => {
      const out = join(tmp, "faithful-parquet");
      const counts = await convert(landing, out, "parquet");
      const { code, report } = await verify([...RUN, "--output", out]);
      assert.equal(code, 0, JSON.stringify(report.changed_fields));
      assert.deepEqual([report.found, report.expected_records, counts.read], [counts.read, counts.read, counts.read]);
      assert.deepEqual(report.output.formats, { parquet: 1 });
    });

    it("DuckDB's CSV of it, structs unnested and renamed: equal through --map; without it, the renamed fields are named as changed", async () => {
      const out = join(tmp, "faithful-csv");
      await convert(landing, out, "csv");
      const mapped = await verify([...RUN, "--output", out, "--map", CSV_MAP]);
      assert.equal(mapped.code, 0, JSON.stringify(mapped.report.changed_fields));
      const unmapped = await verify([...RUN, "--output", out]);
      assert.equal(unmapped.code, 1);
      assert.deepEqual(Object.keys(unmapped.report.changed_fields), [
        "custom_data.experiment_id",
        "custom_data.variant",
        "custom_data.feature_flags.feature_1",
        "custom_data.feature_flags.feature_2",
        "custom_data.feature_flags.feature_3",
      ]);
      assert.deepEqual(unmapped.report.output.columns_not_generated, ["experiment_id", "variant", "feature_1", "feature_2", "feature_3"]);
    });

    it("a pipeline that stores milliseconds, rounded (DuckDB's TIMESTAMP_MS): changed at the microsecond and when truncated; --precision ms-rounded compares what it keeps", async () => {
      const out = join(tmp, "millis");
      await mkdir(out, { recursive: true });
      const db = await DuckDBInstance.create(":memory:");
      const duck = await db.connect();
      try {
        await duck.run("SET TimeZone = 'UTC'");
        const src = `read_json('${join(landing, "*.ndjson")}', format = 'newline_delimited')`;
        // A TIMESTAMP_MS column: Parquet TIMESTAMP(MILLIS); DuckDB rounds the microseconds away.
        await duck.run(`COPY (SELECT * REPLACE (CAST("timestamp" AS TIMESTAMP_MS) AS "timestamp") FROM ${src}) TO '${join(out, "part-0.parquet")}' (FORMAT parquet)`);
      } finally {
        duck.closeSync();
      }
      const micro = await verify([...RUN, "--output", out]);
      assert.equal(micro.code, 1);
      assert.deepEqual(Object.keys(micro.report.changed_fields), ["timestamp"]);
      const records = micro.report.expected_records as number;
      assert.ok(micro.report.changed_fields.timestamp.rows > records * 0.9, `${micro.report.changed_fields.timestamp.rows} changed`);
      const example = micro.report.changed_fields.timestamp.examples[0];
      const us = (iso: string) => Number(isoMicros(iso));
      assert.ok(Math.abs(us(example.found) - us(example.expected)) <= 500 && example.found.endsWith("000Z"), JSON.stringify(example));
      // Truncating where the pipeline rounded: the records whose dropped digits were 500 µs or more differ.
      const truncated = await verify([...RUN, "--output", out, "--precision", "ms"]);
      assert.equal(truncated.code, 1);
      const share = truncated.report.changed_fields.timestamp.rows / records;
      assert.ok(share > 0.4 && share < 0.6, `${share} of records changed when truncated`);
      const rounded = await verify([...RUN, "--output", out, "--precision", "ms-rounded"]);
      assert.equal(rounded.code, 0, JSON.stringify(rounded.report.changed_fields));
      assert.match(rounded.report.compared.rules.join("\n"), /to the millisecond, the generated value rounded/);
      const bad = await verify([...RUN, "--output", out, "--precision", "ns"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--precision must be one of us, ms, s, ms-rounded, s-rounded \(got "ns"\)/);
    });

    it("--require: a load time the pipeline adds must be in every row; rows without it fail the check, named by file and line, on any thread count", async () => {
      const out = join(tmp, "loaded-at");
      await mkdir(out, { recursive: true });
      const db = await DuckDBInstance.create(":memory:");
      const duck = await db.connect();
      let without: number;
      try {
        await duck.run("SET TimeZone = 'UTC'");
        const src = `SELECT *, row_number() OVER () AS rn FROM read_json('${join(landing, "*.ndjson")}', format = 'newline_delimited')`;
        // Every 13th row loses its load time, as a pipeline's late-arriving batch might.
        await duck.run(
          `COPY (SELECT * EXCLUDE (rn), CASE WHEN rn % 13 = 0 THEN NULL ELSE TIMESTAMP '2026-01-16 02:00:00' END AS loaded_at FROM (${src}) ORDER BY rn) TO '${join(out, "part-0.parquet")}' (FORMAT parquet)`,
        );
        without = Number((await duck.runAndReadAll(`SELECT count(*) AS n FROM (${src}) WHERE rn % 13 = 0`)).getRowObjectsJson()[0]?.n);
      } finally {
        duck.closeSync();
      }
      for (const threads of ["1", "2"]) {
        const junitFile = join(tmp, `junit-required-${threads}.xml`);
        const { code, report } = await verify([...RUN, "--output", out, "--require", "loaded_at,batch_id", "--threads", threads, "--junit", junitFile]);
        assert.equal(code, 1);
        assert.match(await readFile(junitFile, "utf8"), new RegExp(`name="every row holds loaded_at"><failure message="${without} rows without loaded_at"/>`));
        assert.deepEqual(report.failed_by, ["required columns"]);
        assert.equal(report.required_columns.loaded_at.rows_without, without);
        assert.equal(report.required_columns.loaded_at.examples[0].line, 13);
        assert.equal(report.required_columns.batch_id.rows_without, report.output.rows, "a column the pipeline never added is missing from every row");
        assert.equal(report.output.columns_not_generated, undefined, "required columns are known columns");
        assert.equal(report.changed, 0, JSON.stringify(report.changed_fields));
      }
      const held = await verify([...RUN, "--output", join(tmp, "faithful-parquet"), "--require", "id"]);
      assert.equal(held.code, 0);
      assert.deepEqual(held.report.required_columns, { id: { rows_without: 0 } });
    });

    it("a Hive-partitioned lake whose rows lost the partition columns: event_type and items_viewed are read from the folders, by their types; a file under the wrong folder is changed", async () => {
      const out = join(tmp, "hive");
      const db = await DuckDBInstance.create(":memory:");
      const duck = await db.connect();
      try {
        await duck.run("SET TimeZone = 'UTC'");
        // DuckDB leaves partition columns out of the files, as Hive and Spark do.
        await duck.run(`COPY (SELECT * FROM read_json('${join(landing, "*.ndjson")}', format = 'newline_delimited')) TO '${out}' (FORMAT parquet, PARTITION_BY (event_type, items_viewed))`);
      } finally {
        duck.closeSync();
      }
      const folders = (await readdir(out)).sort();
      assert.ok(folders.length > 2 && folders.every((f) => f.startsWith("event_type=")), folders.join(", "));
      const faithful = await verify([...RUN, "--output", out]);
      assert.equal(faithful.code, 0, JSON.stringify(faithful.report.changed_fields));
      assert.equal(faithful.report.output.columns_not_generated, undefined);

      // One file moved under another event type's folder: its rows' event_type is changed, nothing else.
      const from = join(out, folders[0] as string);
      const sub = (await readdir(from)).sort()[0] as string;
      const file = (await readdir(join(from, sub)))[0] as string;
      const to = join(out, folders[1] as string, sub);
      await mkdir(to, { recursive: true });
      await rename(join(from, sub, file), join(to, "moved.parquet"));
      const moved = await verify([...RUN, "--output", out]);
      assert.equal(moved.code, 1);
      assert.deepEqual(Object.keys(moved.report.changed_fields), ["event_type"]);
      const example = moved.report.changed_fields.event_type.examples[0];
      assert.deepEqual([example.expected, example.found], [(folders[0] as string).slice("event_type=".length), (folders[1] as string).slice("event_type=".length)]);
      assert.equal(moved.report.missing, 0);
    });
  });

  describe("a pipeline that loses, duplicates, alters, renames and adds rows", () => {
    for (const format of ["parquet", "csv"] as const) {
      it(`reports exactly the pipeline's own counts (${format}), with examples of expected against found, and exits 1`, async () => {
        const out = join(tmp, `faulty-${format}`);
        const counts = await convert(landing, out, format, { loseEvery: 37, duplicateEvery: 23, alter: { every: 29, field: "country", to: "XX" }, rename: { user_id: "uid" }, extraRows: 7 });
        assert.ok(counts.lost > 0 && counts.duplicated > 0 && counts.altered > 0);
        const junit = join(tmp, `faulty-${format}.xml`);
        const { code, report } = await verify([...RUN, "--output", out, "--map", `uid=user_id${format === "csv" ? `,${CSV_MAP}` : ""}`, "--junit", junit, "--threads", "2"]);
        assert.equal(code, 1);
        assert.equal(report.status, "failed");
        assert.deepEqual(report.failed_by, ["missing", "duplicated", "changed", "unexpected"]);
        assert.equal(report.missing, counts.lost);
        assert.equal(report.duplicated, counts.duplicated);
        assert.equal(report.changed, counts.altered);
        assert.equal(report.unexpected, counts.extra);
        assert.equal(report.found, counts.read - counts.lost);
        assert.deepEqual(Object.keys(report.changed_fields), ["country"]);
        assert.equal(report.changed_fields.country.rows, counts.alteredRows);
        for (const e of report.changed_fields.country.examples) {
          assert.equal(e.found, "XX");
          assert.match(e.expected, /^[A-Z]{2}$/);
          assert.notEqual(e.expected, "XX");
          assert.match(e.key[0], /^evt_/);
        }
        assert.equal(report.unexpected_examples.length, 3);
        assert.match(report.unexpected_examples[0].key[0], /^not-generated-/);
        const perFile = report.files_with_problems.reduce((n: number, f: Report) => n + f.missing, 0);
        assert.equal(perFile, counts.lost, "per generated file, the missing add up");
        const xml = await readFile(junit, "utf8");
        assert.match(xml, /<testsuite name="synthgen verify" tests="6" failures="4">/);
        assert.match(xml, new RegExp(`name="every clean record is in the output"><failure message="${counts.lost} of ${report.clean_records} missing"/>`));
        assert.match(xml, /name="every row can be read"><\/testcase>/);
        // Recomputed on two worker threads (each file on either of them) and merged in file order, or
        // in this thread alone: the same report.
        const single = await verify([...RUN, "--output", out, "--map", `uid=user_id${format === "csv" ? `,${CSV_MAP}` : ""}`, "--threads", "1"]);
        const { duration_ms: _a, ...threaded } = report;
        const { duration_ms: _b, ...one } = single.report;
        assert.deepEqual(one, threaded);
      });
    }
  });

  describe("dirty data, accounted", () => {
    const DIRTY = "malformed=0.03,duplicate=0.03,late=0.03,wrong_type=0.03,missing_required=0.03,out_of_range=0.03";
    const DIRTY_RUN = ["--files", "2", "--size-mb", "0.3", "--date", "2026-01-16", "--seed", "4", "--run-id", "dirty-1", "--dirty", DIRTY];
    let dirtyLanding: string;
    let injected: Record<string, number>;

    before(async () => {
      dirtyLanding = join(tmp, "dirty-landing");
      const g = await synthgen(["generate", ...DIRTY_RUN, "--out", dirtyLanding]);
      assert.equal(g.code, 0, g.stderr);
      injected = JSON.parse(g.stdout).dirty_records;
    });

    it("counts each kind exactly as generate injected it, and says what a pass-through pipeline did with each: kept", async () => {
      const { code, report } = await verify([...DIRTY_RUN, "--output", dirtyLanding, "--expect", "malformed=kept,duplicate=kept,late=kept"]);
      assert.equal(code, 0, JSON.stringify(report));
      for (const [kind, n] of Object.entries(injected))
        assert.deepEqual(report.dirty[kind], { injected: n, kept: n, ...(["malformed", "duplicate", "late"].includes(kind) ? { expected: "kept", holds: true } : {}) }, kind);
      assert.equal(report.unparseable, 0, "the malformed lines are the run's own, passed through");
    });

    it("a cleaning pipeline (drops what does not parse, deduplicates by id, restores nothing): --expect holds, or fails the check naming the kind", async () => {
      const out = join(tmp, "cleaned");
      await mkdir(out);
      for (const name of (await readdir(dirtyLanding)).sort()) {
        const seen = new Set<string>();
        const kept: string[] = [];
        for (const line of (await readFile(join(dirtyLanding, name), "utf8")).split("\n")) {
          let record: { id?: string };
          try {
            record = JSON.parse(line);
          } catch {
            continue;
          }
          if (record.id !== undefined && seen.has(record.id)) continue;
          if (record.id !== undefined) seen.add(record.id);
          kept.push(line);
        }
        await writeFile(join(out, name), `${kept.join("\n")}\n`);
      }
      const good = await verify([...DIRTY_RUN, "--output", out, "--expect", "malformed=dropped,duplicate=deduplicated,late=kept"]);
      assert.equal(good.code, 0, JSON.stringify(good.report.dirty));
      const threaded = await verify([...DIRTY_RUN, "--output", out, "--expect", "malformed=dropped,duplicate=deduplicated,late=kept", "--threads", "1"]);
      assert.deepEqual(threaded.report.dirty, good.report.dirty, "the same in one thread");
      assert.deepEqual(good.report.dirty.malformed, { injected: injected.malformed, dropped: injected.malformed, expected: "dropped", holds: true });
      assert.deepEqual(good.report.dirty.duplicate, { injected: injected.duplicate, deduplicated: injected.duplicate, expected: "deduplicated", holds: true });
      const junit = join(tmp, "dirty.xml");
      const bad = await verify([...DIRTY_RUN, "--output", out, "--expect", "late=dropped", "--junit", junit]);
      assert.equal(bad.code, 1);
      assert.deepEqual(bad.report.failed_by, ["dirty expectations"]);
      assert.equal(bad.report.dirty.late.holds, false);
      assert.match(bad.stderr, /late \d+: \d+ kept \(expected dropped: does not hold\)/);
      assert.match(await readFile(junit, "utf8"), /name="late records are dropped"><failure message="0 of \d+ dropped"\/>/);
    });
  });

  describe("lines kept as written are found by their bytes, never parsed: the same report as parsing every line", () => {
    const event = {
      file_count: 2,
      target_size_mb: 0.3,
      date_prefix: "2026-01-18",
      seed: 6,
      run_id: "verbatim-1",
      dirty: { malformed: 0.015, duplicate: 0.015, late: 0.015, wrong_type: 0.015, out_of_range: 0.015 },
    };
    const plan = planRun(parseGenerateRequest(event, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }), "");
    const options = { expect: { malformed: "kept", duplicate: "kept" } } as const;

    /**
     * The run landed with lines lost, repeated, edited, re-serialised and CRLF-ended, a blank one,
     * one never generated, and the second file under another day's folder (misplaced, in reverse
     * order). The first file's first 300 lines land as written but for their dirt, unless
     * `rewritten`: then two in three of the first file's lines are re-serialised. Gives how many
     * lines landed as written.
     */
    async function land(out: string, rewritten: boolean): Promise<number> {
      let kept = 0;
      for (const [n, file] of plan.files.entries()) {
        const lines = Buffer.concat([...renderFile(file).chunks])
          .toString("utf8")
          .trimEnd()
          .split("\n");
        const landed: string[] = [];
        lines.forEach((line, i) => {
          const untouched = n === 0 && i < 300 && !rewritten;
          if (!untouched && i % 41 === 0) return;
          let record: Record<string, unknown> | undefined;
          try {
            record = JSON.parse(line);
          } catch {
            // a malformed record's cut line, passed through
          }
          const reserialised = record && (rewritten ? n === 0 && i % 3 !== 0 : !untouched && i % 53 === 3);
          if (record && reserialised) landed.push(JSON.stringify(Object.fromEntries(Object.entries(record).reverse())));
          else if (record && !untouched && i % 47 === 2) landed.push(JSON.stringify({ ...record, country: "XX" }));
          else {
            landed.push(i % 59 === 4 ? `${line}\r` : line);
            kept++;
          }
          if (!untouched && i % 43 === 1) landed.push(line);
        });
        if (n === 1) landed.reverse();
        if (n === 0) landed.push("", JSON.stringify({ id: "not-generated-1" }));
        const key = n === 1 ? `dt=2026-01-17/${file.key}` : file.key;
        await mkdir(join(out, key, ".."), { recursive: true });
        await writeFile(join(out, key), `${landed.join("\n")}\n`);
      }
      return kept;
    }

    for (const rewritten of [false, true]) {
      it(`${rewritten ? "most of the first file re-serialised: every file's fields hashed up front" : "the output looks kept as written: a file's fields hashed only when one of its rows is not"}; on one thread, on two, and parsing every line`, async () => {
        const out = join(tmp, `verbatim-${rewritten}`);
        const kept = await land(out, rewritten);
        const sink = sinkFor({ kind: "local", dir: out });
        const rows: OutputReader["rows"] = (key, format, lines) => rowsOf(sink, key, format as OutputFormat, undefined, undefined, lines);
        const first = plan.files[0] as PlannedFile;
        const probe = await keptAsWritten(first, verifyPlan(first, options).comparison, await listOutput(sink, ""), rows);
        assert.equal(probe === undefined, rewritten, "the probe of the first object's first lines");
        // Counted as the reader hands them over: lines found by their bytes.
        let verbatim = 0;
        const counting: OutputReader = {
          listed: () => listOutput(sink, ""),
          async *rows(key, format, lines) {
            for await (const row of rows(key, format, lines)) {
              if ("verbatim" in row) verbatim += row.verbatim.length;
              yield row;
            }
          },
          location: (k) => k,
          where: "",
        };
        const { duration_ms: _a, ...fast } = (await verifyReader(plan.files, counting, options)) as Report;
        // The probe's lines are counted too.
        assert.ok(verbatim > 0.9 * kept && verbatim < kept + 300, `${verbatim} lines found by their bytes, of ${kept} kept`);
        const { duration_ms: _b, ...parsed } = (await verifyOutput(plan.files, { kind: "local", dir: out }, "", (k) => k, { ...options, verbatim: false })) as Report;
        assert.deepEqual(fast, parsed);
        const { duration_ms: _c, ...threaded } = (await verifyOutput(plan.files, { kind: "local", dir: out }, "", (k) => k, { ...options, threads: 2 })) as Report;
        assert.deepEqual(threaded, parsed);
        // What the pipeline did is all there: lost, repeated, edited, not generated, misplaced.
        assert.ok(fast.missing > 0 && fast.duplicated > 0 && fast.changed > 0 && fast.unexpected === 1 && fast.misplaced > 0, JSON.stringify(fast));
        assert.deepEqual(Object.keys(fast.changed_fields), ["country"]);
      });
    }
  });

  it("reads Parquet from S3 by ranges, and NDJSON.gz and CSV.gz streams, against runs in those formats; a run's manifest from the bucket, at most a manifest's size", async () => {
    const s3 = await startTestS3(["verify-out"]);
    try {
      for (const format of ["parquet", "ndjson.gz", "csv.gz"]) {
        const run = ["--files", "2", "--size-mb", "0.2", "--date", "2026-01-17", "--run-id", `s3-${format}`, "--format", format];
        const g = await synthgen(["generate", ...run, "--out", `s3://verify-out/${format}`, "--endpoint", s3.endpoint]);
        assert.equal(g.code, 0, g.stderr);
        const { code, report } = await verify([...run, "--output", `s3://verify-out/${format}`, "--endpoint", s3.endpoint]);
        assert.equal(code, 0, `${format}: ${JSON.stringify(report.changed_fields)}`);
        assert.deepEqual(Object.keys(report.output.formats), [format]);
        assert.equal(report.found, JSON.parse(g.stdout).total_records);
      }
      // The run's manifest where generate left it, in the bucket: read from there, and refused when absent or larger than a manifest can be.
      const sharded = ["--files", "2", "--size-mb", "0.1", "--shards", "2", "--run-id", "s3-manifest"];
      const g = await synthgen(["generate", ...sharded, "--out", "s3://verify-out/sharded", "--endpoint", s3.endpoint]);
      assert.equal(g.code, 0, g.stderr);
      const byManifest = await verify(["--manifest", "s3://verify-out/sharded/_manifests/s3-manifest.json", "--output", "s3://verify-out/sharded", "--endpoint", s3.endpoint]);
      assert.equal(byManifest.code, 0, byManifest.stderr);
      assert.equal(byManifest.report.found, JSON.parse(g.stdout).totals.records);
      const absent = await verify(["--manifest", "s3://verify-out/sharded/_manifests/nope.json", "--output", "s3://verify-out/sharded", "--endpoint", s3.endpoint]);
      assert.equal(absent.code, 2);
      assert.match(absent.stderr, /--manifest s3:\/\/verify-out\/sharded\/_manifests\/nope\.json: no such object/);
      await s3.client.send(new PutObjectCommand({ Bucket: "verify-out", Key: "huge.json", Body: Buffer.alloc(64 * 1024 * 1024 + 1, 32) }));
      const huge = await verify(["--manifest", "s3://verify-out/huge.json", "--output", "s3://verify-out/sharded", "--endpoint", s3.endpoint]);
      assert.equal(huge.code, 2);
      assert.match(huge.stderr, /--manifest s3:\/\/verify-out\/huge\.json: larger than 67108864 bytes, not a synthgen manifest/);
    } finally {
      await s3.stop();
    }
  });

  it("a schema's sequence field is its key unless it repeats; a backfill's days are partitions, and a record under another day's is misplaced", async () => {
    const run = ["--dataset", "examples/orders.yaml", "--files", "1", "--size-mb", "0.05", "--from", "2026-02-01", "--to", "2026-02-02", "--run-id", "orders-1"];
    const out = join(tmp, "orders");
    const g = await synthgen(["generate", ...run, "--out", out]);
    assert.equal(g.code, 0, g.stderr);
    const oneDay = await verify(["--dataset", "examples/orders.yaml", "--files", "1", "--size-mb", "0.05", "--date", "2026-02-01", "--run-id", "orders-1", "--output", join(out, "dt=2026-02-01")]);
    assert.deepEqual(oneDay.report.matched_by, ["order_id"]);
    // ord_{file}_{n} starts again each day: the default key is not unique, so records are matched by content, as the report says.
    const byContent = await verify([...run, "--output", out]);
    assert.equal(byContent.code, 0, JSON.stringify(byContent.report));
    assert.equal(byContent.report.matched_by, "content");
    assert.match(byContent.report.key_note, /^order_id repeats in this run/);
    const { code, report } = await verify([...run, "--output", out, "--key", "order_id,placed_at"]);
    assert.equal(code, 0, JSON.stringify(report));
    assert.deepEqual(report.matched_by, ["order_id", "placed_at"]);
    assert.deepEqual(Object.keys(report.partitions), ["2026-02-01", "2026-02-02"]);
    // Move day 2's file under day 1: its records are found, but not where the run put them.
    const [day2] = await readdir(join(out, "dt=2026-02-02"));
    await writeFile(join(out, "dt=2026-02-01", `moved-${day2}`), await readFile(join(out, "dt=2026-02-02", day2 as string)));
    await rm(join(out, "dt=2026-02-02"), { recursive: true });
    const moved = await verify([...run, "--output", out, "--key", "order_id,placed_at"]);
    assert.equal(moved.code, 1);
    assert.deepEqual(moved.report.failed_by, ["misplaced"]);
    assert.equal(moved.report.misplaced, moved.report.partitions["2026-02-02"].expected);
  });

  it("takes the run from its manifest (generate --shards, the fan-out's): identity, size, format and dirt", async () => {
    const out = join(tmp, "sharded");
    const g = await synthgen(["generate", "--files", "4", "--size-mb", "0.1", "--shards", "2", "--format", "csv", "--dirty", "duplicate=0.05", "--run-id", "sharded-1", "--out", out]);
    assert.equal(g.code, 0, g.stderr);
    const { code, report } = await verify(["--manifest", join(out, "_manifests", "sharded-1.json"), "--output", out]);
    assert.equal(code, 0, JSON.stringify(report));
    assert.deepEqual([report.run.files, report.run.format, report.output.files], [4, "csv", 4]);
    assert.equal(report.dirty.duplicate.injected, JSON.parse(g.stdout).totals.dirty_records.duplicate);
    const missing = await verify(["--manifest", join(out, "_manifests", "nope.json"), "--output", out]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^synthgen: --manifest .*nope\.json: cannot read it \(ENOENT\)/);
  });

  it("one dataset of a scenario: the files generate --scenario gave it at that size, its sequence field the key", async () => {
    const out = join(tmp, "shop");
    const run = ["--scenario", "examples/shop.yaml", "--size-mb", "0.5", "--date", "2026-01-19", "--run-id", "shop-1"];
    const g = await synthgen(["generate", ...run, "--out", out]);
    assert.equal(g.code, 0, g.stderr);
    const orders = JSON.parse(g.stdout).datasets.orders;
    const { code, report } = await verify([...run, "--dataset", "orders", "--output", join(out, "orders")]);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.found, orders.total_records);
    assert.equal(report.run.files, orders.total_files);
    const wrong = await verify([...run, "--dataset", "orders", "--output", join(out, "users")]);
    assert.equal(wrong.code, 1, "users are not orders");
    assert.equal(wrong.report.found, 0);
  });

  it("tutoring events carry no id: matched by their whole content, so a changed event is missing plus unexpected", async () => {
    const run = ["--dataset", "tutoring-events", "--files", "1", "--size-mb", "0.05", "--date", "2026-01-18", "--run-id", "tut-1"];
    const out = join(tmp, "tutoring");
    assert.equal((await synthgen(["generate", ...run, "--out", out])).code, 0);
    const [name] = await readdir(out);
    const lines = (await readFile(join(out, name as string), "utf8")).trimEnd().split("\n");
    lines[0] = (lines[0] as string).replace(/"source":"simulator"/, '"source":"elsewhere"');
    await writeFile(join(out, name as string), `${lines.join("\n")}\n`);
    const { code, report } = await verify([...run, "--output", out]);
    assert.equal(code, 1);
    assert.equal(report.matched_by, "content");
    assert.deepEqual([report.missing, report.unexpected, report.changed], [1, 1, 0]);
  });

  describe("bad input: exit 2 naming the flag, nothing checked", () => {
    const cases: [string, string[], RegExp][] = [
      ["a mapping that names a column the output lacks", ["--map", "event_id=id"], /^synthgen: --map event_id=id: the output has no column "event_id"/],
      ["a mapping to a field the dataset does not have", ["--map", "x=nope"], /^synthgen: --map x=nope: the dataset has no field "nope"/],
      ["a key the dataset does not have", ["--key", "idd"], /^synthgen: --key idd: the dataset has no field "idd"/],
      ["a key that does not identify a record", ["--key", "country"], /^synthgen: --key: the key country does not identify a record/],
      ["an unknown dirty kind", ["--expect", "broken=dropped"], /^synthgen: --expect: unknown dirty kind "broken"/],
      ["an outcome that cannot happen", ["--expect", "late=deduplicated"], /only duplicates are deduplicated/],
      ["an output with no data files", ["--output", "/nonexistent-synthgen-dir"], /^synthgen: --output: no data files under/],
    ];
    for (const [what, extra, message] of cases) {
      it(`refuses ${what}`, async () => {
        const args = extra.includes("--output") ? [...RUN, ...extra] : [...RUN, "--output", landing, ...extra];
        const { code, stderr, report } = await verify(args);
        assert.equal(code, 2, stderr);
        assert.match(stderr, message);
        assert.deepEqual(report, {}, "no report");
      });
    }

    it("needs the run's identity", async () => {
      const { code, stderr } = await verify(["--output", landing]);
      assert.equal(code, 2);
      assert.match(stderr, /--run-id is required/);
    });
  });

  describe("the comparison rules, value by value", () => {
    it("reads an ISO time by its fast path exactly as by the general reader: fractions of 0 to 9 digits, impossible days and times, other zones", () => {
      // The general reader, as docs/verify.md states it: Date.parse of the second, the fraction's first six digits.
      const general = (text: string): bigint | undefined => {
        const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-]\d{2})(?::?(\d{2}))?)?$/.exec(text);
        if (!m) return undefined;
        const ms = Date.parse(`${m[1]}T${m[2]}${m[5] !== undefined ? `${m[5]}:${m[6] ?? "00"}` : "Z"}`);
        return Number.isNaN(ms) ? undefined : BigInt(ms) * 1000n + BigInt((m[3] ?? "").padEnd(6, "0").slice(0, 6));
      };
      const texts = [
        "2026-01-15T17:06:57.331707Z",
        "2026-01-15T17:06:57.331Z",
        "2026-01-15T17:06:57Z",
        "2026-01-15T17:06:57.3Z",
        "2026-01-15T17:06:57.123456789Z",
        "2026-01-15T17:06:57.Z",
        "2026-01-15T17:06:57.1234567890Z",
        "2024-02-29T00:00:00.000001Z",
        "2026-02-29T00:00:00Z",
        "2026-02-30T12:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-01-15T24:00:00Z",
        "2026-01-15T23:59:60Z",
        "2026-01-15T23:60:00Z",
        "2026-01-15T1a:00:00Z",
        "2026-01-15t17:06:57Z",
        "2026-01-15T17:06:57z",
        "2026-01-15T17:06:57.331707+01:00",
        "2026-01-15 17:06:57.331707",
        "1969-12-31T23:59:59.999999Z",
        "1901-01-01T00:00:00.000001Z",
        "2250-12-31T23:59:59.999999Z",
      ];
      for (const text of texts) assert.equal(isoMicros(text), general(text), text);
    });

    it("an ISO string, SQL's text and a Parquet TIMESTAMP of one instant are equal, to the microsecond", () => {
      const us = isoMicros("2026-01-15T17:06:57.331707Z") as bigint;
      assert.equal(canonical("timestamp", "2026-01-15T17:06:57.331707Z"), canonical("timestamp", new Micros(us)));
      assert.equal(canonical("timestamp", "2026-01-15 17:06:57.331707", true), canonical("timestamp", new Micros(us)));
      assert.equal(canonical("timestamp", "2026-01-15 18:06:57.331707+01"), canonical("timestamp", new Micros(us)));
      assert.notEqual(canonical("timestamp", "2026-01-15T17:06:57.331708Z"), canonical("timestamp", new Micros(us)));
    });

    it("3 equals 3.0 and a BIGINT 3; the text '3' in JSON is a change, in a CSV cell the number", () => {
      assert.equal(canonical("int", 3), canonical("double", 3.0));
      assert.equal(canonical("int", 3n), canonical("int", 3));
      assert.notEqual(canonical("int", "3"), canonical("int", 3));
      assert.equal(canonical("int", "3", true), canonical("int", 3));
    });

    it("null and missing are one value; JSON compares with its keys in any order", () => {
      assert.equal(canonical("string", null), canonical("string", undefined));
      assert.equal(canonical("json", { a: 1, b: [1, { c: 2, d: 3 }] }), canonical("json", { b: [1, { d: 3, c: 2 }], a: 1 }));
    });

    it("the 32-bit field hash verify keeps agrees with the canonical value on every pair: equal exactly when canonical is", () => {
      const us = isoMicros("2026-01-15T17:06:57.331707Z") as bigint;
      const values: [Parameters<typeof canonical>[0], unknown, boolean][] = [
        ["timestamp", "2026-01-15T17:06:57.331707Z", false],
        ["timestamp", new Micros(us), false],
        ["timestamp", "2026-01-15 17:06:57.331707", true],
        ["timestamp", new Date(Number(us / 1000n)), false],
        ["timestamp", "not a time", false],
        ["timestamp", "not a time", true],
        ["int", 3, false],
        ["int", 3n, false],
        ["int", "3", false],
        ["int", "3", true],
        ["int", -0, false],
        ["int", 0, false],
        ["double", 3.5, false],
        ["boolean", true, false],
        ["boolean", false, false],
        ["boolean", "false", true],
        ["boolean", "false", false],
        ["string", "false", false],
        ["string", "", false],
        ["string", "", true],
        ["string", null, false],
        ["string", undefined, false],
        ["string", 12, false],
        ["json", { a: 1, b: 2 }, false],
        ["json", '{"b":2,"a":1}', true],
        ["json", "x", true],
      ];
      for (const a of values) {
        for (const b of values) {
          if (a[0] !== b[0] && !(a[0] === "int" && b[0] === "double") && !(a[0] === "double" && b[0] === "int")) continue;
          const same = canonical(a[0], a[1], a[2]) === canonical(b[0], b[1], b[2]);
          assert.equal(fieldHash(a[0], a[1], a[2]) === fieldHash(b[0], b[1], b[2]), same, `${JSON.stringify([a, b], (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
        }
      }
    });

    it("a record's values are taken from the row its dataset made it from exactly as from its text: the same hashes, keys and dirt, for every dataset that hands its values over", () => {
      const examples = join(__dirname, "..", "..", "examples");
      const schemaOf = (name: string) => parseSchemaText(require("node:fs").readFileSync(join(examples, name), "utf8"), name);
      const dirty = { malformed: 0.02, duplicate: 0.02, wrong_type: 0.02, missing_required: 0.02, out_of_range: 0.02, late: 0.02 };
      const cases: Partial<PlannedFile>[] = [
        { dataset: "web-events", dirty },
        { dataset: "web-events-like", schema: schemaOf("web-events-like.yaml"), dirty },
        { dataset: "orders", schema: schemaOf("orders.yaml") },
        { dataset: "shop.orders", schema: { scenario: schemaOf("shop.yaml"), dataset: "orders" }, fileIndex: 0, fileCount: 1 },
        { dataset: "shop.users", schema: { scenario: schemaOf("shop.yaml"), dataset: "users" }, fileIndex: 0, fileCount: 1, format: "parquet" },
      ];
      for (const over of cases) {
        const file = { key: "k", seed: 7, runId: "rows", datePrefix: "2026-01-15", hhmmss: "101010", fileIndex: 1, fileCount: 3, targetBytes: 400_000, ...over } as PlannedFile;
        for (const keyNames of [defaultKey(file), undefined]) {
          const comparison = comparisonOf(file, keyNames, []);
          const fromRows = expectFile(file, comparison);
          const fromText = expectFile(file, comparison, { rows: false });
          assert.ok(fromRows.count > 100, `${file.dataset}: ${fromRows.count} records`);
          assert.deepEqual(fromRows, fromText, `${file.dataset}, key ${keyNames}`);
        }
      }
    });

    it("reads a row's value only where it is what its text would read back as: -0, NaN, infinities, a Date, a class instance are left to the text; a json leaf goes through its own JSON", () => {
      const columns: Column[] = [
        { name: "n", type: "double" },
        { name: "j", type: "json" },
        {
          name: "s",
          type: {
            struct: [
              { name: "x", type: "string" },
              { name: "constructor", type: "string" },
            ],
          },
        },
      ];
      const read = rowReader(columns, leavesOf(columns));
      const out: unknown[] = [];
      assert.equal(read([1.5, { b: [1, -0, Number.NaN], a: new Date(0) }, { x: "x" }], out), true);
      assert.deepEqual(out, [1.5, { b: [1, 0, null], a: "1970-01-01T00:00:00.000Z" }, "x", undefined], "a missing constructor is missing, not Object's");
      for (const hostile of [[-0], [Number.NaN], [Number.POSITIVE_INFINITY], [1, null, new Date(0)], [1, null, new (class {})()], [1, null, { x: new Date(0) }], [1n]]) {
        assert.equal(read(hostile, []), false, String(hostile[hostile.length - 1]));
      }
    });

    it("an output row's fields are its own: a CSV row or a JSON object without a constructor or toString column holds null there, not Object's", () => {
      const leaves = ["constructor", "toString", "a.hasOwnProperty"].map((name) => ({ name, path: name.split("."), type: "string" as const }));
      const digester = new RowDigester(
        { leaves, key: [], unit: 1 },
        leaves.map((l) => l.name),
      );
      for (const [values, textual] of [
        [{}, true],
        [{}, false],
        [{ a: {} }, false],
      ] as const) {
        assert.deepEqual([...digester.digest(values, textual, 1).hashes], [fieldHash("string", null), fieldHash("string", null), fieldHash("string", null)], JSON.stringify(values));
      }
    });

    it("keys are kept as 64-bit hashes: 200,000 distinct ids stored and found again, a repeat reported with the first index, content apart from keys", () => {
      const table = new KeyTable(200_001);
      const k = { h1: 0, h2: 0 };
      for (let i = 0; i < 200_000; i++) assert.equal(table.add(hashKey(`s:evt_${i}\u0001`, k), i), -1, `id ${i} collided`);
      for (let i = 0; i < 200_000; i += 997) assert.equal(table.get(hashKey(`s:evt_${i}\u0001`, k)), i);
      assert.equal(table.get(hashKey("s:evt_200000\u0001", k)), -1);
      assert.equal(table.add(hashKey("s:evt_7\u0001", k), 200_000), 7, "a key stored twice answers the first record");
      const words = Uint32Array.from([1, 2, 3]);
      const content = { ...hashContent(words, 0, 3, k) };
      assert.deepEqual(hashContent(Uint32Array.from([9, 1, 2, 3]), 1, 3, k), content, "content hashes by the words alone");
      assert.notDeepEqual(hashContent(Uint32Array.from([1, 2, 4]), 0, 3, k), content);
      assert.notDeepEqual(hashKey("", k), { h1: 0, h2: 0 }, "(0, 0) stays free for no key");
      assert.throws(() => {
        const small = new KeyTable(1);
        for (let i = 0; i < 20; i++) small.add(hashKey(String(i), k), i);
      }, /key table is full/);
    });

    it("NDJSON lines: split where the bytes are, across chunks (a multi-byte character too), CRLF or not, the last without a newline", async () => {
      const text = Buffer.from('{"a":"é"}\r\n{"b":2}\n\n{"c":"€"}');
      const lines: string[] = [];
      const chunks = async function* () {
        for (let i = 0; i < text.length; i += 3) yield text.subarray(i, i + 3);
      };
      for await (const l of linesOf(chunks())) lines.push(l);
      assert.deepEqual(lines, ['{"a":"é"}', '{"b":2}', "", '{"c":"€"}']);
    });

    it("NDJSON in pieces: every line read once, by the piece its first byte falls in, whatever the pieces and chunks (a line across several pieces, CRLF, blank lines, none at the end)", async () => {
      const lines = ['{"a":"é"}', '{"b":2}\r', "", "x".repeat(700), '{"c":"€"}', "", "y", '{"d":4}'];
      for (const ending of ["\n", ""]) {
        const text = Buffer.from(lines.join("\n") + ending);
        for (const parts of [1, 2, 3, 7, 40, text.length]) {
          for (const chunk of [1, 5, 64, 4096]) {
            const got: string[] = [];
            for (let part = 0; part < parts; part++) {
              const [start, end] = shareOf(text.length, { part, parts });
              const from = Math.max(0, start - 1);
              const chunks = async function* () {
                for (let i = from; i < text.length; i += chunk) yield text.subarray(i, Math.min(text.length, i + chunk));
              };
              for await (const l of linesOf(ownedLines(chunks(), start > 0, end - from))) got.push(l);
            }
            assert.deepEqual(
              got,
              lines.map((l) => l.replace(/\r$/, "")),
              `${parts} pieces, ${chunk}-byte chunks, ending ${JSON.stringify(ending)}`,
            );
          }
        }
      }
    });

    it("CSV: quotes, doubled quotes and newlines inside fields; an empty cell is null, an empty quoted one the empty string", () => {
      const csv = new CsvRows();
      const rows = [...csv.push('a,b,c\n"x, y","say ""hi""","two\nlines"\n,"",z'), ...csv.end()];
      assert.deepEqual(rows, [
        ["a", "b", "c"],
        ["x, y", 'say "hi"', "two\nlines"],
        [null, "", "z"],
      ]);
      assert.throws(() => new CsvRows(10).push('"open and never closed, longer than ten'), /longer than 10 characters/);
    });
  });
});
