import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import aslValidator from "asl-validator";
import { EMIT_DEFAULTS, parseEmitRequest, type EmitDataset } from "../src/events/request";
import { resolveScenarioDataset } from "../src/catalog/resolve";
import { scenarioRecordCounts } from "../src/scenarios/plan";
import { assertShardsCarry, assertTargetQuota, cellRequest, evenShards, layoutEmitters, shardLoads } from "../src/events/fan-out";
import { emitFanOutAction } from "../src/events/fan-out-actions";
import { cumulative } from "../src/events/shape";
import { openStreams } from "../src/events/streams";
import { KinesisEventSink } from "../src/events/targets/kinesis";
import { synthgen } from "./support/cli";
import { startIngestServer, type IngestServer } from "./support/ingest-server";
import { startTestKinesis, type TestKinesis } from "./support/kinesis";
import { writeBundle } from "./support/lambda-runtime";
import { fanOutDefinitionOf, loadProgram, rolePolicyOf, type LoadedProgram } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { invokeProgramFunction, runProgramMachine, type DriverResult } from "./support/state-machine";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";

const BUCKET = "emit-fan-out-bucket";
const PREFIX = "emits/";
const NOW = new Date("2026-03-02T10:00:00Z");

type Report = {
  status: string;
  total_events: number;
  sent: number;
  failed: number;
  emitters: number;
  waves: number;
  wave_seconds: number;
  missing_cells: unknown[];
  wave_starts: { wave: number; started_at: string }[];
  seconds: { second: number; target: number; achieved: number }[];
  latency: { requests: number };
};

/**
 * The deployment the emit state machine specs run against: S3 behind the strict proxy under
 * emit-events' own role, a loopback ingest API, the bundled function, and the program with 128 MB
 * emitters, a 20 s timeout and at most 4 emitters at once.
 */
async function startEmitMachine() {
  const s3 = await startTestS3([BUCKET]);
  const server = await startIngestServer();
  const { dir: bundleDir } = await writeBundle({ handler: "functions/emit-events.ts" });
  const program = await loadProgram({ inputBucketName: BUCKET, keyPrefix: PREFIX, ingestApiUrl: server.url, emitMemoryMb: "128", emitTimeoutSeconds: "20", emitFanOutConcurrency: "4" });
  const definition = fanOutDefinitionOf(program, "emit-fan-out");
  const strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, "emit-events"));
  return { s3, server, bundleDir, program, definition, strict };
}

async function stopEmitMachine(m: { s3: TestS3; server: IngestServer; bundleDir: string; strict: StrictS3 }): Promise<void> {
  await m.strict.close();
  await m.server.close();
  await m.s3.stop();
  await rm(m.bundleDir, { recursive: true, force: true });
}

describe("emit fan-out: the plan's arithmetic", () => {
  const request = (fields: Record<string, unknown>) =>
    parseEmitRequest({ ingest_api_url: "http://127.0.0.1:9/x", run_id: "plan", seed: 1, ...fields }, EMIT_DEFAULTS, { now: NOW }, undefined, "fan-out");
  const settings = { memoryMb: 1769, timeoutSeconds: 900, cores: 2, maxEmitters: 1000 };

  it("100,000 events/s for 30 minutes: 25 HTTP emitters of 4,000/s at 1,769 MB, in 3 waves of 800 s", () => {
    const layout = layoutEmitters(request({ shape: "constant:100000/30m", stream_count: 1000 }), settings, NOW.getTime());
    assert.deepEqual([layout.emitters, layout.waves, layout.waveSeconds], [25, 3, 800]);
  });

  it("every stream's events are split over the waves with nothing lost or sent twice, whatever the layout", () => {
    const r = request({ shape: "ramp:10..5000/50s", stream_count: 37, stream_skew: { zipf: 1.1 } });
    for (const [emitters, waveSeconds] of [
      [1, 50],
      [4, 7],
      [37, 3],
    ] as const) {
      const layout = { emitters, waves: Math.ceil(50 / waveSeconds), waveSeconds, startAt: 0 };
      const next = new Array<number>(37).fill(0);
      for (let w = 0; w < layout.waves; w++) {
        for (let e = 0; e < emitters; e++) {
          for (const s of cellRequest(r, layout, e, w).cell!.streams) {
            assert.equal(s.first, next[s.index], `stream ${s.index} continues where it stopped`);
            next[s.index] = s.first + s.count;
          }
        }
      }
      assert.deepEqual(next, r.streamEvents, `${emitters} emitters × ${layout.waves} waves send every stream's events once`);
    }
  });

  it("refuses more emitters than the deployment runs at once, naming emitFanOutConcurrency", () => {
    assert.throws(
      () => layoutEmitters(request({ shape: "constant:100000/30m", stream_count: 1000 }), { ...settings, memoryMb: 512, maxEmitters: 50 }, 0),
      /needs 91 emitters at 512 MB \(1157 events\/s each\), more than the 50 .*emitFanOutConcurrency/,
    );
  });

  it("maps partition keys to shards by MD5 as Kinesis does, and refuses a peak a shard cannot take", () => {
    const r = request({ shape: "constant:4000/60s", stream_count: 40 });
    const loads = shardLoads(r, evenShards(8), 300);
    assert.equal(
      loads.reduce((n, l) => n + l.streams, 0),
      40,
    );
    assert.ok(Math.abs(loads.reduce((n, l) => n + l.recordsPerS, 0) - 4000) < 1e-6);
    assert.doesNotThrow(() => assertShardsCarry(r, loads));
    const few = shardLoads(r, evenShards(3), 300);
    assert.throws(() => assertShardsCarry(r, few), /shard shardId-00000000000\d .* over Kinesis' 1,000 records\/s and 1 MiB\/s per shard: the stream has 3 open shards and needs at least 4/);
    // One hot stream (Zipf 2 over 40 streams: stream 0 carries 61%) is over a shard's quota however many shards there are.
    const hot = request({ shape: "constant:4000/60s", stream_count: 40, stream_skew: { zipf: 2 } });
    assert.throws(() => assertShardsCarry(hot, shardLoads(hot, evenShards(64), 300)), /over Kinesis' 1,000 records\/s/);
  });

  it("checks Firehose, SQS FIFO and EventBridge against their documented quotas (the strict reading), or the account's raised target_quota", () => {
    const at = (target: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const r = request({ ingest_api_url: undefined, ...target, shape: "constant:20000/10m", stream_count: 100, ...extra });
      return () => assertTargetQuota(r, layoutEmitters(r, settings, 0), 300);
    };
    assert.throws(at({ firehose_stream_name: "fh" }), /records_per_s 20000 > 1000, mib_per_s 5\.72 > 1 \(Direct PUT per Firehose stream: .*give it as target_quota/);
    const raised = at({ firehose_stream_name: "fh" }, { target_quota: { records_per_s: 500_000, mib_per_s: 10, calls_per_s: 2000 } })();
    assert.deepEqual([raised?.records_per_s, raised?.mib_per_s, raised?.calls_per_s, raised?.quota_source], [20000, 5.72, 40, "target_quota"]);
    assert.throws(at({ firehose_stream_name: "fh" }, { target_quota: { mib_per_s: 5 } }), /mib_per_s 5\.72 > 5 \(target_quota\): lower the rate or raise the quota/);
    assert.throws(at({ sqs_queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo" }), /records_per_s 20000 > 3000, calls_per_s 2000 > 300 \(SQS FIFO/);
    assert.equal(at({ sqs_queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q" })(), undefined, "a standard queue has no throughput quota");
    assert.throws(at({ event_bus_name: "default" }), /records_per_s 20000 > 400 \(PutEvents per account and Region/);
    assert.throws(() => request({ shape: "constant:10/1m", target_quota: { records: 5 } }), /target_quota must be an object of records_per_s, mib_per_s, calls_per_s/);
  });

  it("refuses a request the fan-out cannot pace, and one invocation refuses a peak above its 100,000/s", () => {
    assert.throws(() => request({ events_per_stream: 10 }), /the emit fan-out paces its emitters: give a shape/);
    assert.throws(
      () => parseEmitRequest({ ingest_api_url: "http://127.0.0.1:9/x", shape: "constant:200000/1s" }, EMIT_DEFAULTS, { now: NOW }),
      /peaks at 200000 events\/s, more than the 100000 one invocation sends: run it through the emit fan-out/,
    );
  });

  it("a scenario's dataset is its entities at events_per_second: each stream file s of stream_count, whole streams (no blocks), counted once", async () => {
    const custom = resolveScenarioDataset(await readFile("examples/shop.yaml", "utf8"), "shop.yaml", "orders");
    const scenario = (fields: Record<string, unknown>, dataset: EmitDataset = custom) =>
      parseEmitRequest({ ingest_api_url: "http://127.0.0.1:9/x", run_id: "plan", date_prefix: "2026-02-01", ...fields }, EMIT_DEFAULTS, { now: NOW }, dataset, "fan-out");
    assert.throws(
      () => scenario({ stream_count: 4 }),
      (err: Error & { field?: string }) => err.field === "events_per_second" && /paces a scenario's dataset \(shop.orders\) at events_per_second/.test(err.message),
    );
    assert.throws(() => scenario({ shape: "constant:10/1m", events_per_second: 10 }), /events_per_second does not apply with a shape/);
    const r = scenario({ stream_count: 4, events_per_second: 2000 });
    const counts = scenarioRecordCounts(custom.schema, custom.defaultSeed as number, "2026-02-01", 4, 1e6);
    assert.deepEqual(r.streamEvents, counts);
    assert.equal(r.blockEvents, undefined, "a stream is its file's entities in order");
    assert.equal(r.shape!.text, `constant:2000/${counts.reduce((a, b) => a + b, 0) / 2000}s`);
    // Counts the plan walked are taken as they are for the same seed and day, and walked again otherwise.
    const counted = { seed: custom.defaultSeed as number, datePrefix: "2026-02-01", streamEvents: [1, 2, 3, 4] };
    assert.deepEqual(scenario({ stream_count: 4, events_per_second: 2000 }, { ...custom, counted }).streamEvents, [1, 2, 3, 4]);
    assert.deepEqual(scenario({ stream_count: 4, events_per_second: 2000, seed: 9 }, { ...custom, counted }).streamEvents, scenarioRecordCounts(custom.schema, 9, "2026-02-01", 4, 1e6));
    // The cells of any layout send each stream's entities once, in order.
    const layout = { emitters: 3, waves: 4, waveSeconds: Math.ceil(r.shape!.durationS / 4), startAt: 0 };
    for (let s = 0; s < 4; s++) {
      const indices: number[] = [];
      for (let w = 0; w < 4; w++)
        for (let e = 0; e < 3; e++) for (const c of cellRequest(r, layout, e, w).cell!.streams) if (c.index === s) for (let i = c.first; i < c.first + c.count; i++) indices.push(i);
      assert.deepEqual(
        indices,
        Array.from({ length: counts[s]! }, (_, i) => i),
        `stream ${s}`,
      );
    }
  });
});

describe("the emit state machine as declared, executed: States Language interpreter → bundled emit-events → loopback ingest API and S3 as strict as AWS", () => {
  let s3: TestS3;
  let strict: StrictS3;
  let server: IngestServer;
  let bundleDir: string;
  let program: LoadedProgram;
  let definition: Record<string, any>;

  before(async () => {
    // 128 MB: 289 HTTP events/s per emitter, so a 1,000/s peak needs 4; a 20 s timeout makes 8 s waves.
    ({ s3, server, bundleDir, program, definition, strict } = await startEmitMachine());
  });
  after(() => stopEmitMachine({ s3, server, bundleDir, strict }));

  const execute = (executionName: string, input: unknown): Promise<DriverResult> =>
    runProgramMachine({ program, component: "emit-events", definition, bundleDir, s3Endpoint: strict.endpoint, executionName, input });
  const report = async (runId: string) => JSON.parse((await s3.body(BUCKET, `${PREFIX}_emit/${runId}/report.json`)).toString("utf8")) as Report;

  it("is valid Amazon States Language by asl-validator, which does catch a broken definition", () => {
    const verdict = aslValidator(definition as never);
    assert.equal(verdict.isValid, true, verdict.errorsText("\n"));
    const broken = structuredClone(definition);
    broken.States.MoreWaves.Default = "Reprt";
    assert.equal(aslValidator(broken as never).isValid, false);
  });

  it("runs a ramp 200 → 1,000/s over 12 s as 4 emitters × 2 waves; the report's counts are what the server received, every second within ±5% of the shape", async () => {
    const shape = "ramp:200..1000/12s";
    const result = await execute("emit-ramp", { shape, stream_count: 40, run_id: "ramp-1", seed: 7 });
    assert.equal(result.status, "SUCCEEDED", `${result.error}: ${result.cause}`);
    assert.deepEqual(result.invocations, { Plan: 1, Emit: 8, Report: 1 });
    assert.equal(result.maxInFlight.Emit, 4, "a wave's emitters all run at once");
    const r = await report("ramp-1");
    assert.deepEqual([r.status, r.emitters, r.waves, r.wave_seconds, r.missing_cells], ["completed", 4, 2, 8, []]);
    assert.equal(r.total_events, 7200);
    assert.equal(server.accepted.length, 7200, "the server received every event");
    assert.deepEqual(server.duplicates, []);
    assert.deepEqual([r.sent, r.failed], [7200, 0]);
    assert.equal(
      r.seconds.reduce((n, s) => n + s.achieved, 0),
      7200,
    );

    // Each stream's events arrived in order, indices 0, 1, 2, … with none missing.
    const byStream = new Map<number, number[]>();
    for (const a of server.accepted) {
      const [, stream, index] = a.key.split(":").map(Number) as [number, number, number];
      byStream.set(stream, [...(byStream.get(stream) ?? []), index]);
    }
    assert.equal(byStream.size, 40);
    for (const [stream, indices] of byStream)
      assert.deepEqual(
        indices,
        indices.map((_, i) => i),
        `stream ${stream}`,
      );

    // report.json names the run whole: verify recomputes every stream from it and finds what the server received, once each, in order.
    const identity = r as unknown as { date_prefix: string; hhmmss: string; events_by_stream: number[]; block_events: number };
    assert.match(`${identity.date_prefix} ${identity.hhmmss}`, /^\d{4}-\d{2}-\d{2} \d{6}$/);
    assert.deepEqual([identity.events_by_stream.length, identity.events_by_stream.reduce((a, b) => a + b, 0), identity.block_events], [40, 7200, 10_000]);
    const landed = await mkdtemp(join(tmpdir(), "synthgen-emit-landed-"));
    try {
      await mkdir(join(landed, "out"));
      await writeFile(join(landed, "report.json"), JSON.stringify(r));
      const lines = server.accepted.map((a) => JSON.stringify({ ...(a.body as object), idempotency_key: a.key, received_at: new Date(a.at).toISOString() }));
      await writeFile(join(landed, "out", "part-0.ndjson"), `${lines.join("\n")}\n`);
      const v = await synthgen([
        "verify",
        "--emit-report",
        join(landed, "report.json"),
        "--output",
        join(landed, "out"),
        "--idempotency-field",
        "idempotency_key",
        "--arrival-field",
        "received_at",
        "--in-order",
      ]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const verified = JSON.parse(v.stdout) as Record<string, any>;
      assert.deepEqual(
        [verified.expected_records, verified.found, verified.missing, verified.unexpected, verified.events.idempotency.mismatched, verified.events.order.out_of_order],
        [7200, 7200, 0, 0, 0, 0],
      );
    } finally {
      await rm(landed, { recursive: true, force: true });
    }

    // The server's own clock: second k of wave w counted from when that wave started.
    const parsed = parseEmitRequest({ ingest_api_url: server.url, shape }, EMIT_DEFAULTS, { now: NOW }, undefined, "fan-out");
    const starts = r.wave_starts.map((w) => Date.parse(w.started_at));
    const misses: string[] = [];
    for (let k = 0; k < 12; k++) {
      const w = Math.floor(k / 8);
      if (k % 8 === 0) continue; // a wave's first second is its start-up
      const from = starts[w]! + (k - w * 8) * 1000;
      const got = server.accepted.filter((a) => a.at >= from && a.at < from + 1000).length;
      const want = cumulative(parsed.shape!, k + 1) - cumulative(parsed.shape!, k);
      if (Math.abs(got - want) / want > 0.05) misses.push(`second ${k}: ${got} vs ${want}`);
    }
    assert.deepEqual(misses, []);
    assert.deepEqual(
      strict.requests.filter((q) => q.outcome === "denied"),
      [],
      "the role allowed everything the run needed",
    );
  });

  it("the same run_id again sends nothing: every cell already has its summary", async () => {
    const before = server.accepted.length;
    const result = await execute("emit-ramp-again", { shape: "ramp:200..1000/12s", stream_count: 40, run_id: "ramp-1", seed: 7 });
    assert.equal(result.status, "SUCCEEDED", `${result.error}: ${result.cause}`);
    assert.equal(server.accepted.length, before);
    assert.equal((await report("ramp-1")).sent, 7200);
  });

  it("ends InvalidRequest, sending nothing, when the rate needs more emitters than emitFanOutConcurrency", async () => {
    const before = server.accepted.length;
    const result = await execute("emit-too-fast", { shape: "constant:5000/5s", stream_count: 40, run_id: "too-fast" });
    assert.deepEqual([result.status, result.error], ["FAILED", "InvalidRequest"]);
    assert.deepEqual(result.invocations, { Plan: 1 });
    assert.equal(server.accepted.length, before);
    assert.deepEqual(await s3.keys(BUCKET, `${PREFIX}_emit/too-fast/`), []);
  });

  it("ends EventsFailed when events fail: an ingest URL that refuses every connection, every event counted failed", async () => {
    const result = await execute("emit-refused", { shape: "constant:20/3s", stream_count: 4, run_id: "refused", ingest_api_url: "http://127.0.0.1:9/ingest", max_failed_ratio: 0 });
    assert.deepEqual([result.status, result.error], ["FAILED", "EventsFailed"]);
    const r = await report("refused");
    assert.deepEqual([r.status, r.sent, r.failed], ["failed", 0, 60]);
  });

  it("ends EventsFailed listing the missing cell when an emitter cannot leave its summary; the same run_id again sends only that cell, flagged as restarted", async () => {
    const input = { shape: "constant:400/4s", stream_count: 8, run_id: "lost-cell", seed: 3 };
    const before = server.accepted.length;
    strict.block((key) => key === `${PREFIX}_emit/lost-cell/cells/w00000-e00001.json`);
    const failed = await execute("emit-lost-1", input);
    strict.block(undefined);
    assert.deepEqual([failed.status, failed.error], ["FAILED", "EventsFailed"]);
    const r = await report("lost-cell");
    assert.equal(r.status, "failed");
    assert.deepEqual(r.missing_cells, [{ wave: 0, emitter: 1 }]);
    assert.equal(r.emitters, 2);
    assert.equal(server.accepted.length - before, 1600, "the events were sent; only the summary is missing");
    assert.equal(r.sent + (r as unknown as { unaccounted: number }).unaccounted, 1600);

    const resumed = await execute("emit-lost-2", input);
    assert.equal(resumed.status, "SUCCEEDED", `${resumed.error}: ${resumed.cause}`);
    const again = (await report("lost-cell")) as Report & { restarted_cells: unknown[]; warning: string };
    assert.deepEqual(again.restarted_cells, [{ wave: 0, emitter: 1 }]);
    assert.match(again.warning, /may have seen part of their events twice/);
    assert.equal(server.duplicates.length, r.total_events - r.sent, "exactly the lost cell's events arrived again, and the report says so");
  });
});

describe("the emit state machine with a stored scenario's dataset: interpreter → bundled emit-events → loopback ingest API, S3 as strict as AWS", () => {
  let s3: TestS3;
  let strict: StrictS3;
  let server: IngestServer;
  let bundleDir: string;
  let program: LoadedProgram;
  let definition: Record<string, any>;
  let tmp: string;
  const shopText = () => readFile("examples/shop.yaml", "utf8");
  const store = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}_datasets/${key}`, Body: body }));

  before(async () => {
    // 128 MB: 289 HTTP events/s per emitter; a 20 s timeout makes 8 s waves.
    ({ s3, server, bundleDir, program, definition, strict } = await startEmitMachine());
    tmp = await mkdtemp(join(tmpdir(), "emit-fan-out-shop-"));
    await store("shop.yaml", await shopText());
  });
  after(async () => {
    await stopEmitMachine({ s3, server, bundleDir, strict });
    await rm(tmp, { recursive: true, force: true });
  });

  const execute = (executionName: string, input: unknown): Promise<DriverResult> =>
    runProgramMachine({ program, component: "emit-events", definition, bundleDir, s3Endpoint: strict.endpoint, executionName, input });
  const invoke = (event: unknown) =>
    invokeProgramFunction({ program, component: "emit-events", bundleDir, s3Endpoint: strict.endpoint, event }) as Promise<{ statusCode?: number; body?: Record<string, any> }>;
  const received = (runId: string) => server.accepted.filter((a) => a.key.startsWith(`${runId}:`));
  /** What `synthgen generate --scenario` writes of one dataset for the day, record by record (canonical JSON). */
  const generated = async (dataset: string, scenarioFile = "examples/shop.yaml") => {
    const out = join(tmp, `${dataset}-${Math.random().toString(36).slice(2)}`);
    const g = await synthgen(["generate", "--scenario", scenarioFile, "--date", "2026-02-01", "--size-mb", "1", "--out", out]);
    assert.equal(g.code, 0, g.stderr);
    const files = (await readdir(join(out, dataset))).sort();
    return (await Promise.all(files.map((f) => readFile(join(out, dataset, f), "utf8"))))
      .join("")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.stringify(JSON.parse(l)));
  };

  it("sends exactly the records generate --scenario writes for shop.tickets, over 2 waves whose emitters start mid-stream; the definition is read once, by the plan", async () => {
    const written = await generated("tickets");
    const mark = strict.requests.length;
    // ~6,000 tickets at 500/s: 12 s, so 2 emitters × 2 waves of 8 s; wave 1 starts each stream where wave 0 stopped.
    const result = await execute("emit-shop-tickets", { dataset: "shop.tickets", date_prefix: "2026-02-01", stream_count: 6, events_per_second: 500 });
    assert.equal(result.status, "SUCCEEDED", `${result.error}: ${result.cause}`);
    const r = JSON.parse((await s3.body(BUCKET, `${PREFIX}_emit/emit-shop-tickets/report.json`)).toString("utf8")) as Report;
    assert.deepEqual([r.status, r.emitters, r.waves, r.total_events, r.sent, r.failed], ["completed", 2, 2, written.length, written.length, 0]);
    const got = received("emit-shop-tickets");
    assert.deepEqual(got.map((a) => JSON.stringify(a.body)).sort(), [...written].sort(), "the same tickets of the same users, none lost, none twice");
    assert.deepEqual(server.duplicates, []);
    // Stream s is file s of 6: generate --scenario with 6 files would hold the same records in the same order.
    const byStream = new Map<number, number[]>();
    for (const a of got) {
      const [, stream, index] = a.key.split(":").map(Number) as [number, number, number];
      byStream.set(stream, [...(byStream.get(stream) ?? []), index]);
    }
    for (const [stream, indices] of byStream)
      assert.deepEqual(
        indices,
        indices.map((_, i) => i),
        `stream ${stream} in order`,
      );
    const requests = strict.requests.slice(mark);
    assert.deepEqual(
      requests.filter((q) => q.outcome === "denied"),
      [],
      "the role allowed what the run needed",
    );
    assert.equal(requests.filter((q) => q.key === `${PREFIX}_datasets/shop.yaml`).length, 1, "the stored scenario is read by the plan only");
    const copy = JSON.parse((await s3.body(BUCKET, `${PREFIX}_emit/emit-shop-tickets/definition.json`)).toString("utf8")) as Record<string, any>;
    assert.deepEqual([copy.dataset, copy.source_key, copy.text], ["shop.tickets", `${PREFIX}_datasets/shop.yaml`, await shopText()]);
    assert.equal(
      copy.counted.stream_events.reduce((a: number, b: number) => a + b, 0),
      written.length,
      "the plan's entity counts, which the emitters take instead of walking the scenario again",
    );
  });

  it("every emitter sends the planned definition when the stored object changes mid-run; planning that run_id again then is refused, sending nothing", async () => {
    const runId = "shop-products-pinned";
    const written = await generated("products");
    const planned = await invoke({ action: "plan", execution_name: runId, request: { dataset: "shop.products", date_prefix: "2026-02-01", stream_count: 4, events_per_second: 1000 } });
    assert.equal(planned.statusCode, 200, JSON.stringify(planned));
    const plan = planned.body!;
    assert.match(plan.request.definition_sha256, /^[0-9a-f]{64}$/);
    assert.equal(plan.definition.copy_key, `${PREFIX}_emit/${runId}/definition.json`);
    // The stored scenario changes after the plan: 10 products of another price range.
    const changed = (await shopText()).replace("count: 2000", "count: 10").replace("mean: 40, stddev: 25", "mean: 900, stddev: 1");
    await store("shop.yaml", changed);
    try {
      const layout = { emitters: plan.emitters, waves: plan.waves, wave_seconds: plan.wave_seconds, start_at: plan.start_at };
      for (let w = 0; w < plan.waves; w++) {
        for (const emitter of plan.emitter_list as number[]) {
          const cell = await invoke({ action: "emit", request: plan.request, emitter, wave: w, ...layout });
          assert.equal(cell.statusCode, 200, JSON.stringify(cell));
        }
      }
      const report = await invoke({ action: "report", request: plan.request, ...layout });
      assert.equal(report.statusCode, 200, JSON.stringify(report));
      assert.deepEqual([report.body!.status, report.body!.sent], ["completed", 2000]);
      assert.deepEqual(
        received(runId)
          .map((a) => JSON.stringify(a.body))
          .sort(),
        [...written].sort(),
        "the 2,000 products planned, not the 10 stored now",
      );

      const before = server.accepted.length;
      const again = await execute("emit-shop-products-again", { ...plan.request, definition_sha256: undefined });
      assert.deepEqual([again.status, again.error], ["FAILED", "InvalidRequest"]);
      assert.deepEqual(again.invocations, { Plan: 1 });
      assert.equal(server.accepted.length, before);
    } finally {
      await store("shop.yaml", await shopText());
    }
  });

  it("an emitter without the plan's pin, or with a pin the run has no copy of, is a 400 naming definition_sha256; nothing is sent", async () => {
    const before = server.accepted.length;
    const layout = { emitters: 1, waves: 1, wave_seconds: 8, start_at: Date.now() };
    const request = { dataset: "shop.products", date_prefix: "2026-02-01", stream_count: 4, events_per_second: 1000, run_id: "unplanned", seed: 1, time: "2026-02-01T00:00:00Z" };
    const unpinned = await invoke({ action: "emit", request, emitter: 0, wave: 0, ...layout });
    assert.equal(unpinned.statusCode, 400, JSON.stringify(unpinned));
    assert.equal(unpinned.body!.field, "definition_sha256");
    const unknown = await invoke({ action: "emit", request: { ...request, definition_sha256: "0".repeat(64) }, emitter: 0, wave: 0, ...layout });
    assert.equal(unknown.statusCode, 400, JSON.stringify(unknown));
    assert.match(unknown.body!.error, /run unplanned has no copy of stored dataset shop.products/);
    const builtIn = await invoke({ action: "plan", request: { dataset: "web-events", shape: "constant:10/2s", definition_sha256: "0".repeat(64) } });
    assert.equal(builtIn.statusCode, 400, JSON.stringify(builtIn));
    assert.equal(builtIn.body!.field, "definition_sha256");
    const notStored = await invoke({ action: "plan", request: { dataset: "shop2.products", events_per_second: 100 } });
    assert.equal(notStored.statusCode, 400, JSON.stringify(notStored));
    assert.match(notStored.body!.error, /or a stored dataset \(shop\) \(got "shop2.products": not found\)/);
    assert.equal(server.accepted.length, before);
  });
});

describe("the emit state machine to a Kinesis stream: interpreter → bundled emit-events → kinesalite, S3 as strict as AWS", () => {
  let s3: TestS3;
  let strict: StrictS3;
  let kinesis: TestKinesis;
  let bundleDir: string;
  let program: LoadedProgram;

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    kinesis = await startTestKinesis();
    await kinesis.createStream("fan-in", 4);
    ({ dir: bundleDir } = await writeBundle({ handler: "functions/emit-events.ts" }));
    // 128 MB: 578 Kinesis events/s per emitter, so a 1,000/s peak needs 2; 8 s waves.
    program = await loadProgram({ inputBucketName: BUCKET, keyPrefix: PREFIX, kinesisStreamName: "fan-in", emitMemoryMb: "128", emitTimeoutSeconds: "20", emitFanOutConcurrency: "2" });
    strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, "emit-events"));
  });
  after(async () => {
    await strict.close();
    await kinesis.close();
    await s3.stop();
    await rm(bundleDir, { recursive: true, force: true });
  });

  it("plans against the stream's shards, then 2 emitters × 2 waves put every event once, each partition key in order; the report counts what the stream holds", async () => {
    const result = await runProgramMachine({
      program,
      component: "emit-events",
      definition: fanOutDefinitionOf(program, "emit-fan-out"),
      bundleDir,
      s3Endpoint: strict.endpoint,
      env: { TARGET_ENDPOINT: kinesis.endpoint },
      executionName: "emit-kinesis",
      input: { shape: "constant:1000/10s", stream_count: 16, run_id: "kin-fan", seed: 9 },
    });
    assert.equal(result.status, "SUCCEEDED", `${result.error}: ${result.cause}`);
    assert.deepEqual(result.invocations, { Plan: 1, Emit: 4, Report: 1 });
    const report = JSON.parse((await s3.body(BUCKET, `${PREFIX}_emit/kin-fan/report.json`)).toString("utf8")) as Report;
    assert.deepEqual([report.status, report.emitters, report.waves, report.sent, report.failed], ["completed", 2, 2, 10_000, 0]);
    const records = await kinesis.readAll("fan-in");
    assert.equal(records.length, 10_000);
    assert.equal(new Set(records.map((r) => r.data)).size, 10_000, "no record twice");
    assert.equal(new Set(records.map((r) => r.partitionKey)).size, 16);
    // The records of each partition key, in the shard's sequence order, are that stream's events in order.
    // The run's identity as the plan fixed it (its time of day, from the clock).
    const fixed = (result.output as { plan: { body: { request: Record<string, unknown> } } }).plan.body.request;
    const parsed = parseEmitRequest({ kinesis_stream_name: "fan-in", ...fixed }, EMIT_DEFAULTS, { now: NOW }, undefined, "fan-out");
    const order = new Map<string, number>();
    for (const s of openStreams({ ...parsed })) for (let e = s.next(); e; e = s.next()) order.set(e.body, e.index);
    for (let s = 0; s < 16; s++) {
      const indices = records.filter((r) => r.partitionKey === `kin-fan:${s}`).map((r) => order.get(r.data));
      assert.deepEqual(
        indices,
        indices.map((_, i) => i),
        `stream ${s}`,
      );
    }
    assert.deepEqual(
      strict.requests.filter((q) => q.outcome === "denied"),
      [],
    );
  });
});

describe("emit fan-out plan against a Kinesis stream (kinesalite through the SDK): the shards it has", () => {
  let kinesis: TestKinesis;
  before(async () => {
    kinesis = await startTestKinesis();
    await kinesis.createStream("two-shards", 2);
  });
  after(() => kinesis.close());

  const plan = (shape: string) =>
    emitFanOutAction(
      { action: "plan", request: { kinesis_stream_name: "two-shards", shape, stream_count: 16, run_id: "k-plan", seed: 1 } },
      {
        defaults: EMIT_DEFAULTS,
        store: { kind: "local", dir: "/nonexistent" },
        keyPrefix: "",
        context: { now: NOW },
        settings: { memoryMb: 1769, timeoutSeconds: 900, cores: 2, maxEmitters: 100 },
        remainingMs: () => 900_000,
        sinkFor: () => new KinesisEventSink({ streamName: "two-shards", endpoint: kinesis.endpoint, region: "us-east-1" }),
      },
    );

  it("plans a peak the two shards carry, listing the busiest shards", async () => {
    const body = (await plan("constant:1200/60s")) as { busiest_shards: { records_per_s: number }[]; emitters: number };
    assert.equal(body.busiest_shards.length, 2);
    assert.equal(Math.round(body.busiest_shards.reduce((n, s) => n + s.records_per_s, 0)), 1200);
  });

  it("refuses a peak over 2 × 1,000 records/s, naming the shard and how many would do", async () => {
    await assert.rejects(plan("constant:2400/60s"), /shard shardId-00000000000[01] of two-shards would take \d+ records\/s .* the stream has 2 open shards and needs at least 3/);
  });
});
