import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { synthgen } from "./support/cli";
import { startIngestServer, type IngestServer } from "./support/ingest-server";
import { writeBundle } from "./support/lambda-runtime";
import { loadProgram, rolePolicyOf, type LoadedProgram } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { invokeProgramFunction } from "./support/state-machine";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";

const BUCKET = "emit-stored-bucket";
const PREFIX = "emits/";

type Response = { statusCode?: number; body?: Record<string, any>; thrown?: string };

describe("emit-events reads stored datasets and scenarios: bundled function → S3 as strict as AWS under its own role → loopback ingest API", () => {
  let s3: TestS3;
  let strict: StrictS3;
  let server: IngestServer;
  let bundleDir: string;
  let program: LoadedProgram;
  let tmp: string;

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    server = await startIngestServer();
    ({ dir: bundleDir } = await writeBundle({ handler: "functions/emit-events.ts" }));
    program = await loadProgram({ inputBucketName: BUCKET, keyPrefix: PREFIX, ingestApiUrl: server.url });
    strict = await startStrictS3(s3.endpoint, rolePolicyOf(program, "emit-events"));
    tmp = await mkdtemp(join(tmpdir(), "emit-stored-"));
    const put = (key: string, body: string | Buffer) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${key}`, Body: body }));
    await put("_datasets/shop.yaml", await readFile("examples/shop.yaml"));
    await put("_datasets/readings.yaml", "name: readings\nfields:\n  sensor: { sequence: {} }\n  value: { number: { min: 0, max: 10, decimals: 1 } }\n");
    await put("_datasets/broken.yaml", "name: broken\nfields:\n  v: { numbr: {} }\n");
    // Data beside the definitions, which the role must not read.
    await put("2026-02-01-test0000-000000.ndjson", '{"a":1}\n');
  });
  after(async () => {
    await strict.close();
    await server.close();
    await s3.stop();
    await rm(bundleDir, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });

  const invoke = (event: unknown) => invokeProgramFunction({ program, component: "emit-events", bundleDir, s3Endpoint: strict.endpoint, event }) as Promise<Response>;
  const received = (runId: string) => server.accepted.filter((a) => a.key.startsWith(`${runId}:`)).map((a) => JSON.stringify(a.body));

  it("{dataset: SCENARIO.DATASET} sends exactly the records generate --scenario writes for that dataset and day", async () => {
    const out = join(tmp, "shop");
    const g = await synthgen(["generate", "--scenario", "examples/shop.yaml", "--date", "2026-02-01", "--size-mb", "1", "--out", out]);
    assert.equal(g.code, 0, g.stderr);
    const files = (await readdir(join(out, "tickets"))).sort();
    const written = (await Promise.all(files.map((f) => readFile(join(out, "tickets", f), "utf8"))))
      .join("")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.stringify(JSON.parse(l)));
    assert.ok(written.length > 1000, `${written.length} tickets`);

    const mark = strict.requests.length;
    const res = await invoke({ dataset: "shop.tickets", date_prefix: "2026-02-01", run_id: "stored-shop", stream_count: 3, events_per_second: 20_000 });
    assert.equal(res.statusCode, 200, JSON.stringify(res));
    assert.deepEqual([res.body!.total_events, res.body!.sent, res.body!.failed], [written.length, written.length, 0]);
    // Without a seed both take the scenario's own: the tickets of the same users.
    assert.deepEqual(received("stored-shop").sort(), written.sort());
    const reads = strict.requests.slice(mark);
    assert.deepEqual(
      reads.filter((r) => r.outcome !== "forwarded"),
      [],
      "the role allowed what the run needed",
    );
    assert.deepEqual(
      reads.map((r) => `${r.method} ${r.key ?? `?${r.query}`}`),
      [`GET ?list-type=2&prefix=${encodeURIComponent(`${PREFIX}_datasets/`)}`, `GET ${PREFIX}_datasets/shop.yaml`],
      "one listing of _datasets/ and one read of the scenario, nothing else",
    );
  });

  it("{dataset: NAME} sends a stored schema's records", async () => {
    const res = await invoke({ dataset: "readings", run_id: "stored-readings", stream_count: 2, events_per_stream: 50 });
    assert.equal(res.statusCode, 200, JSON.stringify(res));
    const events = received("stored-readings").map((e) => JSON.parse(e) as Record<string, unknown>);
    assert.equal(events.length, 100);
    for (const e of events) assert.deepEqual(Object.keys(e).sort(), ["sensor", "value"]);
  });

  it("a bad or unknown stored definition is a 400 naming dataset, listing what is stored, and nothing is sent", async () => {
    const before = server.accepted.length;
    const unknown = await invoke({ dataset: "nope", run_id: "stored-nope" });
    assert.equal(unknown.statusCode, 400, JSON.stringify(unknown));
    assert.equal(unknown.body!.field, "dataset");
    assert.match(unknown.body!.error, /or a stored dataset \(broken, readings, shop\) \(got "nope": not found\)/);
    const broken = await invoke({ dataset: "broken", run_id: "stored-broken" });
    assert.equal(broken.statusCode, 400, JSON.stringify(broken));
    assert.match(broken.body!.error, /numbr/);
    const noDataset = await invoke({ dataset: "shop.nope", run_id: "stored-shop-nope" });
    assert.equal(noDataset.statusCode, 400, JSON.stringify(noDataset));
    assert.equal(server.accepted.length, before);
  });

  it("the role may read only _datasets/: the data beside it is a 403 (the policy, not the code, stops it)", async () => {
    const key = `${PREFIX}2026-02-01-test0000-000000.ndjson`;
    const res = await fetch(`${strict.endpoint}/${BUCKET}/${key}`);
    assert.equal(res.status, 403);
    assert.equal(strict.requests.at(-1)?.outcome, "denied");
  });
});
