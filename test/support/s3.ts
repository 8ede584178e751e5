import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, CreateBucketCommand } from "@aws-sdk/client-s3";
import { S3RVER_CREDENTIALS, startEmbeddedS3, useS3rverCredentials, type EmbeddedS3 } from "../../cli/embedded-s3";

/** A real s3rver on loopback in a temporary folder, with a client for checking what landed. */
export interface TestS3 extends EmbeddedS3 {
  readonly client: S3Client;
  createBucket(name: string): Promise<void>;
  keys(bucket: string, prefix?: string): Promise<string[]>;
  body(bucket: string, key: string): Promise<Buffer>;
  head(bucket: string, key: string): Promise<{ contentType?: string; contentEncoding?: string; contentLength?: number; metadata: Record<string, string> }>;
  stop(): Promise<void>;
}

export async function startTestS3(buckets: string[] = ["test-bucket"]): Promise<TestS3> {
  // Worker threads copy the environment when they start: s3rver's keys must be there first.
  useS3rverCredentials();
  const directory = await mkdtemp(join(tmpdir(), "synthgen-s3-"));
  const server = await startEmbeddedS3(directory, buckets);
  const client = new S3Client({ region: "us-east-1", endpoint: server.endpoint, forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } });
  return {
    ...server,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async keys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    async body(bucket, key) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    },
    async head(bucket, key) {
      const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { contentType: res.ContentType, ...(res.ContentEncoding ? { contentEncoding: res.ContentEncoding } : {}), contentLength: res.ContentLength, metadata: res.Metadata ?? {} };
    },
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
