import assert from "node:assert/strict";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type * as HandlerModule from "../functions/generate-files";
import { assertFitsInTime } from "../src/files/capacity";
import { planRun } from "../src/files/plan";
import { parseGenerateRequest } from "../src/files/request";
import { S3Sink } from "../src/sinks/s3";
import { HOSTILE_SCHEMAS } from "./support/hostile-schemas";
import { loadProgram, rolePolicyOf } from "./support/program";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";
import { startTestS3, type TestS3 } from "./support/s3";

const BUCKET = "handler-bucket";

function lambdaContext(requestId: string, remainingMs = 300_000) {
  return { awsRequestId: requestId, getRemainingTimeInMillis: () => remainingMs };
}

describe("generate-files handler", () => {
  let s3: TestS3;
  let proxy: StrictS3;
  let handler: typeof HandlerModule.handler;
  /** The test's own, unrestricted view of the bucket (an administrator, not the function). */
  let admin: S3Sink;

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    admin = new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: s3.endpoint });
    // S3 as AWS runs it for this function: its role's policy, as the program declares it.
    const program = await loadProgram({ inputBucketName: BUCKET, keyPrefix: "landing/" });
    proxy = await startStrictS3(s3.endpoint, rolePolicyOf(program, "generate-files"));
    // The handler reads its environment once, at load, as it does in a Lambda container.
    Object.assign(process.env, {
      BUCKET_NAME: BUCKET,
      KEY_PREFIX: "landing/",
      DEFAULT_FILE_COUNT: "2",
      DEFAULT_TARGET_SIZE_MB: "0.05",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "3538",
      S3_ENDPOINT: proxy.endpoint,
    });
    ({ handler } = await import("../functions/generate-files"));
  });

  after(async () => {
    await proxy.close();
    await s3.stop();
  });

  // The handler logs one JSON line per invocation; keep them for assertions, out of the report.
  const originalLog = console.log;
  let logged: string[] = [];
  beforeEach(() => {
    logged = [];
    console.log = (line: string) => logged.push(line);
  });
  afterEach(() => {
    console.log = originalLog;
  });

  it("writes the requested files and answers in the original generator's response shape", async () => {
    const res = await handler({ file_count: 3, target_size_mb: 0.2, date_prefix: "2025-12-23", run_id: "shape-run", seed: 5 }, lambdaContext("req-1"));
    assert.equal(res.statusCode, 200);
    const body = res.body as Record<string, unknown> & { files: Record<string, unknown>[] };
    assert.equal(body.status, "completed");
    assert.equal(body.total_files, 3);
    assert.equal(body.successful, 3);
    assert.equal(body.failed, 0);
    assert.equal(body.total_size_mb, 0.6);
    assert.equal(body.average_size_mb, 0.2);
    assert.equal(body.bucket, BUCKET);
    assert.equal(body.date_prefix, "2025-12-23");
    assert.equal(body.run_id, "shape-run");
    assert.equal(body.seed, 5);
    assert.equal(typeof body.duration_ms, "number");
    assert.equal(typeof body.mb_per_s, "number");
    const first = body.files[0]!;
    assert.deepEqual(Object.keys(first).slice(0, 6), ["status", "bucket", "key", "size_bytes", "size_mb", "s3_uri"]);
    assert.match(first.key as string, /^landing\/2025-12-23-test0000-\d{6}\.ndjson$/);
    assert.equal(first.size_bytes, Math.round(0.2 * 1024 * 1024));
    assert.equal(first.s3_uri, `s3://${BUCKET}/${first.key}`);
    assert.ok((first.record_count as number) > 0);
    assert.deepEqual(await s3.keys(BUCKET, "landing/2025-12-23-"), body.files.map((f) => f.key).sort());
  });

  it("lists at most the first 10 files in the response, as the original did", async () => {
    const res = await handler({ file_count: 12, target_size_mb: 0.01, run_id: "twelve", date_prefix: "2025-12-22" }, lambdaContext("req-12"));
    const body = res.body as { files: unknown[]; successful: number };
    assert.equal(body.successful, 12);
    assert.equal(body.files.length, 10);
    assert.equal((await s3.keys(BUCKET, "landing/2025-12-22-")).length, 12);
  });

  it("overwrites the same keys with the same bytes when an invocation is retried", async () => {
    const event = { file_count: 2, target_size_mb: 0.05, date_prefix: "2025-12-21" };
    const first = await handler(event, lambdaContext("retried-request"));
    const keysAfterFirst = await s3.keys(BUCKET, "landing/2025-12-21-");
    const bodyAfterFirst = await s3.body(BUCKET, keysAfterFirst[0]!);
    const second = await handler(event, lambdaContext("retried-request"));
    assert.deepEqual(await s3.keys(BUCKET, "landing/2025-12-21-"), keysAfterFirst);
    assert.ok(bodyAfterFirst.equals(await s3.body(BUCKET, keysAfterFirst[0]!)));
    assert.equal((first.body as { run_id: string }).run_id, "retried-request");
    assert.deepEqual(first.body && (first.body as { seed: number }).seed, (second.body as { seed: number }).seed);
  });

  it("takes the keys' HHMMSS and the run id from a scheduled event", async () => {
    const res = await handler({ file_count: 1, target_size_mb: 0.01, run_id: "7bf73129-1428-4cd3-a780-95db273d1602", time: "2025-12-20T14:00:00Z" }, lambdaContext("req-s"));
    const body = res.body as { date_prefix: string; files: { key: string }[] };
    assert.equal(body.date_prefix, "2025-12-20");
    assert.equal(body.files[0]!.key, "landing/2025-12-20-test0000-140000.ndjson");
  });

  it("uses the configured defaults when the event is empty", async () => {
    const res = await handler({ run_id: "defaults", date_prefix: "2025-12-19" }, lambdaContext("req-d"));
    const body = res.body as { total_files: number; average_size_mb: number };
    assert.equal(body.total_files, 2);
    assert.equal(body.average_size_mb, 0.05);
  });

  describe("bad input: 400 naming the field and what is allowed, nothing written", () => {
    const rows: [string, Record<string, unknown>, string, RegExp][] = [
      ["file_count 0", { file_count: 0 }, "file_count", /file_count must be a whole number from 1 to 10000 \(got 0\)/],
      ["file_count negative", { file_count: -3 }, "file_count", /from 1 to 10000 \(got -3\)/],
      ["file_count fractional", { file_count: 2.5 }, "file_count", /whole number .* \(got 2\.5\)/],
      ["file_count a string", { file_count: "10" }, "file_count", /whole number .* \(got "10"\)/],
      ["file_count over the maximum", { file_count: 10_001 }, "file_count", /from 1 to 10000 \(got 10001\)/],
      ["target_size_mb 0", { target_size_mb: 0 }, "target_size_mb", /target_size_mb must be a number of MiB from 0\.01 to 1024 \(got 0\)/],
      ["target_size_mb negative", { target_size_mb: -1 }, "target_size_mb", /from 0\.01 to 1024 \(got -1\)/],
      ["target_size_mb NaN", { target_size_mb: Number.NaN }, "target_size_mb", /from 0\.01 to 1024 \(got NaN\)/],
      ["target_size_mb over the maximum", { target_size_mb: 4096 }, "target_size_mb", /from 0\.01 to 1024 \(got 4096\)/],
      ["date_prefix not a real date", { date_prefix: "2025-02-30" }, "date_prefix", /date_prefix must be a real date as YYYY-MM-DD \(got "2025-02-30"\)/],
      ["date_prefix malformed", { date_prefix: "23/12/2025" }, "date_prefix", /YYYY-MM-DD/],
      [
        "unknown dataset",
        { dataset: "clickstream" },
        "dataset",
        /dataset must be one of web-events, tutoring-events, merchant-metrics, or a stored dataset \([^)]*\) \(got "clickstream": not found\)/,
      ],
      ["run_id ..", { run_id: ".." }, "run_id", /not "\." or "\.\."/],
      ["key_prefix inside the manifests folder", { key_prefix: "x/_manifests/" }, "key_prefix", /must not contain a "_manifests" segment/],
      ["key_prefix with ..", { key_prefix: "a/../b" }, "key_prefix", /no "\.\." segment/],
      ["key_prefix with a leading /", { key_prefix: "/abs" }, "key_prefix", /no leading "\/"/],
      ["run_id with spaces", { run_id: "my run" }, "run_id", /run_id must be 1 to 128 characters/],
      ["seed negative", { seed: -1 }, "seed", /seed must be a whole number/],
      ["a misspelt field", { file_cout: 5 }, "file_cout", /unknown field file_cout; allowed fields: file_count/],
      ["time not ISO-8601", { time: "noon" }, "time", /time must be an ISO-8601 timestamp/],
    ];
    for (const [what, event, field, message] of rows) {
      it(`rejects ${what}`, async () => {
        const before = await s3.keys(BUCKET);
        const res = await handler({ ...event, key_prefix: event.key_prefix ?? "bad-input" }, lambdaContext(`bad-${field}`));
        assert.equal(res.statusCode, 400);
        const body = res.body as { status: string; field: string; error: string };
        assert.equal(body.status, "error");
        assert.equal(body.field, field);
        assert.match(body.error, message);
        assert.match(logged.join("\n"), /"message":"request rejected"/);
        assert.deepEqual(await s3.keys(BUCKET), before);
      });
    }

    it("refuses a run that cannot finish in the remaining time and says what to change", async () => {
      const before = await s3.keys(BUCKET);
      const res = await handler({ file_count: 1000, target_size_mb: 100 }, lambdaContext("too-big", 60_000));
      assert.equal(res.statusCode, 400);
      const body = res.body as { error: string };
      assert.match(body.error, /needs about \d+ s at 3538 MB/);
      assert.match(body.error, /lower file_count or target_size_mb, raise memoryMb/);
      assert.match(body.error, /fan-out/);
      assert.deepEqual(await s3.keys(BUCKET), before);
    });

    it("times each format at its own rate: 40 × 10 MiB fits 60 s as NDJSON, as Parquet it is refused naming the format", async () => {
      const before = await s3.keys(BUCKET);
      const res = await handler({ file_count: 40, target_size_mb: 10, format: "parquet" }, lambdaContext("too-big-parquet", 60_000));
      assert.equal(res.statusCode, 400);
      assert.match((res.body as { error: string }).error, /400\.0 MiB needs about \d+ s at 3538 MB \([\d.]+ vCPU at a conservative [\d.]+ MiB\/s per vCPU for parquet \(snappy\)\)/);
      assert.deepEqual(await s3.keys(BUCKET), before);
      // The same files as NDJSON pass the check: it is the format's rate, not the volume alone.
      assertFitsInTime(planRun(parseGenerateRequest({ file_count: 40, target_size_mb: 10 }, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }), ""), 3538, 2, 60_000);
    });
  });

  it("ends in error after reporting when S3 refuses the writes, and leaves no object for failed files", async () => {
    proxy.block(() => true);
    try {
      await assert.rejects(
        handler({ file_count: 2, target_size_mb: 0.05, run_id: "fails", date_prefix: "2025-12-18" }, lambdaContext("req-f")),
        (err: Error) => err.name === "RunFailedError" && /2 of 2 files failed \(run fails\)/.test(err.message),
      );
    } finally {
      proxy.block(undefined);
    }
    const summary = JSON.parse(logged.find((l) => l.includes("run finished"))!) as { level: string; failed: number; errors: { key: string; error: string }[] };
    assert.equal(summary.level, "error");
    assert.equal(summary.failed, 2);
    assert.match(summary.errors[0]!.error, /upload of s3:\/\/handler-bucket\/landing\/2025-12-18-test000\d-\d{6}\.ndjson failed/);
    assert.deepEqual(await s3.keys(BUCKET, "landing/2025-12-18-"), []);
  });

  it("loses no file and writes none twice while S3 answers 503 SlowDown to 20% of requests (single PUTs and multipart)", async () => {
    const mark = proxy.requests.length;
    proxy.slowDown(0.2);
    let small, large;
    try {
      small = await handler({ file_count: 100, target_size_mb: 0.05, date_prefix: "2025-11-01", run_id: "slow-down" }, lambdaContext("slow-1", 900_000));
      large = await handler({ file_count: 2, target_size_mb: 17, date_prefix: "2025-11-02", run_id: "slow-down-mp" }, lambdaContext("slow-2", 900_000));
    } finally {
      proxy.slowDown(0);
    }
    assert.deepEqual([small.statusCode, (small.body as { successful: number }).successful], [200, 100]);
    assert.deepEqual([large.statusCode, (large.body as { successful: number }).successful], [200, 2]);
    const seen = proxy.requests.slice(mark);
    const throttled = seen.filter((r) => r.outcome === "throttled").length;
    // About a fifth of the requests met SlowDown (within 4 standard deviations of 20%).
    const floor = 0.2 * seen.length - 4 * Math.sqrt(seen.length * 0.2 * 0.8);
    assert.ok(throttled > 0 && throttled >= floor, `${throttled} of ${seen.length} requests were answered SlowDown`);
    // An object is created by a forwarded PutObject or CompleteMultipartUpload: exactly once per key.
    const completions = seen.filter(
      (r) => r.outcome === "forwarded" && r.key?.endsWith(".ndjson") && ((r.method === "PUT" && !r.query.includes("uploadId")) || (r.method === "POST" && r.query.includes("uploadId"))),
    );
    const perKey = new Map<string, number>();
    for (const r of completions) perKey.set(r.key!, (perKey.get(r.key!) ?? 0) + 1);
    assert.equal(perKey.size, 102);
    assert.deepEqual(
      [...perKey.values()].filter((n) => n !== 1),
      [],
      "no object written twice",
    );
    assert.equal((await s3.keys(BUCKET, "landing/2025-11-01-")).length, 100);
    assert.equal((await s3.keys(BUCKET, "landing/2025-11-02-")).length, 2);
  });

  it("writes a file whose requests meet SlowDown 3 times in a row (the SDK's default of 3 attempts loses it)", async () => {
    proxy.slowDownFirst(3);
    let res;
    try {
      res = await handler({ file_count: 3, target_size_mb: 0.05, date_prefix: "2025-11-03", run_id: "slow-down-4" }, lambdaContext("slow-3", 900_000));
    } finally {
      proxy.slowDownFirst(0);
    }
    assert.deepEqual([res.statusCode, (res.body as { successful: number }).successful], [200, 3]);
    assert.equal((await s3.keys(BUCKET, "landing/2025-11-03-")).length, 3);
  });

  describe("fan-out steps, as the state machine calls them", () => {
    type Body = Record<string, any>;
    const step = async (event: Record<string, unknown>, id: string) => {
      const res = await handler(event, lambdaContext(id, 900_000));
      assert.equal(res.statusCode, 200, JSON.stringify(res.body));
      return res.body as Body;
    };

    it("plans, runs shards in any order, resumes a shard by S3 metadata, and writes the manifest", async () => {
      const plan = await step({ action: "plan", request: { file_count: 9, target_size_mb: 0.05, date_prefix: "2025-11-30", seed: 8 }, execution_name: "exec-42" }, "plan");
      assert.deepEqual([plan.request.run_id, plan.shard_count, plan.files_per_shard, plan.shards], ["exec-42", 1, 9, [0]]);
      // The function lays out one shard for 9 small files; the machine would do the same with a
      // smaller timeout. Use 3 shards of 3 to exercise the Map's steps.
      const layout = { request: plan.request, shard_count: 3, files_per_shard: 3 };
      for (const k of [2, 0, 1]) {
        const shard = await step({ action: "shard", shard: k, ...layout }, `shard-${k}`);
        assert.deepEqual([shard.shard, shard.successful, shard.skipped], [k, 3, 0]);
      }
      const keys = (await s3.keys(BUCKET, "landing/2025-11-30-")).filter((k) => k.endsWith(".ndjson"));
      assert.equal(keys.length, 9);
      await admin.remove(keys[4]!);
      const again = await step({ action: "shard", shard: 1, ...layout }, "shard-1-again");
      assert.deepEqual([again.successful, again.skipped], [3, 2]);
      const manifest = await step({ action: "manifest", ...layout }, "manifest");
      assert.deepEqual([manifest.status, manifest.manifest_key, manifest.totals.files], ["completed", "landing/_manifests/exec-42.json", 9]);
      const doc = JSON.parse((await s3.body(BUCKET, "landing/_manifests/exec-42.json")).toString("utf8")) as Body;
      for (const f of doc.files as Body[]) assert.equal((await s3.head(BUCKET, f.key)).metadata.sha256, f.sha256);
    });

    it("plans Parquet shards at Parquet's rate: more shards of fewer files than NDJSON", async () => {
      const request = { file_count: 10_000, target_size_mb: 3.5, date_prefix: "2025-11-30" };
      const ndjson = await step({ action: "plan", request, execution_name: "plan-ndjson" }, "plan-ndjson");
      const parquet = await step({ action: "plan", request: { ...request, format: "parquet" }, execution_name: "plan-parquet" }, "plan-parquet");
      assert.ok(parquet.files_per_shard * 10 < ndjson.files_per_shard, `${parquet.files_per_shard} against ${ndjson.files_per_shard}`);
      assert.equal(parquet.shard_count, Math.ceil(10_000 / parquet.files_per_shard));
    });

    it("rejects a bad request at the plan step with 400 naming the field", async () => {
      const res = await handler({ action: "plan", request: { file_count: 0 } }, lambdaContext("bad-plan"));
      assert.equal(res.statusCode, 400);
      assert.equal((res.body as Body).field, "file_count");
      const unknown = await handler({ action: "explode" }, lambdaContext("bad-action"));
      assert.equal((unknown.body as Body).field, "action");
    });
  });

  it("generates a stored dataset from {KEY_PREFIX}_datasets/, and rejects a bad one with 400 naming its field", async () => {
    const sink = admin;
    await sink.putJson("landing/_datasets/readings.json", {
      name: "readings",
      fields: { sensor: { choice: ["s1", "s2"] }, value: { number: { distribution: "normal", mean: 20, stddev: 2, decimals: 1 } }, at: { timestamp: "iso" } },
    });
    const res = await handler({ dataset: "readings", file_count: 2, target_size_mb: 0.02, date_prefix: "2025-11-29", run_id: "stored" }, lambdaContext("stored"));
    assert.equal(res.statusCode, 200, JSON.stringify(res.body));
    const body = res.body as { dataset: string; files: { key: string }[] };
    assert.equal(body.dataset, "readings");
    const first = (await s3.body(BUCKET, body.files[0]!.key)).toString("utf8").split("\n")[0]!;
    assert.deepEqual(Object.keys(JSON.parse(first) as object), ["sensor", "value", "at"]);
    await sink.putJson("landing/_datasets/broken.json", { name: "broken", fields: { v: { numbr: {} } } });
    const bad = await handler({ dataset: "broken" }, lambdaContext("broken"));
    assert.equal(bad.statusCode, 400);
    assert.match((bad.body as { error: string }).error, /fields\.v\.numbr: unknown generator "numbr"; did you mean "number"\?/);
    // On S3's real semantics (403 for a key that is not there): a 400 that lists what exists.
    const unknown = await handler({ dataset: "readngs" }, lambdaContext("unknown-stored"));
    assert.equal(unknown.statusCode, 400, JSON.stringify(unknown.body));
    assert.deepEqual(
      [(unknown.body as { field: string }).field, (unknown.body as { error: string }).error],
      ["dataset", 'dataset must be one of web-events, tutoring-events, merchant-metrics, or a stored dataset (broken, readings) (got "readngs": not found)'],
    );
    assert.ok(!proxy.requests.some((r) => r.outcome === "denied"), "nothing the function asked was denied");
  });

  it("generates one dataset of a stored scenario (`shop.orders` from _datasets/shop.yaml) under {dataset}/, agreeing with the users run", async () => {
    await s3.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "landing/_datasets/shop.yaml",
        Body: `name: shop
datasets:
  users: { count: 300, fields: { user_id: { sequence: {} }, signup_at: { timestamp: iso } } }
  orders:
    parent: users
    per_parent: { distribution: poisson, mean: 2 }
    fields: { user_id: { ref: users.user_id }, placed_at: { timestamp: { after: users.signup_at, within: 7d } } }
`,
      }),
    );
    const users = await handler({ dataset: "shop.users", file_count: 1, target_size_mb: 0.2, date_prefix: "2025-11-29", run_id: "shop-users" }, lambdaContext("shop-users"));
    const orders = await handler({ dataset: "shop.orders", file_count: 3, target_size_mb: 0.2, date_prefix: "2025-11-29", run_id: "shop-orders" }, lambdaContext("shop-orders"));
    assert.equal(users.statusCode, 200, JSON.stringify(users.body));
    assert.equal(orders.statusCode, 200, JSON.stringify(orders.body));
    const keysOf = (res: typeof users) => (res.body as { files: { key: string }[] }).files.map((f) => f.key);
    for (const k of keysOf(users)) assert.match(k, /^landing\/users\//);
    for (const k of keysOf(orders)) assert.match(k, /^landing\/orders\//);
    const lines = async (keys: string[]) =>
      (await Promise.all(keys.map((k) => s3.body(BUCKET, k)))).flatMap((b) =>
        b
          .toString("utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
    const signup = new Map((await lines(keysOf(users))).map((u) => [u.user_id, Date.parse(u.signup_at as string)]));
    const all = await lines(keysOf(orders));
    assert.equal(all.length, (orders.body as { total_records: number }).total_records);
    assert.ok(all.length > 400);
    // Two invocations, two run ids, no seed given: the scenario's own seed, so every order's user exists and signed up before it.
    for (const o of all) assert.ok((signup.get(o.user_id) ?? Infinity) < Date.parse(o.placed_at as string), JSON.stringify(o));
    assert.ok(!proxy.requests.some((r) => r.outcome === "denied"), "nothing the function asked was denied");
  });

  describe("a stored scenario larger than its files: 400 from the plan's arithmetic, in well under a second, nothing written", () => {
    // A billion users with 100,000 orders each (~1.9 PiB), and ~10× what 10,000 files of the size asked for hold.
    const HUGE =
      "name: huge\ndatasets:\n  users: { count: 1000000000, fields: { id: { sequence: {} } } }\n  orders:\n    parent: users\n    per_parent: { distribution: uniform, min: 100000, max: 100000 }\n    fields: { id: { sequence: {} }, u: { ref: users.id } }\n";
    const TENFOLD = HUGE.replace("name: huge", "name: tenfold")
      .replace("count: 1000000000", "count: 1000000")
      .replace(/min: 100000, max: 100000/, "min: 300, max: 300");
    before(async () => {
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "landing/_datasets/huge.yaml", Body: HUGE }));
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "landing/_datasets/tenfold.yaml", Body: TENFOLD }));
    });

    const refused = async (event: Record<string, unknown>, field: string, message: RegExp) => {
      const before = await s3.keys(BUCKET);
      const started = performance.now();
      const res = await handler(event, lambdaContext(`too-big-${Object.values(event).join("-")}`, 900_000));
      const ms = performance.now() - started;
      assert.equal(res.statusCode, 400, JSON.stringify(res.body));
      assert.equal((res.body as { field: string }).field, field);
      assert.match((res.body as { error: string }).error, message);
      assert.ok(ms < 1000, `refused in ${Math.round(ms)} ms`);
      assert.deepEqual(await s3.keys(BUCKET), before, "nothing written");
    };

    it("refuses a dataset no run may write (1.9 PiB), whatever the size asked for", async () => {
      const message = /huge\.orders holds about 100,000,000,000,000 records of ~\d+ bytes \(~1\.\d PiB\), more than a run may write of one dataset: 10,000 files of at most 1,024 MiB \(9\.8 TiB\)/;
      await refused({ dataset: "huge.orders", file_count: 10_000, target_size_mb: 1024 }, "dataset", message);
      await refused({ action: "plan", request: { dataset: "huge.orders", file_count: 10_000, target_size_mb: 1024 }, execution_name: "huge-plan" }, "dataset", message);
    });

    it("refuses files that would be larger than asked, naming the file count or size that would hold the dataset", async () => {
      // 300 million orders (~5 GiB): 10 files of 0.5 MiB cannot hold them, nor can 10,000.
      await refused(
        { dataset: "tenfold.orders", file_count: 10, target_size_mb: 0.5 },
        "target_size_mb",
        /tenfold\.orders holds about 300,000,000 records \(~[\d.]+ GiB\): in 10 files each would take ~[\d.]+ MiB, more than target_size_mb 0\.5; a run has at most 10,000 files: raise target_size_mb to at least [\d.]+ with file_count 10,000/,
      );
      await refused({ action: "plan", request: { dataset: "tenfold.orders", file_count: 10, target_size_mb: 0.5 }, execution_name: "tenfold-plan" }, "target_size_mb", /more than target_size_mb 0\.5/);
      // Its million users (~9 MiB) fit in more files of the same size: the count that would is named.
      await refused(
        { dataset: "tenfold.users", file_count: 2, target_size_mb: 0.5 },
        "file_count",
        /in 2 files each would take ~[\d.]+ MiB, more than target_size_mb 0\.5: raise file_count to at least \d+, or target_size_mb to at least [\d.]+/,
      );
    });
  });

  describe("hostile stored schemas: 400 naming the path and the limit, in well under a second, nothing written", () => {
    HOSTILE_SCHEMAS.forEach(([what, text, message], i) => {
      it(`refuses ${what}`, async () => {
        await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `landing/_datasets/hostile-${i}.yaml`, Body: text }));
        const before = await s3.keys(BUCKET);
        const started = performance.now();
        const res = await handler({ dataset: `hostile-${i}`, file_count: 2, target_size_mb: 0.5, run_id: `hostile-${i}` }, lambdaContext(`hostile-${i}`));
        const ms = performance.now() - started;
        assert.equal(res.statusCode, 400);
        assert.match((res.body as { error: string }).error, message);
        assert.ok(ms < 1000, `refused in ${Math.round(ms)} ms`);
        assert.deepEqual(await s3.keys(BUCKET), before);
      });
    });
  });

  describe("its role, as the program declares it, evaluated by an IAM policy simulator", () => {
    const arn = `arn:aws:s3:::${BUCKET}`;
    const mustAllow: [string, string, Record<string, string>?][] = [
      ["s3:PutObject", `${arn}/landing/2025-01-01-test0000-000000.ndjson`],
      ["s3:AbortMultipartUpload", `${arn}/landing/2025-01-01-test0000-000000.ndjson`],
      ["s3:GetObject", `${arn}/landing/_datasets/orders.yaml`],
      ["s3:ListBucket", arn, { "s3:prefix": "landing/2025-01-01-test000" }],
      ["s3:DeleteObject", `${arn}/landing/_manifests/run-1.failed.json`],
      ["s3:DeleteObject", `${arn}/landing/orders/_manifests/run-1.failed.json`],
    ];
    const mustDeny: [string, string, string, Record<string, string>?][] = [
      ["a write under another prefix", "s3:PutObject", `${arn}/other/2025-01-01-test0000-000000.ndjson`],
      ["a write in another bucket", "s3:PutObject", "arn:aws:s3:::someone-elses-bucket/landing/x.ndjson"],
      ["a read under another prefix", "s3:GetObject", `${arn}/secrets/keys.json`],
      ["deleting a data file", "s3:DeleteObject", `${arn}/landing/2025-01-01-test0000-000000.ndjson`],
      ["deleting a completed manifest", "s3:DeleteObject", `${arn}/landing/_manifests/run-1.json`],
      ["deleting a data file that looks like a manifest folder", "s3:DeleteObject", `${arn}/landing/orders_manifests/x.failed.json`],
      ["deleting a stored dataset", "s3:DeleteObject", `${arn}/landing/_datasets/orders.yaml`],
      ["making an object public", "s3:PutObjectAcl", `${arn}/landing/2025-01-01-test0000-000000.ndjson`],
      ["tagging an object", "s3:PutObjectTagging", `${arn}/landing/2025-01-01-test0000-000000.ndjson`],
      ["listing the whole bucket", "s3:ListBucket", arn],
      ["listing another prefix", "s3:ListBucket", arn, { "s3:prefix": "other/" }],
      ["changing the bucket policy", "s3:PutBucketPolicy", arn],
      ["deleting the bucket", "s3:DeleteBucket", arn],
    ];
    for (const [action, resource, context] of mustAllow) {
      it(`allows ${action} on ${resource.replace(arn, "the bucket")}${context ? ` with ${JSON.stringify(context)}` : ""}`, async () => {
        assert.equal(await proxy.allows(action, resource, context), true);
      });
    }
    for (const [what, action, resource, context] of mustDeny) {
      it(`denies ${what} (${action})`, async () => {
        assert.equal(await proxy.allows(action, resource, context), false);
      });
    }
  });
});
