import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { lambdaEnvironment, lambdaNode, writeBundle } from "./support/lambda-runtime";
import { startFakeElasticsearch, type FakeElasticsearch } from "./support/elasticsearch";
import { startIngestServer, type IngestServer } from "./support/ingest-server";
import { startFakeSecretsManager, type FakeSecretsManager } from "./support/secrets-manager";

const run = promisify(execFile);
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-AbCdEf";

/** Bundles a handler as the stack does and invokes it in a fresh process on Lambda's Node, outside the project. */
async function invokeBundled(handler: string, env: Record<string, string>, events: unknown[]): Promise<unknown[]> {
  const { dir } = await writeBundle({ handler });
  try {
    const file = join(dir, handler.replace(/\.ts$/, ".js"));
    const script = `
      const { handler } = require(${JSON.stringify(file)});
      const context = { awsRequestId: "req-1", getRemainingTimeInMillis: () => 60000 };
      (async () => {
        for (const event of ${JSON.stringify(events)}) {
          const res = await handler(event, context).catch((err) => ({ thrown: err.name + ": " + err.message }));
          process.stdout.write("RESULT " + JSON.stringify(res) + "\\n");
        }
      })().then(() => process.exit(0), (err) => { process.stderr.write(String(err && err.stack)); process.exit(1); });`;
    const { stdout } = await run(lambdaNode(), ["-e", script], {
      cwd: dir,
      env: lambdaEnvironment(512, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", ...env }),
    });
    return stdout
      .split("\n")
      .filter((l) => l.startsWith("RESULT "))
      .map((l) => JSON.parse(l.slice(7)) as unknown);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Response = { statusCode?: number; body?: Record<string, any>; thrown?: string };

describe("emit-events function (bundled, in its own process)", () => {
  let ingest: IngestServer;
  before(async () => {
    ingest = await startIngestServer((r) => (r.key.endsWith(":0:1") ? { kind: "status", status: 400 } : { kind: "accept" }));
  });
  after(() => ingest.close());

  it("sends the configured 50 × 10 from a scheduled event, rejects bad input with 400, and throws past max_failed_ratio", async () => {
    const scheduled = { version: "0", id: "sched-evt-1", "detail-type": "Scheduled Event", source: "aws.events", time: "2025-12-23T14:05:00Z", run_id: "sched-evt-1" };
    const [ok, bad, failing] = (await invokeBundled("functions/emit-events.ts", { INGEST_API_URL: ingest.url, STREAM_COUNT: "50", EVENTS_PER_RUN: "10", MAX_FAILED_RATIO: "0.01" }, [
      scheduled,
      { stream_count: 0 },
      { stream_count: 1, events_per_stream: 5, run_id: "strict", max_failed_ratio: 0 },
    ])) as Response[];
    assert.equal(ok!.statusCode, 200);
    assert.deepEqual([ok!.body!.sent, ok!.body!.failed, ok!.body!.total_events], [499, 1, 500]);
    const sched = ingest.accepted.filter((a) => a.key.startsWith("sched-evt-1:")).map((a) => a.body as { payload: { timestamp: string } });
    assert.ok(
      sched.every((e) => e.payload.timestamp.startsWith("2025-12-23T14:0")),
      "timestamps follow the scheduled time",
    );
    assert.deepEqual(bad, { statusCode: 400, body: { status: "error", field: "stream_count", error: "stream_count must be a whole number from 1 to 1000 (got 0)" } });
    assert.match(failing!.thrown!, /^RunFailedError: 1 of 5 events failed/);
  });
});

describe("index-documents function (bundled, in its own process)", () => {
  let es: FakeElasticsearch;
  let secrets: FakeSecretsManager;
  before(async () => {
    es = await startFakeElasticsearch();
    secrets = await startFakeSecretsManager({ [SECRET_ARN]: "ZXMta2V5LWlkOmVzLWtleQ==" });
  });
  after(async () => {
    await es.close();
    await secrets.close();
  });

  it("reads the API key from Secrets Manager once per container and indexes the scheduled hour, then a backfill", async () => {
    const env = { ELASTICSEARCH_NODE: es.node, ELASTICSEARCH_API_KEY_SECRET_ARN: SECRET_ARN, SECRETS_MANAGER_ENDPOINT: secrets.endpoint, METRICS_SEED: "9" };
    const [hourly, backfill, bad] = (await invokeBundled("functions/index-documents.ts", env, [
      { id: "evt-1", time: "2025-12-23T14:00:03Z" },
      { hours: 48, time: "2025-12-23T14:00:03Z" },
      { hours: 0 },
    ])) as Response[];
    assert.deepEqual([hourly!.statusCode, hourly!.body!.indexed, hourly!.body!.index, hourly!.body!.seed], [200, 20, "pp-merchantai", 9]);
    assert.deepEqual([backfill!.body!.indexed, backfill!.body!.created, backfill!.body!.updated], [960, 940, 20]);
    assert.equal(bad!.statusCode, 400);
    assert.equal(secrets.reads.count, 1);
    assert.ok(es.authorizations.every((a) => a === "ApiKey ZXMta2V5LWlkOmVzLWtleQ=="));
  });

  it("fails the invocation, after logging, when a document is not indexed", async () => {
    es.rejectAll(true);
    try {
      const [res] = (await invokeBundled("functions/index-documents.ts", { ELASTICSEARCH_NODE: es.node }, [{}])) as Response[];
      assert.match(res!.thrown!, /^RunFailedError: 20 of 20 documents not indexed/);
    } finally {
      es.rejectAll(false);
    }
  });
});
