import { mkdir } from "node:fs/promises";
import S3rver from "s3rver";

/** s3rver's fixed credentials; any S3 client pointed at it must sign with these. */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });

/** A running s3rver on loopback. */
export interface EmbeddedS3 {
  readonly endpoint: string;
  readonly directory: string;
  close(): Promise<void>;
}

/**
 * Starts s3rver on loopback (a free port unless one is given) with its data under `directory` and
 * the given buckets. Objects are stored as files, so they stay inspectable after it stops.
 */
export async function startEmbeddedS3(directory: string, buckets: readonly string[], port = 0): Promise<EmbeddedS3> {
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  return { endpoint: `http://127.0.0.1:${address.port}`, directory, close: () => server.close() };
}

/** Makes S3 clients created from now on in this process (and its new worker threads) use s3rver's keys. */
export function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION ??= "us-east-1";
}
