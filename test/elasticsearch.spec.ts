import assert from "node:assert/strict";
import { indexMetrics } from "../src/metrics/index-run";
import type { BulkOptions } from "../src/metrics/elasticsearch";
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
