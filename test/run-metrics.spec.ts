import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { emfMetrics, parseEmfLine, type EmfMetric } from "./support/emf";
import { startIngestServer, type IngestServer } from "./support/ingest-server";
import { writeBundle } from "./support/lambda-runtime";
import { loadProgram, rolePolicyOf, type LoadedProgram } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { invokeProgramFunctionLogged } from "./support/state-machine";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";

const BUCKET = "metrics-bucket";
const PREFIX = "landing/";

type Widget = { type: string; properties: Record<string, any> };

/** What a SEARCH expression of the dashboard selects: namespace, dimension names, `service` and metric name. */
function searchOf(expression: string) {
  const m = /^SEARCH\('\{([^,}]+),([^}]+)\} service="([^"]+)" MetricName="([^"]+)"', '(Sum|Average)', 60\)$/.exec(expression);
  if (!m) throw new Error(`not a SEARCH the spec reads: ${expression}`);
  return { namespace: m[1]!, dimensions: m[2]!.split(",").sort(), service: m[3]!, name: m[4]! };
}

describe("run metrics and the dashboard: the bundled functions' EMF lines (checked against the specification) are what every dashboard widget shows", () => {
  let s3: TestS3;
  let server: IngestServer;
  let program: LoadedProgram;
  let generateBundle: string;
  let emitBundle: string;
  const opened: StrictS3[] = [];
  let widgets: Widget[];
  const emitted: EmfMetric[] = [];
  /** One invocation of a bundled function under its own role, through the strict S3: its answer and its EMF metrics. */
  const invokeFor = async (component: string, bundleDir: string, event: unknown) => {
    const strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, component));
    opened.push(strict);
    const { result, stdout } = await invokeProgramFunctionLogged({ program, component, bundleDir, s3Endpoint: strict.endpoint, event });
    assert.equal((result as { statusCode?: number }).statusCode, 200, JSON.stringify(result));
    return { body: (result as { body: Record<string, any> }).body, metrics: emfMetrics(stdout) };
  };

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    server = await startIngestServer();
    ({ dir: generateBundle } = await writeBundle({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" }));
    ({ dir: emitBundle } = await writeBundle({ handler: "functions/emit-events.ts" }));
    program = await loadProgram({ inputBucketName: BUCKET, keyPrefix: PREFIX, ingestApiUrl: server.url });
    const dashboard = program.resources.find((r) => r.type === "aws:cloudwatch/dashboard:Dashboard")!;
    widgets = (JSON.parse(dashboard.inputs.dashboardBody as string) as { widgets: Widget[] }).widgets;
    const run = invokeFor;
    const files = await run("generate-files", generateBundle, { file_count: 3, target_size_mb: 0.05, run_id: "metrics-files", dirty: { malformed: 0.05, duplicate: 0.05 } });
    const events = await run("emit-events", emitBundle, { run_id: "metrics-events", stream_count: 2, events_per_stream: 40, events_per_second: 400 });
    emitted.push(...files.metrics, ...events.metrics);
    Object.assign(emitted, { files, events });
  });
  after(async () => {
    for (const s of opened) await s.close();
    await server.close();
    await s3.stop();
    await rm(generateBundle, { recursive: true, force: true });
    await rm(emitBundle, { recursive: true, force: true });
  });

  const byName = (name: string, service: string) => emitted.filter((m) => m.name === name && m.dimensions.service === service);

  it("generate-files states what the run wrote, by dataset and dirty kind, with its run id", () => {
    const { body } = (emitted as unknown as { files: { body: Record<string, any> } }).files;
    const one = (name: string) => byName(name, "generate-files").filter((m) => m.dimensions.DirtyKind === undefined);
    assert.deepEqual(
      one("FilesWritten").map((m) => [m.namespace, m.dimensions, m.value, m.unit, m.properties.run_id]),
      [["synthgen", { service: "generate-files", Dataset: "web-events" }, 3, "Count", "metrics-files"]],
    );
    assert.equal(one("RecordsWritten")[0]!.value, body.total_records);
    assert.equal(
      one("BytesWritten")[0]!.value,
      (body.files as { size_bytes: number }[]).reduce((n, f) => n + f.size_bytes, 0),
    );
    assert.equal(one("FilesFailed")[0]!.value, 0);
    const dirty = byName("DirtyRecords", "generate-files");
    assert.deepEqual(Object.fromEntries(dirty.map((m) => [m.dimensions.DirtyKind, m.value])), body.dirty_records);
  });

  it("emit-events states what it sent, failed and retried, and its achieved rate against the one asked for", () => {
    const { body } = (emitted as unknown as { events: { body: Record<string, any> } }).events;
    const value = (name: string) => byName(name, "emit-events")[0]?.value;
    assert.deepEqual([value("EventsSent"), value("EventsFailed"), value("EventsRetried")], [80, 0, 0]);
    assert.equal(server.accepted.filter((a) => a.key.startsWith("metrics-events:")).length, 80);
    assert.equal(value("TargetEventsPerSecond"), 400);
    assert.ok(Math.abs(value("EventsPerSecond")! - body.events_per_s) <= 1, `${value("EventsPerSecond")} vs ${body.events_per_s}`);
  });

  it("every run-metric widget selects metrics the functions emit, by namespace, dimensions, service and name", () => {
    const searches = widgets.flatMap((w) => ((w.properties.metrics ?? []) as unknown[][]).flat().filter((x): x is { expression: string } => typeof x === "object" && x !== null && "expression" in x));
    assert.ok(searches.length >= 10, `${searches.length} run-metric widgets`);
    const missing = searches
      .map((s) => searchOf(s.expression))
      .filter((q) => !emitted.some((m) => m.namespace === q.namespace && m.name === q.name && m.dimensions.service === q.service && Object.keys(m.dimensions).sort().join() === q.dimensions.join()));
    assert.deepEqual(missing, [], "widgets without data");
  });

  it("every AWS metric widget names the stack's own functions, dead-letter queues and state machines", () => {
    const outputs = program.outputs as Record<string, string>;
    const functions = [outputs.functionName, outputs.emitFunctionName];
    const queues = [outputs.deadLetterQueueUrl, outputs.emitDeadLetterQueueUrl].map((u) => u!.split("/").pop());
    const machines = [outputs.fanOutStateMachineArn, outputs.emitFanOutStateMachineArn];
    const rows = widgets.flatMap((w) => ((w.properties.metrics ?? []) as unknown[][]).filter((row) => typeof row[0] === "string")) as string[][];
    const seen = { lambda: new Set<string>(), sqs: new Set<string>(), states: new Set<string>() };
    for (const [namespace, , dimension, value] of rows) {
      if (namespace === "AWS/Lambda") {
        assert.equal(dimension, "FunctionName");
        seen.lambda.add(value!);
      } else if (namespace === "AWS/SQS") {
        assert.equal(dimension, "QueueName");
        seen.sqs.add(value!);
      } else if (namespace === "AWS/States") {
        assert.equal(dimension, "StateMachineArn");
        seen.states.add(value!);
      } else assert.fail(`a widget of namespace ${namespace}`);
    }
    assert.deepEqual([...seen.lambda].sort(), [...functions].sort());
    assert.deepEqual([...seen.sqs].sort(), [...queues].sort());
    assert.deepEqual([...seen.states].sort(), [...machines].sort());
    const metricsOf = (fn: string) => new Set(rows.filter((r) => r[3] === fn).map((r) => r[1]));
    for (const fn of functions) assert.deepEqual([...metricsOf(fn!)].sort(), ["ConcurrentExecutions", "Duration", "Errors", "Invocations", "Throttles"]);
    const logs = widgets.find((w) => w.type === "log")!;
    const groups = program.resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup").map((g) => `${g.inputs.namePrefix}abc123`);
    for (const g of groups) assert.ok((logs.properties.query as string).includes(`SOURCE '${g}'`), `the runs table reads ${g}`);
    assert.equal(outputs.dashboardUrl, "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=synthgen-dev");
  });

  it("a fan-out shard and an emitter cell state theirs too (the steps the state machines invoke)", async () => {
    const step = invokeFor;
    const plan = await step("generate-files", generateBundle, { action: "plan", execution_name: "metrics-shards", request: { file_count: 4, target_size_mb: 0.05 } });
    const shard = await step("generate-files", generateBundle, {
      action: "shard",
      request: plan.body.request,
      shard: 0,
      files_per_shard: plan.body.files_per_shard,
      shard_count: plan.body.shard_count,
    });
    const written = shard.metrics.find((m) => m.name === "FilesWritten")!;
    assert.deepEqual([written.value, written.properties.run_id, written.dimensions.Dataset], [shard.body.successful, "metrics-shards", "web-events"]);
    const emitPlan = await step("emit-events", emitBundle, { action: "plan", execution_name: "metrics-cells", request: { shape: "constant:50/2s", stream_count: 2 } });
    const layout = { emitters: emitPlan.body.emitters, waves: emitPlan.body.waves, wave_seconds: emitPlan.body.wave_seconds, start_at: emitPlan.body.start_at };
    const cell = await step("emit-events", emitBundle, { action: "emit", request: emitPlan.body.request, emitter: 0, wave: 0, ...layout });
    const sent = cell.metrics.find((m) => m.name === "EventsSent")!;
    assert.deepEqual([sent.value, sent.properties.run_id, sent.dimensions.service], [cell.body.sent, "metrics-cells", "emit-events"]);
    assert.ok(cell.metrics.some((m) => m.name === "TargetEventsPerSecond" && m.value > 0));
  });

  it("the EMF check refuses what CloudWatch would not take", () => {
    const good = {
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: "synthgen", Dimensions: [["service"]], Metrics: [{ Name: "FilesWritten", Unit: "Count" }] }] },
      service: "x",
      FilesWritten: 1,
    };
    assert.equal(parseEmfLine(JSON.stringify(good)).length, 1);
    const bad = (change: (l: any) => void, why: RegExp) => {
      const l = structuredClone(good);
      change(l);
      assert.throws(() => parseEmfLine(JSON.stringify(l)), why);
    };
    bad((l) => delete l.service, /dimension service must name a root member/);
    bad((l) => (l.FilesWritten = "1"), /must name a root member holding a number/);
    bad((l) => (l._aws.CloudWatchMetrics[0].Metrics[0].Unit = "Files"), /unit Files is not one CloudWatch accepts/);
    bad((l) => (l._aws.Timestamp = Date.now() - 15 * 86_400_000), /Timestamp outside/);
    bad((l) => (l._aws.CloudWatchMetrics[0].Namespace = "AWS/Lambda"), /not AWS\//);
  });
});
