import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ValidationError } from "../src/core/errors";
import { readStackConfig } from "../infra/config";
import { simulate } from "./support/iam";
import { startIngestServer, type IngestServer } from "./support/ingest-server";
import { writeBundle } from "./support/lambda-runtime";
import { loadProgram, rolePolicyOf, type LoadedProgram } from "./support/program";
import { startTestS3, type TestS3 } from "./support/s3";
import { invokeProgramFunction } from "./support/state-machine";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";

const BUCKET = "kms-landing";
const PREFIX = "landing/";
const REGION = "us-east-1";
const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OTHER_KEY = "arn:aws:kms:us-east-1:123456789012:key/99999999-12ab-34cd-56ef-1234567890ab";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;

type Response = { statusCode?: number; body?: Record<string, any>; thrown?: string };

describe("an SSE-KMS landing bucket: the functions use its key through S3 only (program under mocks → IAM simulator → S3 as strict as AWS with the bucket's key)", () => {
  let s3: TestS3;
  let server: IngestServer;
  let generateBundle: string;
  let emitBundle: string;
  let today: LoadedProgram;
  let program: LoadedProgram;
  const opened: StrictS3[] = [];
  /** S3 for one role, its bucket encrypted by default with KEY. */
  const strictFor = async (policy: ReturnType<typeof rolePolicyOf>) => {
    const strict = await startStrictS3(s3.endpoint, policy, "synthgen-role", { kms: { keyArn: KEY, region: REGION } });
    opened.push(strict);
    return strict;
  };
  const invoke = (p: LoadedProgram, component: string, bundleDir: string, strict: StrictS3, event: unknown) =>
    invokeProgramFunction({ program: p, component, bundleDir, s3Endpoint: strict.endpoint, event }) as Promise<Response>;

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    server = await startIngestServer();
    ({ dir: generateBundle } = await writeBundle({ handler: "functions/generate-files.ts", worker: "workers/generate-file.ts" }));
    ({ dir: emitBundle } = await writeBundle({ handler: "functions/emit-events.ts" }));
    today = await loadProgram({ inputBucketName: BUCKET, keyPrefix: PREFIX, ingestApiUrl: server.url });
    program = await loadProgram({ inputBucketName: BUCKET, keyPrefix: PREFIX, ingestApiUrl: server.url, bucketKmsKey: KEY });
  });
  after(async () => {
    for (const s of opened) await s.close();
    await server.close();
    await s3.stop();
    await rm(generateBundle, { recursive: true, force: true });
    await rm(emitBundle, { recursive: true, force: true });
  });

  it("without the key in its policy (the policy before bucketKmsKey), every write is 403 naming kms:GenerateDataKey and the run fails with nothing written", async () => {
    const strict = await strictFor(rolePolicyOf(today, "generate-files"));
    const res = await invoke(today, "generate-files", generateBundle, strict, { file_count: 2, target_size_mb: 0.05, run_id: "no-key", date_prefix: "2026-01-10" });
    assert.match(res.thrown ?? "", /RunFailedError: 2 of 2 files failed \(run no-key\)/, JSON.stringify(res));
    const denied = strict.requests.filter((r) => r.outcome === "kms-denied");
    assert.ok(denied.length >= 2, `${denied.length} denied`);
    assert.ok(denied.every((r) => r.status === 403 && r.kms?.includes("kms:GenerateDataKey")));
    assert.deepEqual(await s3.keys(BUCKET, `${PREFIX}2026-01-10-`), []);
  });

  it("with bucketKmsKey, single PUTs and a 17 MiB multipart upload are written: each PUT took a data key, the multipart upload a data key and Decrypt", async () => {
    const strict = await strictFor(rolePolicyOf(program, "generate-files"));
    const small = await invoke(program, "generate-files", generateBundle, strict, { file_count: 3, target_size_mb: 0.05, run_id: "with-key", date_prefix: "2026-01-11" });
    assert.equal(small.statusCode, 200, JSON.stringify(small));
    const large = await invoke(program, "generate-files", generateBundle, strict, { file_count: 1, target_size_mb: 17, run_id: "with-key-mp", date_prefix: "2026-01-12" });
    assert.equal(large.statusCode, 200, JSON.stringify(large));
    assert.equal((await s3.keys(BUCKET, `${PREFIX}2026-01-11-`)).length, 3);
    assert.equal((await s3.keys(BUCKET, `${PREFIX}2026-01-12-`)).length, 1);
    assert.deepEqual(
      strict.requests.filter((r) => r.outcome !== "forwarded"),
      [],
    );
    const multipart = strict.requests.filter((r) => r.key?.startsWith(`${PREFIX}2026-01-12-`) && /upload/.test(r.query));
    assert.ok(multipart.length >= 3, "create, parts and complete");
    assert.ok(multipart.every((r) => r.kms?.includes("kms:Decrypt")));
    assert.ok(strict.requests.filter((r) => r.key?.startsWith(`${PREFIX}2026-01-11-`)).every((r) => r.kms?.join() === "kms:GenerateDataKey"));
  });

  it("emit-events reads a stored dataset from the encrypted bucket (kms:Decrypt through S3) and sends its records", async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}_datasets/readings.yaml`, Body: "name: readings\nfields:\n  v: { number: { min: 0, max: 9 } }\n" }));
    const denied = await strictFor(rolePolicyOf(today, "emit-events"));
    const refused = await invoke(today, "emit-events", emitBundle, denied, { dataset: "readings", run_id: "kms-emit-0", stream_count: 1, events_per_stream: 5 });
    assert.match(refused.thrown ?? JSON.stringify(refused), /AccessDenied|403/);
    const strict = await strictFor(rolePolicyOf(program, "emit-events"));
    const before = server.accepted.length;
    const res = await invoke(program, "emit-events", emitBundle, strict, { dataset: "readings", run_id: "kms-emit", stream_count: 2, events_per_stream: 5 });
    assert.equal(res.statusCode, 200, JSON.stringify(res));
    assert.equal(server.accepted.length - before, 10);
    assert.deepEqual(
      strict.requests.filter((r) => r.key === `${PREFIX}_datasets/readings.yaml`).map((r) => [r.outcome, r.kms]),
      [["forwarded", ["kms:Decrypt"]]],
    );
  });

  it("the key may be used only as S3 uses it for this bucket: not another key, not directly or through another service, not for another bucket, not to encrypt", async () => {
    for (const component of ["generate-files", "emit-events"]) {
      const policy = rolePolicyOf(program, component);
      const via = (service: string | undefined, arn: string) => ({ ...(service ? { "kms:ViaService": service } : {}), "kms:EncryptionContext:aws:s3:arn": arn });
      const s3Via = `s3.${REGION}.amazonaws.com`;
      assert.equal(await simulate(policy, "kms:GenerateDataKey", KEY, via(s3Via, BUCKET_ARN)), true, `${component}: a data key through S3, Bucket Keys`);
      assert.equal(await simulate(policy, "kms:Decrypt", KEY, via(s3Via, `${BUCKET_ARN}/${PREFIX}x.ndjson`)), true, `${component}: Decrypt of an object, no Bucket Keys`);
      assert.equal(await simulate(policy, "kms:GenerateDataKey", OTHER_KEY, via(s3Via, BUCKET_ARN)), false, `${component}: another key`);
      assert.equal(await simulate(policy, "kms:GenerateDataKey", KEY, via(undefined, BUCKET_ARN)), false, `${component}: the key used directly`);
      assert.equal(await simulate(policy, "kms:Decrypt", KEY, via(`sqs.${REGION}.amazonaws.com`, BUCKET_ARN)), false, `${component}: through another service`);
      assert.equal(await simulate(policy, "kms:Decrypt", KEY, via("s3.eu-west-1.amazonaws.com", BUCKET_ARN)), false, `${component}: through S3 in another Region`);
      assert.equal(await simulate(policy, "kms:Decrypt", KEY, via(s3Via, "arn:aws:s3:::someone-elses-bucket")), false, `${component}: for another bucket`);
      assert.equal(await simulate(policy, "kms:Encrypt", KEY, via(s3Via, BUCKET_ARN)), false, `${component}: kms:Encrypt`);
    }
    // A stack without bucketKmsKey grants no KMS use at all.
    assert.deepEqual(
      rolePolicyOf(today, "generate-files").Statement.filter((s) => JSON.stringify(s.Action).includes("kms:")),
      [],
    );
  });

  it('bucketKmsKey "create": a rotated key the created bucket encrypts with by default (S3 Bucket Keys on), the only key the roles may use, as a stack output', async () => {
    const created = await loadProgram({ bucketKmsKey: "create" });
    const keys = created.resources.filter((r) => r.type === "aws:kms/key:Key");
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.inputs.enableKeyRotation, true);
    const arn = created.outputs.bucketKmsKeyArn as string;
    assert.match(arn, /^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
    const encryption = created.resources.find((r) => r.type === "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")!;
    assert.deepEqual(encryption.inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: arn }, bucketKeyEnabled: true }]);
    const statement = rolePolicyOf(created, "generate-files").Statement.find((s) => s.Sid === "UseBucketKeyThroughS3")!;
    assert.equal(statement.Resource, arn);
    // Without bucketKmsKey: SSE-S3, no key.
    const plain = await loadProgram({});
    assert.equal(plain.resources.filter((r) => r.type === "aws:kms/key:Key").length, 0);
    assert.equal(plain.outputs.bucketKmsKeyArn, undefined);
  });

  it('refuses, naming bucketKmsKey, an alias or a malformed ARN, and "create" for an existing bucket', () => {
    const config = (values: Record<string, string>) => () => readStackConfig({ get: (k) => values[k], getNumber: () => undefined, getBoolean: () => undefined, getSecret: () => undefined });
    const refused = (message: RegExp) => (err: unknown) => err instanceof ValidationError && err.field === "bucketKmsKey" && message.test(err.message);
    assert.throws(config({ bucketKmsKey: "alias/landing" }), refused(/must be "create" or a KMS key ARN .* \(not an alias; got "alias\/landing"\)/));
    assert.throws(config({ bucketKmsKey: "arn:aws:kms:us-east-1:123456789012:alias/landing" }), refused(/not an alias/));
    assert.throws(config({ bucketKmsKey: "create", inputBucketName: BUCKET }), refused(/inputBucketName kms-landing keeps its own encryption: give its key's ARN/));
    assert.deepEqual(config({ bucketKmsKey: KEY, inputBucketName: BUCKET })().bucketKmsKey, { arn: KEY });
  });
});
