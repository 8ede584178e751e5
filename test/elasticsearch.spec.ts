import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { indexMetrics } from "../src/metrics/index-run";
import type { BulkOptions } from "../src/metrics/elasticsearch";
import { synthgen } from "./support/cli";
import { startFakeElasticsearch, type FakeElasticsearch, type ItemAnswer } from "./support/elasticsearch";

const QUICK: BulkOptions = { flushBytes: 200_000, concurrency: 3, retries: 3, retryWaitMs: 20 };
const SCHEDULED = "2025-12-23T14:00:07Z";

async function index(es: FakeElasticsearch, event: Record<string, unknown>, apiKey?: string) {
  return (
    await indexMetrics(event, {
      defaults: { index: "pp-merchantai", seed: 1 },
      context: { now: new Date(SCHEDULED) },
      target: async () => ({ node: es.node, ...(apiKey ? { apiKey } : {}) }),
      bulk: QUICK,
    })
  ).body;
}

describe("index-documents through the official client against a fake _bulk endpoint", () => {
  let es: FakeElasticsearch | undefined;
  afterEach(async () => {
    await es?.close();
    es = undefined;
  });

  it("indexes one hour of 20 merchants under deterministic ids, with the API key", async () => {
    es = await startFakeElasticsearch();
    const body = await index(es, { time: SCHEDULED }, "c2VjcmV0LWtleQ==");
    assert.deepEqual([body.status, body.total_documents, body.indexed, body.created, body.failed], ["completed", 20, 20, 20, 0]);
    assert.equal(body.from, "2025-12-23T14:00:00.000Z");
    assert.ok([...es.documents.keys()].every((k) => /^pp-merchantai\/mrc_[0-9a-f]{8}_2025122314$/.test(k)));
    assert.ok(es.authorizations.every((a) => a === "ApiKey c2VjcmV0LWtleQ=="));
  });

  it("backfills 30 days (14,400 documents) in batches; running it again updates instead of duplicating", async () => {
    es = await startFakeElasticsearch();
    const first = await index(es, { hours: 720, time: SCHEDULED });
    assert.deepEqual([first.indexed, first.created, es.documents.size], [14_400, 14_400, 14_400]);
    assert.ok(es.bulkRequests.count > 1, `${es.bulkRequests.count} bulk requests`);
    const again = await index(es, { hours: 720, time: SCHEDULED });
    assert.deepEqual([again.indexed, again.created, again.updated, es.documents.size], [14_400, 0, 14_400, 14_400]);
  });

  it("retries items rejected with 429 until they are in", async () => {
    es = await startFakeElasticsearch(
      (id, attempt): ItemAnswer => (attempt === 1 && id.endsWith("4") ? { status: 429, type: "es_rejected_execution_exception", reason: "rejected execution of coordinating operation" } : "ok"),
    );
    const body = await index(es, { hours: 24, time: SCHEDULED });
    assert.ok(body.retried > 0);
    assert.deepEqual([body.status, body.indexed, body.failed, es.documents.size], ["completed", 480, 0, 480]);
  });

  it("counts and lists items rejected for another reason, and fails the run", async () => {
    let bad = "";
    es = await startFakeElasticsearch((id): ItemAnswer => {
      bad ||= id;
      return id === bad ? { status: 400, type: "mapper_parsing_exception", reason: "failed to parse field [location]" } : "ok";
    });
    const body = await index(es, { hours: 2, time: SCHEDULED });
    assert.deepEqual([body.status, body.indexed, body.failed], ["failed", 39, 1]);
    assert.deepEqual(body.errors, [{ id: bad, status: 400, error: "mapper_parsing_exception: failed to parse field [location]" }]);
  });

  it("fails the whole run, nothing counted as indexed, when the cluster refuses the key", async () => {
    es = await startFakeElasticsearch();
    es.rejectAll(true);
    const body = await index(es, { hours: 3, time: SCHEDULED }, "wrong");
    assert.deepEqual([body.status, body.indexed, body.failed], ["failed", 0, 60]);
    assert.match(body.aborted ?? "", /security_exception|401/);
  });
});

describe("synthgen verify of an Elasticsearch index: the index run's documents, read back through a point in time", function () {
  this.timeout(120_000);
  let es: FakeElasticsearch;
  let tmp: string;
  let reportFile: string;
  let output: string;
  const verify = async (...extra: string[]) => {
    const r = await synthgen(["verify", "--index-report", reportFile, "--output", output, ...extra]);
    return { code: r.code, stderr: r.stderr, report: r.stdout ? (JSON.parse(r.stdout) as Record<string, any>) : {} };
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "synthgen-verify-es-"));
    es = await startFakeElasticsearch();
    // 30 days of 20 merchants: 14,400 documents, more than two pages of 5,000.
    const run = await synthgen(["index", "--node", es.node, "--index", "metrics", "--hours", "720", "--seed", "3"]);
    assert.equal(run.code, 0, run.stderr);
    reportFile = join(tmp, "index-report.json");
    await writeFile(reportFile, run.stdout);
    output = `${es.node}/metrics`;
  });
  after(async () => {
    await es.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it("every document found once with its values, matched by merchant and hour; the point in time is closed", async () => {
    const { code, report, stderr } = await verify();
    assert.equal(code, 0, stderr);
    assert.deepEqual([report.expected_records, report.found, report.missing, report.changed, report.unexpected], [14_400, 14_400, 0, 0, 0]);
    assert.deepEqual(report.matched_by, ["merchant_id", "timestamp"]);
    assert.equal(report.output.location, `${es.node}/metrics`);
    assert.equal(es.openPits.size, 0);
  });

  it("an index that lost, altered and gained documents: missing, changed with expected and found, unexpected; exit 1", async () => {
    const keys = [...es.documents.keys()].filter((k) => k.startsWith("metrics/"));
    es.documents.delete(keys[10] as string);
    es.documents.delete(keys[11] as string);
    const altered = es.documents.get(keys[12] as string) as { source: Record<string, unknown> };
    const field = Object.keys(altered.source).find((k) => typeof altered.source[k] === "number") as string;
    const before = altered.source[field];
    altered.source[field] = -1;
    es.documents.set("metrics/extra", { source: { ...altered.source, merchant_id: "mrc_not_generated" }, version: 1 });
    const { code, report } = await verify();
    assert.equal(code, 1);
    assert.deepEqual([report.missing, report.changed, report.unexpected], [2, 1, 1]);
    assert.deepEqual(Object.keys(report.changed_fields), [field]);
    assert.deepEqual([report.changed_fields[field].examples[0].expected, report.changed_fields[field].examples[0].found], [before, -1]);
    assert.equal(es.openPits.size, 0);
  });

  it("refuses an index that is not there, an index other than the report's, and an Elasticsearch output without its report: exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["--index-report", reportFile, "--output", `${es.node}/other`], /--output names index "other"; the report's run indexed "metrics"/],
      [["--run-id", "x", "--files", "1", "--output", `${es.node}/metrics`], /--index-report: an Elasticsearch --output holds an index run/],
      [["--index-report", reportFile, "--output", tmp], /--index-report needs an Elasticsearch --output/],
    ];
    for (const [args, message] of cases) {
      const r = await synthgen(["verify", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
    const report = JSON.parse(await readFile(reportFile, "utf8")) as Record<string, unknown>;
    const elsewhere = join(tmp, "elsewhere.json");
    await writeFile(elsewhere, JSON.stringify({ ...report, index: "gone" }));
    const gone = await synthgen(["verify", "--index-report", elsewhere, "--output", es.node]);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no index "gone" there/);
  });
});
