import type { Server } from "node:http";
import { resolve } from "node:path";
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ValidationError } from "../src/core/errors";
import { EXIT, badInput, numeric, sdkNodeNoticeOnce } from "./common";
import { S3RVER_CREDENTIALS, startEmbeddedS3 } from "./embedded-s3";

/** `synthgen local` flags. */
export interface LocalFlags {
  s3Port: string;
  kinesisPort: string;
  bucket: string;
  stream: string;
  dir: string;
}

function port(flag: string, text: string): number {
  const n = numeric(text);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) throw new ValidationError(flag, `${flag} must be a port number from 1 to 65535 (got "${text}")`);
  return n;
}

async function startKinesalite(portNumber: number, stream: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  // Loaded only for this command: nothing else in the CLI needs a Kinesis server.
  const kinesalite = require("kinesalite") as typeof import("kinesalite");
  const server: Server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 10 });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(portNumber, "127.0.0.1", () => ok());
  });
  const endpoint = `http://127.0.0.1:${portNumber}`;
  const client = new KinesisClient({ endpoint, region: "us-east-1", credentials: { ...S3RVER_CREDENTIALS }, requestHandler: new NodeHttpHandler() });
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  while ((await client.send(new DescribeStreamCommand({ StreamName: stream }))).StreamDescription?.StreamStatus !== "ACTIVE") {
    await new Promise((r) => setTimeout(r, 20));
  }
  client.destroy();
  return { endpoint, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/**
 * `synthgen local`: the embedded servers in the foreground on fixed ports — s3rver with the bucket
 * and kinesalite with the stream — until Ctrl-C, so the README's examples run in a second terminal.
 */
export async function runLocalCommand(flags: LocalFlags): Promise<number> {
  let s3Port: number;
  let kinesisPort: number;
  try {
    s3Port = port("--s3-port", flags.s3Port);
    kinesisPort = port("--kinesis-port", flags.kinesisPort);
  } catch (err) {
    return badInput(err, {});
  }
  sdkNodeNoticeOnce();
  const directory = resolve(flags.dir, "s3");
  let s3;
  let kinesis;
  try {
    s3 = await startEmbeddedS3(directory, [flags.bucket], s3Port);
    kinesis = await startKinesalite(kinesisPort, flags.stream);
  } catch (err) {
    await s3?.close();
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(
      `synthgen: cannot start the local servers: ${code === "EADDRINUSE" ? "a port is in use (is another synthgen local running? or choose --s3-port/--kinesis-port)" : (err as Error).message}\n`,
    );
    return EXIT.FAILED;
  }
  process.stderr.write(
    [
      `synthgen local: S3 (s3rver) at ${s3.endpoint}, bucket ${flags.bucket}, data in ${directory}`,
      `synthgen local: Kinesis (kinesalite) at ${kinesis.endpoint}, stream ${flags.stream} (in memory)`,
      "In another terminal:",
      `  export AWS_ACCESS_KEY_ID=${S3RVER_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${S3RVER_CREDENTIALS.secretAccessKey} AWS_REGION=us-east-1`,
      `  synthgen generate --out s3://${flags.bucket}/tour --endpoint ${s3.endpoint}`,
      `  synthgen emit --to kinesis://${flags.stream} --endpoint ${kinesis.endpoint}`,
      "synthgen local: ready (Ctrl-C stops both)",
      "",
    ].join("\n"),
  );
  const signal = await new Promise<NodeJS.Signals>((ok) => {
    process.once("SIGINT", () => ok("SIGINT"));
    process.once("SIGTERM", () => ok("SIGTERM"));
  });
  await Promise.all([s3.close(), kinesis.close()]);
  process.stderr.write(`synthgen local: stopped (${signal})\n`);
  return EXIT.OK;
}
