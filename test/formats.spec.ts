import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { datasetByName } from "../src/datasets";
import type { ValidationError } from "../src/core/errors";
import { leavesOf, type Column, type Leaf } from "../src/records/columns";
import { FORMAT_INFO, FORMATS, zstdCompressSync, type Format } from "../src/formats";
import { fileKey } from "../src/files/plan";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";
import { RecordSource } from "../src/records/record-source";
import { datasetOf } from "../src/datasets";
import { parseGenerateRequest } from "../src/files/request";
import { schemaDataset, parseSchemaText } from "../src/schema/dataset";
import { S3Sink } from "../src/sinks/s3";
import { synthgen } from "./support/cli";
import { startTestS3, type TestS3 } from "./support/s3";

const EXAMPLES = join(__dirname, "..", "..", "examples");
const OTHER_FORMATS = FORMATS.filter((f) => f !== "ndjson");

function identity(dataset: string, format: Format, targetBytes: number, over: Partial<FileIdentity> = {}): FileIdentity {
  return { dataset, seed: 7, runId: "formats", datePrefix: "2025-12-23", hhmmss: "101010", fileIndex: 3, fileCount: 5, targetBytes, format, ...over };
}

/** The records of the NDJSON rendering of this identity: its lines, none stretched (as in every format). */
function ndjsonRecords(id: FileIdentity, count: number): Record<string, unknown>[] {
  const { format: _format, ...ndjson } = id;
  const source = new RecordSource(ndjson, datasetOf(ndjson));
  const out: Record<string, unknown>[] = [];
  for (let i = 0; out.length < count; i++) for (const line of source.line(i).text.split("\n")) if (line !== "") out.push(JSON.parse(line) as Record<string, unknown>);
  return out.slice(0, count);
}

const at = (record: unknown, path: readonly string[]): unknown => path.reduce<unknown>((v, k) => (v === null || typeof v !== "object" ? undefined : (v as Record<string, unknown>)[k]), record);

/** DuckDB's text of a TIMESTAMPTZ (UTC session) as ISO with microseconds, and an ISO value padded to microseconds. */
const duckTime = (text: string) => `${text.replace(" ", "T").replace(/\+00(:00)?$/, "")}${text.includes(".") ? "" : ".000000"}Z`.replace(/\.(\d+)Z$/, (_, f: string) => `.${f.padEnd(6, "0")}Z`);
const isoMicros = (iso: string) => (iso.includes(".") ? iso.replace(/\.(\d+)Z$/, (_, f: string) => `.${f.padEnd(6, "0")}Z`) : iso.replace("Z", ".000000Z"));

/** A CSV cell as DuckDB read it (all_varchar), against the record's value under the documented mapping. */
function assertCell(cell: string | null, expected: unknown, leaf: Leaf, where: string): void {
  if (expected === undefined || expected === null) assert.equal(cell, null, where);
  else if (leaf.type === "json") assert.deepEqual(JSON.parse(cell as string), expected, where);
  else if (typeof expected === "number") assert.equal(Number(cell), expected, where);
  else assert.equal(cell, String(expected), where);
}

/** A Parquet value as DuckDB's to_json gives it, against the record's value under the documented type mapping. */
function assertParquet(actual: unknown, expected: unknown, type: Column["type"], where: string): void {
  if (expected === undefined || expected === null) assert.equal(actual, null, where);
  else if (typeof type === "object") {
    for (const c of type.struct) assertParquet((actual as Record<string, unknown>)[c.name], (expected as Record<string, unknown>)[c.name], c.type, `${where}.${c.name}`);
  } else if (type === "timestamp") assert.equal(duckTime(actual as string), isoMicros(expected as string), where);
  else assert.deepEqual(actual, expected, where);
}

describe("formats: gzip NDJSON, CSV and Parquet, read back by DuckDB", function () {
  this.timeout(120_000);
  let dir: string;
  let db: DuckDBInstance;
  let duck: DuckDBConnection;
  const rows = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "synthgen-formats-"));
    db = await DuckDBInstance.create(":memory:");
    duck = await db.connect();
    await duck.run("SET TimeZone = 'UTC'");
  });
  after(async () => {
    duck.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, (over?: Partial<FileIdentity>) => Partial<FileIdentity>][] = [
    ["web-events", () => ({})],
    ["tutoring-events", () => ({})],
    ["merchant-metrics", () => ({})],
    [
      "web-events-like (schema)",
      () => ({ dataset: "web-events-like", schema: parseSchemaText(require("node:fs").readFileSync(join(EXAMPLES, "web-events-like.yaml"), "utf8"), "web-events-like.yaml") }),
    ],
    ["orders (schema)", () => ({ dataset: "orders", schema: parseSchemaText(require("node:fs").readFileSync(join(EXAMPLES, "orders.yaml"), "utf8"), "orders.yaml") })],
    [
      "non-ASCII names and values (schema)",
      () => ({
        dataset: "unicode",
        schema: parseSchemaText('name: unicode\nfields:\n  "ключ": { choice: ["é😀", "naïve, \\"quoted\\"", "plain"] }\n  n: { number: { min: 1, max: 9 } }\n', "unicode.yaml"),
      }),
    ],
  ];

  for (const [name, over] of cases) {
    for (const format of OTHER_FORMATS) {
      it(`${name} as ${format}: DuckDB reads the same records as the NDJSON rendering, value for value, as many as the metadata says`, async () => {
        const extra = over();
        const id = identity(String(extra.dataset ?? name), format, 300_000, extra);
        const rendered = renderFile(id);
        const bytes = Buffer.concat([...rendered.chunks]);
        const path = join(dir, `${name.replace(/\W/g, "_")}${FORMAT_INFO[format].extension}`);
        await writeFile(path, bytes);
        const dataset = id.schema !== undefined ? schemaDataset(id.schema) : datasetByName(id.dataset);
        const expected = ndjsonRecords(id, rendered.stats.records);

        if (format === "ndjson.gz") {
          assert.equal(gunzipSync(bytes).length, rendered.stats.uncompressedBytes);
          const got = await rows(`SELECT json::VARCHAR AS j FROM read_json_objects('${path}', format = 'newline_delimited')`);
          assert.equal(got.length, rendered.stats.records);
          for (const [i, r] of got.entries()) assert.deepEqual(JSON.parse(r.j as string), expected[i], `record ${i}`);
        } else if (format === "csv" || format === "csv.gz") {
          const leaves = leavesOf(dataset.columns);
          const got = await rows(`SELECT * FROM read_csv('${path}', header = true, all_varchar = true, allow_quoted_nulls = false, quote = '"', escape = '"', delim = ',')`);
          assert.equal(got.length, rendered.stats.records);
          assert.deepEqual(
            Object.keys(got[0] ?? {}),
            leaves.map((l) => l.name),
            "the header: struct leaves as parent.child",
          );
          for (const [i, r] of got.entries()) for (const leaf of leaves) assertCell(r[leaf.name] as string | null, at(expected[i], leaf.path), leaf, `record ${i} ${leaf.name}`);
        } else {
          const got = await rows(`SELECT to_json(t)::VARCHAR AS j FROM read_parquet('${path}') t`);
          assert.equal(got.length, rendered.stats.records);
          got.forEach((r, i) => {
            const row = JSON.parse(r.j as string) as Record<string, unknown>;
            for (const c of dataset.columns)
              assertParquet(c.type === "json" && typeof row[c.name] === "string" ? JSON.parse(row[c.name] as string) : row[c.name], expected[i]?.[c.name], c.type, `record ${i} ${c.name}`);
          });
        }
      });
    }
  }

  it("types Parquet columns from the dataset: integers, doubles, booleans, timestamps, structs, JSON", async () => {
    const path = join(dir, "types.parquet");
    await writeFile(path, Buffer.concat([...renderFile(identity("web-events", "parquet", 100_000)).chunks]));
    const types = Object.fromEntries((await rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`)).map((r) => [r.column_name, r.column_type]));
    assert.equal(types.items_viewed, "BIGINT");
    assert.equal(types.revenue, "DOUBLE");
    assert.equal(types.bounce, "BOOLEAN");
    assert.equal(types.timestamp, "TIMESTAMP WITH TIME ZONE");
    assert.equal(types.custom_data, "STRUCT(experiment_id VARCHAR, variant VARCHAR, feature_flags STRUCT(feature_1 BOOLEAN, feature_2 BOOLEAN, feature_3 BOOLEAN))");
    const tutoring = join(dir, "tutoring.parquet");
    await writeFile(tutoring, Buffer.concat([...renderFile(identity("tutoring-events", "parquet", 50_000)).chunks]));
    const [payload] = await rows(`SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('${tutoring}')) WHERE column_name = 'payload'`);
    assert.equal(payload?.column_type, "JSON");
  });

  it("writes a large Parquet file as row groups of pages, a dictionary falling back to plain pages where it stops paying, and DuckDB reads it back value for value", async () => {
    const id = identity("web-events", "parquet", 8.5 * 1024 * 1024);
    const rendered = renderFile(id);
    const path = join(dir, "large.parquet");
    await writeFile(path, Buffer.concat([...rendered.chunks]));
    const [groups] = await rows(`SELECT count(DISTINCT row_group_id) AS n, sum(total_compressed_size) AS bytes FROM parquet_metadata('${path}')`);
    assert.ok(Number(groups?.n) >= 2, `${String(groups?.n)} row groups`);
    // Page kinds per chunk, read by hyparquet (DuckDB's metadata lists encodings, not pages).
    const { parquetMetadata } = require("hyparquet") as typeof import("hyparquet");
    const bytes = await readFile(path);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const pageKinds = (column: string) =>
      meta.row_groups.map((g) =>
        (g.columns.find((c) => c.meta_data?.path_in_schema.join(".") === column)?.meta_data?.encoding_stats ?? [])
          .map((e) => `${e.page_type} ${e.encoding}`)
          .sort()
          .join(", "),
      );
    // Unique values: a dictionary on trial, then plain. Few values: a dictionary throughout.
    for (const kinds of pageKinds("id")) assert.equal(kinds, "DATA_PAGE_V2 PLAIN, DATA_PAGE_V2 RLE_DICTIONARY, DICTIONARY_PAGE PLAIN");
    for (const kinds of pageKinds("country")) assert.equal(kinds, "DATA_PAGE_V2 RLE_DICTIONARY, DICTIONARY_PAGE PLAIN");
    const dataset = datasetByName("web-events");
    const expected = ndjsonRecords(id, rendered.stats.records);
    const got = await rows(`SELECT to_json(t)::VARCHAR AS j FROM read_parquet('${path}') t`);
    assert.equal(got.length, rendered.stats.records);
    got.forEach((r, i) => {
      const row = JSON.parse(r.j as string) as Record<string, unknown>;
      for (const c of dataset.columns) assertParquet(row[c.name], expected[i]?.[c.name], c.type, `record ${i} ${c.name}`);
    });
  });

  it("keeps each row group's footer entry as bytes and writes a footer DuckDB and hyparquet read, past 14 row groups and with none", async () => {
    const { ParquetPages } = require("../src/formats/parquet") as typeof import("../src/formats/parquet");
    const dataset = datasetByName("web-events");
    const id = identity("web-events", "ndjson", 0);
    const expected = ndjsonRecords(id, 60);
    const write = async (name: string, groups: number, perGroup: number) => {
      const parquet = new ParquetPages(dataset.columns, "snappy", dataset.name);
      const pieces: Buffer[] = [];
      for (let g = 0; g < groups; g++) {
        for (let r = 0; r < perGroup; r++) parquet.add(JSON.stringify(expected[g * perGroup + r]), g * perGroup + r);
        pieces.push(...parquet.rowGroup());
      }
      pieces.push(parquet.finish());
      const path = join(dir, name);
      await writeFile(path, Buffer.concat(pieces));
      return path;
    };
    const many = await write("many-groups.parquet", 20, 3);
    const perGroup = await rows(`SELECT row_group_id, max(row_group_num_rows) AS n, count(*) AS chunks FROM parquet_metadata('${many}') GROUP BY 1 ORDER BY 1`);
    assert.deepEqual(
      perGroup.map((g) => [Number(g.n), Number(g.chunks)]),
      Array.from({ length: 20 }, () => [3, leavesOf(dataset.columns).length]),
    );
    const got = await rows(`SELECT to_json(t)::VARCHAR AS j FROM read_parquet('${many}') t`);
    assert.equal(got.length, 60);
    got.forEach((r, i) => {
      const row = JSON.parse(r.j as string) as Record<string, unknown>;
      for (const c of dataset.columns) assertParquet(row[c.name], expected[i]?.[c.name], c.type, `record ${i} ${c.name}`);
    });
    const { parquetMetadata } = require("hyparquet") as typeof import("hyparquet");
    const bytes = await readFile(many);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    assert.equal(meta.num_rows, 60n);
    assert.equal(meta.row_groups.length, 20);
    // Each group keeps its own statistics.
    meta.row_groups.forEach((g, i) => {
      const stats = g.columns.find((c) => c.meta_data?.path_in_schema.join(".") === "items_viewed")?.meta_data?.statistics;
      const values = expected.slice(i * 3, i * 3 + 3).map((r) => BigInt(r.items_viewed as number));
      // biome-ignore lint/complexity/useMathMinMax: the values are BigInts, which Math.min and Math.max refuse
      assert.deepEqual([stats?.min_value, stats?.max_value], [values.reduce((a, b) => (b < a ? b : a)), values.reduce((a, b) => (b > a ? b : a))], `row group ${i}`);
    });
    const none = await write("no-groups.parquet", 0, 0);
    assert.deepEqual(await rows(`SELECT count(*)::INTEGER AS n FROM read_parquet('${none}')`), [{ n: 0 }]);
  });

  it("compresses Snappy pages byte for byte as hyparquet-writer's own compressor does: text, random, repetitive and tiny inputs", () => {
    const { snappyCompress: reference } = require("hyparquet-writer/src/snappy.js") as typeof import("hyparquet-writer/src/snappy.js");
    const { snappyCompress } = require("../src/formats/snappy") as typeof import("../src/formats/snappy");
    const text = Buffer.concat([...renderFile(identity("web-events", "ndjson", 400_000)).chunks]);
    const inputs: Uint8Array[] = [];
    for (const n of [0, 1, 14, 15, 16, 61, 4096, 65_535, 65_536, 70_000, 300_000]) {
      inputs.push(
        new Uint8Array(text.subarray(0, n)),
        new Uint8Array(n),
        Uint8Array.from({ length: n }, (_, i) => (i * 7) % 13),
      );
      const random = new Uint8Array(n);
      for (let i = 0; i < n; i++) random[i] = (Math.imul(i + 1, 2654435761) >>> 13) & 0xff;
      inputs.push(random);
    }
    for (const input of inputs) assert.deepEqual(Buffer.from(snappyCompress(input)), Buffer.from(reference(input)), `${input.length} bytes`);
  });

  it("makes the same Parquet bytes from a dataset's values as from its text, for every dataset that hands its values over", () => {
    const { ParquetPages } = require("../src/formats/parquet") as typeof import("../src/formats/parquet");
    const scenario = parseSchemaText(require("node:fs").readFileSync(join(EXAMPLES, "shop.yaml"), "utf8"), "shop.yaml");
    const cases: Partial<FileIdentity>[] = [
      { dataset: "web-events" },
      { dataset: "web-events-like", schema: parseSchemaText(require("node:fs").readFileSync(join(EXAMPLES, "web-events-like.yaml"), "utf8"), "web-events-like.yaml") },
      { dataset: "orders", schema: parseSchemaText(require("node:fs").readFileSync(join(EXAMPLES, "orders.yaml"), "utf8"), "orders.yaml") },
      { dataset: "shop.orders", schema: { scenario, dataset: "orders" }, fileIndex: 0, fileCount: 1 },
    ];
    for (const over of cases) {
      const id = identity(over.dataset as string, "parquet", 0, over);
      const dataset = datasetOf(id);
      const source = new RecordSource(id, dataset);
      const fromValues = new ParquetPages(dataset.columns, "snappy", dataset.name);
      const fromText = new ParquetPages(dataset.columns, "snappy", dataset.name);
      let taken = 0;
      const count = Math.min(3000, source.count ?? 3000);
      for (let i = 0; i < count; i++) {
        const { text } = source.line(i);
        const row = source.row();
        assert.ok(row, `${dataset.name} hands its values over`);
        if (fromValues.addRow(row, i)) taken++;
        else fromValues.add(text, i);
        fromText.add(text, i);
        if (i % 1000 === 999) {
          fromValues.page();
          fromText.page();
        }
      }
      assert.ok(taken > count * 0.99, `${dataset.name}: ${taken} of ${count} records taken from their values`);
      const bytes = (p: InstanceType<typeof ParquetPages>) => Buffer.concat([...p.rowGroup(), p.finish()]);
      assert.deepEqual(bytes(fromValues), bytes(fromText), dataset.name);
    }
  });

  it("takes a record's text, not its values, where a value might read back differently: -0, NaN, infinities, a Date, an array for a struct", () => {
    const { ParquetPages } = require("../src/formats/parquet") as typeof import("../src/formats/parquet");
    const columns: Column[] = [
      { name: "d", type: "double" },
      { name: "j", type: "json" },
      { name: "t", type: "timestamp" },
      { name: "s", type: { struct: [{ name: "x", type: "double" }] } },
    ];
    const parquet = new ParquetPages(columns, "snappy", "hostile");
    for (const row of [
      [-0],
      [Number.NaN],
      [Number.POSITIVE_INFINITY],
      [1, Number.NEGATIVE_INFINITY],
      [1, null, new Date(0)],
      [1, null, null, [1]],
      [1, null, null, { x: -0 }],
      [1, null, null, new Date(0)],
    ]) {
      assert.equal(parquet.addRow(row, 0), false, JSON.stringify(row));
    }
    assert.equal(parquet.rows, 0, "nothing added by a refused row");
    assert.equal(parquet.addRow([0.5, { a: [1, -0] }, "2024-02-29T23:59:59.5Z", { x: 2 }], 0), true);
    assert.equal(parquet.rows, 1);
  });

  it("reads ISO timestamps digit by digit exactly as Date.parse does, and leaves anything else to it", () => {
    const { timestampMicros } = require("../src/formats/parquet") as typeof import("../src/formats/parquet");
    const slow = (v: string): number | bigint | undefined => {
      const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(v);
      if (!m) return undefined;
      const ms = Date.parse(`${m[1]}Z`);
      if (Number.isNaN(ms)) return undefined;
      return BigInt(ms) * 1000n + BigInt((m[2] ?? "").padEnd(6, "0"));
    };
    const cases = [
      "1970-01-01T00:00:00Z",
      "1970-01-01T00:00:00.000001Z",
      "2000-02-29T12:00:00.5Z",
      "2100-03-01T00:00:00Z",
      "2255-06-05T23:47:34.740991Z",
      "2255-06-05T23:47:34.740992Z",
      "9999-12-31T23:59:59.999999Z",
      "1969-12-31T23:59:59Z",
      "0001-01-01T00:00:00Z",
    ];
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(((Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32) * 253_402_300_799_999);
      const iso = new Date(ms).toISOString();
      const digits = i % 7;
      cases.push(digits === 3 ? iso : digits === 0 ? iso.replace(/\.\d+Z$/, "Z") : iso.replace(/\.\d+Z$/, `.${String(i).padStart(6, "0").slice(0, digits)}Z`));
    }
    for (const v of cases) {
      const got = timestampMicros(v);
      assert.equal(got === undefined ? undefined : BigInt(got), slow(v), v);
    }
    for (const bad of [
      "2023-02-29T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-01-01T24:00:00Z",
      "2024-01-01T00:60:00Z",
      "2024-01-01 00:00:00Z",
      "2024-01-01T00:00:00.Z",
      "2024-01-01T00:00:00.1234567Z",
      "2024-01-01T00:00:00",
    ]) {
      assert.equal(timestampMicros(bad) === undefined ? undefined : BigInt(timestampMicros(bad) as number), slow(bad), bad);
    }
  });

  it("ends each file at its stored-size target: csv at most one record over, compressed formats within 1% or 4 KiB", () => {
    for (const format of OTHER_FORMATS) {
      for (const dataset of ["web-events", "tutoring-events", "merchant-metrics"]) {
        for (const target of [20_000, 200_000, 1_048_576]) {
          const f = renderFile(identity(dataset, format, target));
          for (const _ of f.chunks);
          const off = f.stats.bytes - target;
          if (format === "csv") assert.ok(off >= 0 && off < 4096, `${dataset} ${format} ${target}: ${off} bytes over`);
          else assert.ok(Math.abs(off) <= Math.max(0.01 * target, 4096), `${dataset} ${format} ${target}: ${off} bytes off`);
        }
      }
    }
  });

  it("writes gzip that gzip itself accepts, and records its uncompressed size", async () => {
    const path = join(dir, "check.ndjson.gz");
    const f = renderFile(identity("web-events", "ndjson.gz", 1_048_576));
    await writeFile(path, Buffer.concat([...f.chunks]));
    execFileSync("gzip", ["-t", path]);
    assert.equal(
      Number(
        execFileSync("sh", ["-c", `gzip -dc '${path}' | wc -c`])
          .toString()
          .trim(),
      ),
      f.stats.uncompressedBytes,
    );
  });

  it("puts dirt where each format can hold it: cut CSV rows, and nulls for missing required Parquet values, counted exactly", async () => {
    const csvPath = join(dir, "dirty.csv");
    const csv = renderFile(identity("web-events", "csv", 400_000, { dirty: { malformed: 0.05 } }));
    await writeFile(csvPath, Buffer.concat([...csv.chunks]));
    const malformed = csv.stats.dirty?.malformed ?? 0;
    assert.ok(malformed > 0);
    const [loaded] = await rows(`SELECT count(*)::INTEGER AS n FROM read_csv('${csvPath}', header = true, all_varchar = true, ignore_errors = true, null_padding = false)`);
    assert.equal(loaded?.n, csv.stats.records - malformed, "every cut row is rejected, and only those");

    const pqPath = join(dir, "dirty.parquet");
    const pq = renderFile(identity("web-events", "parquet", 400_000, { dirty: { missing_required: 0.05, out_of_range: 0.05 } }));
    await writeFile(pqPath, Buffer.concat([...pq.chunks]));
    const [nulls] = await rows(`SELECT count(*) FILTER (WHERE id IS NULL)::INTEGER AS missing, count(*) FILTER (WHERE latitude < -90)::INTEGER AS out FROM read_parquet('${pqPath}')`);
    assert.deepEqual([nulls?.missing, nulls?.out], [pq.stats.dirty?.missing_required, pq.stats.dirty?.out_of_range]);
  });

  it("refuses a format, codec or dirty kind it cannot honour, naming the field and what is allowed", () => {
    const parse = (event: Record<string, unknown>) => () => parseGenerateRequest(event, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() });
    assert.throws(parse({ format: "xml" }), (e: ValidationError) => e.field === "format" && /ndjson, ndjson\.gz, csv, csv\.gz, parquet/.test(e.message));
    assert.throws(parse({ format: "csv", parquet_codec: "gzip" }), (e: ValidationError) => e.field === "parquet_codec");
    assert.throws(parse({ format: "parquet", parquet_codec: "lzo" }), (e: ValidationError) => e.field === "parquet_codec" && /snappy, gzip, zstd, uncompressed/.test(e.message));
    // zstd is Node's own from 22.15 on (Lambda's nodejs22.x): refused before, naming the version.
    if (zstdCompressSync === undefined) {
      assert.throws(parse({ format: "parquet", parquet_codec: "zstd" }), (e: ValidationError) => e.field === "parquet_codec" && e.message.includes(process.version) && /22\.15/.test(e.message));
    } else assert.equal(parse({ format: "parquet", parquet_codec: "zstd" })().parquetCodec, "zstd");
    assert.throws(parse({ format: "parquet", dirty: { malformed: 0.1 } }), (e: ValidationError) => e.field === "dirty" && /malformed/.test(e.message));
    assert.throws(parse({ format: "csv", dirty: { oversize: 0.1 } }), (e: ValidationError) => e.field === "dirty" && /oversize/.test(e.message));
  });

  it("names keys with the format's extension and leaves NDJSON keys and bytes as they were", () => {
    assert.equal(fileKey("p/", "2025-12-23", 4, "101010"), "p/2025-12-23-test0004-101010.ndjson");
    assert.equal(fileKey("p/", "2025-12-23", 4, "101010", "csv.gz"), "p/2025-12-23-test0004-101010.csv.gz");
    const request = parseGenerateRequest({ format: "parquet", run_id: "r" }, { fileCount: 1, targetSizeMb: 1 }, { now: new Date() });
    assert.equal(request.parquetCodec, "snappy");
    assert.equal(parseGenerateRequest({ run_id: "r" }, { fileCount: 1, targetSizeMb: 1, format: "csv" }, { now: new Date() }).format, "csv", "the deployment's default");
  });

  it("writes every format byte-identically on 1 and 2 threads", async () => {
    for (const format of FORMATS) {
      const outs = [join(dir, `t1-${format}`), join(dir, `t2-${format}`)];
      for (const [i, out] of outs.entries()) {
        const res = await synthgen(["generate", "--files", "3", "--size-mb", "0.2", "--format", format, "--run-id", "threads", "--threads", String(i + 1), "--out", out]);
        assert.equal(res.code, 0, res.stderr);
      }
      const names = (await readdir(outs[0] as string)).sort();
      assert.equal(names.length, 3);
      assert.ok(names.every((n) => n.endsWith(FORMAT_INFO[format].extension)));
      for (const n of names) assert.ok((await readFile(join(outs[0] as string, n))).equals(await readFile(join(outs[1] as string, n))), `${format} ${n}`);
    }
  });

  it("goes through the shards, the manifest and resume like NDJSON: a deleted file is written again, the rest left alone", async () => {
    const out = join(dir, "sharded");
    const args = ["generate", "--files", "4", "--size-mb", "0.1", "--format", "csv.gz", "--shards", "2", "--run-id", "sharded-gz", "--out", out];
    assert.equal((await synthgen(args)).code, 0);
    const manifest = JSON.parse(await readFile(join(out, "_manifests", "sharded-gz.json"), "utf8")) as {
      parameters: { format: string };
      files: { key: string; bytes: number; uncompressed_bytes: number }[];
      totals: { uncompressed_bytes: number };
    };
    assert.equal(manifest.parameters.format, "csv.gz");
    assert.equal(manifest.files.length, 4);
    for (const f of manifest.files) {
      const bytes = await readFile(join(out, f.key));
      assert.equal(bytes.length, f.bytes);
      assert.equal(gunzipSync(bytes).length, f.uncompressed_bytes);
    }
    assert.equal(
      manifest.totals.uncompressed_bytes,
      manifest.files.reduce((n, f) => n + f.uncompressed_bytes, 0),
    );
    const gone = manifest.files[2]!.key;
    const kept = await readFile(join(out, gone));
    await rm(join(out, gone));
    const again = await synthgen(args);
    assert.equal(again.code, 0, again.stderr);
    assert.ok((await readFile(join(out, gone))).equals(kept), "the same bytes again");
    const body = JSON.parse(again.stdout) as { written: number; skipped: number; status: string };
    assert.deepEqual([body.status, body.written, body.skipped], ["completed", 1, 3], "only the missing file was written");
  });

  describe("to S3", () => {
    let s3: TestS3;
    before(async () => {
      s3 = await startTestS3(["formats-bucket"]);
    });
    after(() => s3.stop());

    it("sets Content-Type and Content-Encoding per format and records format and uncompressed bytes in the metadata", async () => {
      const sink = new S3Sink({ kind: "s3", bucket: "formats-bucket", endpoint: s3.endpoint });
      for (const format of OTHER_FORMATS) {
        const file = { ...identity("web-events", format, 200_000), key: fileKey("f/", "2025-12-23", 3, "101010", format) };
        const stats = await sink.write(file);
        const head = await s3.head("formats-bucket", file.key);
        assert.equal(head.contentType, FORMAT_INFO[format].contentType, format);
        assert.equal(head.contentEncoding, FORMAT_INFO[format].contentEncoding, format);
        assert.equal(head.contentLength, stats.bytes);
        assert.equal(head.metadata.format, format);
        assert.equal(head.metadata.uncompressed_bytes, String(stats.uncompressedBytes));
        assert.equal(head.metadata.record_count, String(stats.records));
      }
    });

    it("streams a Parquet file larger than a part through the multipart upload, byte for byte", async () => {
      const sink = new S3Sink({ kind: "s3", bucket: "formats-bucket", endpoint: s3.endpoint });
      const file = { ...identity("web-events", "parquet", 8.5 * 1024 * 1024), key: fileKey("mp/", "2025-12-23", 3, "101010", "parquet") };
      const stats = await sink.write(file);
      const body = await s3.body("formats-bucket", file.key);
      assert.equal(body.length, stats.bytes);
      assert.ok(body.equals(Buffer.concat([...renderFile(file).chunks])));
    });
  });
});
