import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { PART_SIZE, UPLOAD_QUEUE_SIZE } from "../src/sinks/s3";
import { BYTES_PER_MB } from "../src/limits";

/**
 * The limit an S3 path is measured against, in its own process like the scenario it is compared
 * with: the same bytes, pre-built before the clock starts, sent by the SDK alone to the same
 * server — `put` one PutObject at a time (what one worker thread does), `upload` one multipart
 * `Upload` with synthgen's part size and queue. Prints one JSON line.
 */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as { kind: "put" | "upload"; files: number; sizeMb: number; endpoint: string; bucket: string; prefix: string };
  const client = new S3Client({ region: "us-east-1", endpoint: spec.endpoint, forcePathStyle: true });
  const bytes = Math.round(spec.sizeMb * BYTES_PER_MB);
  // NDJSON-like bytes, made before timing starts.
  const body = Buffer.alloc(bytes, '{"k":"v"}\n');
  const started = performance.now();
  for (let i = 0; i < spec.files; i++) {
    const Key = `${spec.prefix}${String(i).padStart(4, "0")}.ndjson`;
    if (spec.kind === "put") {
      await client.send(new PutObjectCommand({ Bucket: spec.bucket, Key, Body: body, ContentLength: bytes }));
    } else {
      await new Upload({ client, queueSize: UPLOAD_QUEUE_SIZE, partSize: PART_SIZE, params: { Bucket: spec.bucket, Key, Body: body } }).done();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  client.destroy();
  process.stdout.write(`${JSON.stringify({ seconds, mbPerS: (spec.files * bytes) / BYTES_PER_MB / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
