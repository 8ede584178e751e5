import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import kinesalite from "kinesalite";

/**
 * kinesalite (a Kinesis implementation in Node) on loopback, behind a proxy that enforces a
 * stream's write throughput the way Kinesis does: PutRecords records over the budget come back
 * in the same 200 response with `ProvisionedThroughputExceededException`, the rest are really
 * written. kinesalite alone never throttles, so without the proxy no partial failure could happen.
 */
export interface TestKinesis {
  readonly endpoint: string;
  readonly client: KinesisClient;
  /** Records rejected by the throughput budget so far. */
  readonly throttled: { count: number };
  /** When each record the stream took arrived (performance.now() ms), as the receiver measures it. */
  readonly arrivals: number[];
  createStream(name: string, shards?: number): Promise<void>;
  /** Every record in the stream, decoded, shard by shard in sequence order. */
  readAll(name: string): Promise<{ partitionKey: string; data: string }[]>;
  close(): Promise<void>;
}

export async function startTestKinesis(recordsPerSecond = Infinity): Promise<TestKinesis> {
  const kinesis: Server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => kinesis.listen(0, "127.0.0.1", resolve));
  const upstreamPort = (kinesis.address() as AddressInfo).port;
  const throttled = { count: 0 };
  const arrivals: number[] = [];
  let tokens = recordsPerSecond;
  let refilledAt = performance.now();

  const forward = (headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: upstreamPort, method: "POST", path: "/", headers: { ...headers, "content-length": body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end(body);
    });

  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      let body = Buffer.concat(chunks);
      const target = String(req.headers["x-amz-target"] ?? "");
      const headers = { ...req.headers };
      delete headers.host;
      if (!target.endsWith(".PutRecords")) {
        const out = await forward(headers, body);
        res.writeHead(out.status, out.headers);
        res.end(out.body);
        return;
      }
      const now = performance.now();
      tokens = Math.min(recordsPerSecond, tokens + ((now - refilledAt) / 1000) * recordsPerSecond);
      refilledAt = now;
      const input = JSON.parse(body.toString("utf8")) as { StreamName: string; Records: unknown[] };
      const admitted = Math.max(0, Math.min(input.Records.length, Math.floor(tokens)));
      tokens -= admitted;
      for (let i = 0; i < admitted; i++) arrivals.push(now);
      const rejectedCount = input.Records.length - admitted;
      throttled.count += rejectedCount;
      let results: unknown[] = [];
      if (admitted > 0) {
        body = Buffer.from(JSON.stringify({ ...input, Records: input.Records.slice(0, admitted) }));
        const out = await forward(headers, body);
        if (out.status !== 200) {
          res.writeHead(out.status, out.headers);
          res.end(out.body);
          return;
        }
        results = (JSON.parse(out.body.toString("utf8")) as { Records: unknown[] }).Records;
      }
      const rejected = Array.from({ length: rejectedCount }, () => ({
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: `Rate exceeded for shard shardId-000000000000 in stream ${input.StreamName} under account 000000000000.`,
      }));
      const payload = JSON.stringify({ FailedRecordCount: rejectedCount, Records: [...results, ...rejected] });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "proxy" });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const client = new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    requestHandler: new NodeHttpHandler(),
  });

  return {
    endpoint,
    client,
    throttled,
    arrivals,
    async createStream(name, shards = 1) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (;;) {
        const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
        if (d.StreamDescription?.StreamStatus === "ACTIVE") return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async readAll(name) {
      const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
      const out: { partitionKey: string; data: string }[] = [];
      for (const shard of d.StreamDescription?.Shards ?? []) {
        const it = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
        let iterator = it.ShardIterator;
        for (;;) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          for (const r of page.Records ?? []) out.push({ partitionKey: r.PartitionKey ?? "", data: Buffer.from(r.Data ?? []).toString("utf8") });
          if (!page.Records?.length || !page.NextShardIterator) break;
          iterator = page.NextShardIterator;
        }
      }
      return out;
    },
    async close() {
      client.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      kinesis.closeAllConnections?.();
      await new Promise<void>((resolve) => kinesis.close(() => resolve()));
    },
  };
}
