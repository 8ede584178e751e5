import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startFakeElasticsearch } from "../test/support/elasticsearch";
import { startTestKinesis } from "../test/support/kinesis";
import { startEventBridge, startFirehose, startSqs } from "../test/support/aws-json";

/**
 * A target for the event benchmarks, in its own process so its CPU is not the sender's:
 * `ingest` (a minimal HTTP endpoint that reads each body and answers 200), `kinesis` (kinesalite
 * with one stream), `firehose`, `sqs`, `eventbridge` (the JSON-protocol stand-ins) or `elasticsearch` (the tests' fake `_bulk` endpoint). Sends its address to the
 * parent; on "stop", sends how many items it took and exits.
 */
async function main(): Promise<void> {
  const kind = process.argv[2];
  const send = (m: unknown) => process.send?.(m);
  if (kind === "ingest") {
    let received = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(`{"sequenceNumber":"${received}"}`);
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    process.on("message", () => {
      send({ received });
      process.exit(0);
    });
    send({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest` });
  } else if (kind === "kinesis") {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench" });
    const kinesis = await startTestKinesis();
    await kinesis.createStream("bench-events", 4);
    process.on("message", () => {
      send({ received: -1 });
      process.exit(0);
    });
    send({ url: kinesis.endpoint });
  } else if (kind === "firehose" || kind === "sqs" || kind === "eventbridge") {
    // The tests' stand-ins, speaking each service's JSON protocol (test/support/aws-json.ts).
    const standIn = kind === "firehose" ? await startFirehose(["bench"]) : kind === "sqs" ? await startSqs(["bench", "bench.fifo"]) : await startEventBridge(["bench"]);
    const count = () =>
      "records" in standIn
        ? [...standIn.records.values()].reduce((n, r) => n + r.length, 0)
        : "queues" in standIn
          ? [...standIn.queues.values()].reduce((n, q) => n + q.length, 0)
          : [...standIn.buses.values()].reduce((n, b) => n + b.length, 0);
    process.on("message", () => {
      send({ received: count() });
      process.exit(0);
    });
    send({ url: standIn.endpoint });
  } else if (kind === "elasticsearch") {
    const es = await startFakeElasticsearch();
    process.on("message", () => {
      send({ received: es.documents.size });
      process.exit(0);
    });
    send({ url: es.node });
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
