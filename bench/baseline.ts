import { peakRssMb } from "./peak-rss";
import { createHash } from "node:crypto";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { PART_SIZE, UPLOAD_QUEUE_SIZE } from "../src/sinks/s3";
import { BYTES_PER_MB } from "../src/core/limits";
import { TASKS_PER_THREAD } from "../src/core/limits";

/**
 * The limit an S3 path is measured against, in its own process like the scenario it is compared
 * with: the same bytes, pre-built before the clock starts, sent by the SDK alone to the same
 * server — `put` PutObjects with as many in flight as one thread keeps, digests computed in advance, `upload` one multipart
 * `Upload` with synthgen's part size and queue. Prints one JSON line.
 */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as { kind: "put" | "upload"; files: number; sizeMb: number; endpoint: string; bucket: string; prefix: string };
  const client = new S3Client({ region: "us-east-1", endpoint: spec.endpoint, forcePathStyle: true });
  const bytes = Math.round(spec.sizeMb * BYTES_PER_MB);
  // NDJSON-like bytes and their SHA-256, made before timing starts: the client neither hashes
  // the body to sign it nor adds a checksum of its own — the transport alone is timed.
  const body = Buffer.alloc(bytes, '{"k":"v"}\n');
  const sha256 = createHash("sha256").update(body).digest();
  const send = async (i: number): Promise<void> => {
    const Key = `${spec.prefix}${String(i).padStart(4, "0")}.ndjson`;
    if (spec.kind === "put") {
      const put = new PutObjectCommand({ Bucket: spec.bucket, Key, Body: body, ContentLength: bytes, ChecksumSHA256: sha256.toString("base64") });
      put.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { headers: Record<string, string> }).headers["x-amz-content-sha256"] = sha256.toString("hex");
          return next(args);
        },
        { step: "build" },
      );
      await client.send(put);
    } else {
      await new Upload({ client, queueSize: UPLOAD_QUEUE_SIZE, partSize: PART_SIZE, params: { Bucket: spec.bucket, Key, Body: body } }).done();
    }
  };
  // As many files in flight as one synthgen thread keeps (a multipart upload has its own queue).
  const inFlight = spec.kind === "put" ? TASKS_PER_THREAD : 1;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < spec.files) await send(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  client.destroy();
  process.stdout.write(`${JSON.stringify({ seconds, mbPerS: (spec.files * bytes) / BYTES_PER_MB / seconds, peakRssMb: peakRssMb() })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
