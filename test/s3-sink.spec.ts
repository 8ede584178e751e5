import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BYTES_PER_MB } from "../src/core/limits";
import { fileKey } from "../src/files/plan";
import type { PlannedFile } from "../src/sinks/sink";
import { renderFile } from "../src/formats/render";
import { PART_SIZE } from "../src/sinks/s3";
import { S3Sink } from "../src/sinks/s3";
import { writeFully } from "../src/sinks/sink";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startFaultProxy, type FaultProxy } from "./support/fault-proxy";
import { startStrictS3, type StrictS3 } from "./support/strict-s3";
import { startTestS3, type TestS3 } from "./support/s3";

const BUCKET = "sink-bucket";

function planned(index: number, targetBytes: number): PlannedFile {
  return {
    dataset: "web-events",
    seed: 99,
    runId: "sink-run",
    datePrefix: "2025-12-23",
    hhmmss: "101010",
    fileIndex: index,
    fileCount: 4,
    targetBytes,
    key: fileKey("sink/", "2025-12-23", index, "101010"),
  };
}

/** Counts the sink's calls of `renderFile` until `restore()`. */
function countRenders(): { count: number; restore: () => void } {
  const render = require("../src/formats/render") as { renderFile: typeof renderFile };
  const original = render.renderFile;
  const counter = { count: 0, restore: () => void (render.renderFile = original) };
  render.renderFile = (...args: Parameters<typeof renderFile>) => {
    counter.count++;
    return original(...args);
  };
  return counter;
}

describe("S3 sink against s3rver", () => {
  let s3: TestS3;
  let proxy: FaultProxy;

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    proxy = await startFaultProxy(s3.endpoint);
  });
  after(async () => {
    await proxy.close();
    await s3.stop();
  });
  afterEach(() => proxy.failAfter(Infinity));

  it("writes a file that fits in one part with a single PUT, with the original metadata plus seed, run id and sha256", async () => {
    const file = planned(0, BYTES_PER_MB);
    const sink = new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint });
    const before = proxy.requests.length;
    const stats = await sink.write(file);
    assert.deepEqual(
      proxy.requests.slice(before).map((r) => r.split(" ")[0]),
      ["PUT"],
    );

    const body = await s3.body(BUCKET, file.key);
    assert.ok(body.equals(Buffer.concat([...renderFile(file).chunks])));
    const head = await s3.head(BUCKET, file.key);
    assert.equal(head.contentType, "application/x-ndjson");
    assert.equal(head.contentLength, BYTES_PER_MB);
    assert.deepEqual(head.metadata, {
      generator: "test-data-lambda",
      date_prefix: "2025-12-23",
      record_count: String(stats.records),
      file_size_mb: "1",
      dataset: "web-events",
      seed: "99",
      run_id: "sink-run",
      sha256: createHash("sha256").update(body).digest("hex"),
    });
  });

  it("streams a file larger than a part as a multipart upload whose object equals the rendered bytes", async () => {
    const targetBytes = 2 * PART_SIZE + 12_345;
    const file = planned(1, targetBytes);
    const sink = new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint });
    const before = proxy.requests.length;
    const stats = await sink.write(file);
    const calls = proxy.requests.slice(before);
    assert.equal(calls.filter((c) => c.startsWith("POST") && c.includes("uploads")).length, 1, "one CreateMultipartUpload");
    assert.equal(calls.filter((c) => c.startsWith("PUT") && c.includes("partNumber=")).length, 3, "three parts");
    assert.equal(calls.filter((c) => c.startsWith("POST") && c.includes("uploadId=")).length, 1, "one CompleteMultipartUpload");

    const body = await s3.body(BUCKET, file.key);
    assert.equal(body.length, targetBytes);
    const sha = createHash("sha256").update(body).digest("hex");
    assert.equal(sha, stats.sha256);
    assert.equal((await s3.head(BUCKET, file.key)).metadata.sha256, sha);
  });

  it("renders a file larger than a part once, through a spill file removed afterwards (after a failed upload too, and one a stopped process left); with no room for it, or spillDir false, twice; the same object either way", async () => {
    const renders = countRenders();
    const spillDir = await mkdtemp(join(tmpdir(), "synthgen-spill-spec-"));
    // What an invocation stopped at its timeout leaves (its process gone), and a live process's file.
    const gone = spawnSync(process.execPath, ["-e", ""]).pid as number;
    await writeFile(join(spillDir, `synthgen-${gone}-1-0.spill`), "stale");
    const live = `synthgen-${process.ppid}-1-0.spill`;
    await writeFile(join(spillDir, live), "in use");
    try {
      const file = { ...planned(5, 2 * PART_SIZE + 777), key: fileKey("spill/", "2025-12-23", 5, "101010") };
      const objects: { body: Buffer; metadata: Record<string, string> }[] = [];
      for (const [dir, times] of [
        [spillDir, 1],
        [join(spillDir, "no-such-folder"), 2],
        [false, 2],
      ] as const) {
        renders.count = 0;
        await new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint, spillDir: dir }).write(file);
        assert.equal(renders.count, times, `spillDir ${dir}`);
        assert.deepEqual(await readdir(spillDir), [live], "no spill file left behind, the dead process's swept, the live one's kept");
        objects.push({ body: await s3.body(BUCKET, file.key), metadata: (await s3.head(BUCKET, file.key)).metadata });
      }
      assert.ok(objects[0]?.body.equals(Buffer.concat([...renderFile(file).chunks])));
      assert.deepEqual(objects[1], objects[0]);
      assert.deepEqual(objects[2], objects[0]);

      const failing = { ...planned(6, 3 * PART_SIZE), key: fileKey("spill/", "2025-12-23", 6, "101010") };
      proxy.failAfter(2);
      await assert.rejects(new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint, maxAttempts: 2, spillDir }).write(failing), /failed/);
      proxy.failAfter(Infinity);
      assert.deepEqual(await readdir(spillDir), [live], "no spill file left behind a failed upload");
      assert.deepEqual(await s3.keys(BUCKET, failing.key), []);
    } finally {
      renders.restore();
      await rm(spillDir, { recursive: true, force: true });
    }
  });

  /** Writes three large files at once through one sink, as one thread's tasks, counting the spill files that exist meanwhile at most. */
  async function writeThreeLarge(prefix: string, first: number, spillDir: string) {
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, readdirSync(spillDir).length);
    }, 2);
    try {
      const sink = new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint, spillDir });
      const files = [first, first + 1, first + 2].map((i) => ({ ...planned(i, 2 * PART_SIZE + 1000 * i), key: fileKey(prefix, "2025-12-23", i, "101010") }));
      const stats = await Promise.all(files.map((f) => sink.write(f)));
      return { most: () => most, files, stats };
    } finally {
      clearInterval(watch);
    }
  }

  async function assertWhole(files: readonly PlannedFile[], stats: readonly { sha256: string }[]): Promise<void> {
    for (const [i, f] of files.entries()) {
      assert.ok((await s3.body(BUCKET, f.key)).equals(Buffer.concat([...renderFile(f).chunks])), f.key);
      assert.equal((await s3.head(BUCKET, f.key)).metadata.sha256, stats[i]?.sha256);
    }
  }

  it("spills a thread's next large file while the one before it is sent, keeping at most two spill files, and writes each whole", async () => {
    const spillDir = await mkdtemp(join(tmpdir(), "synthgen-spill-spec-"));
    try {
      const { most, files, stats } = await writeThreeLarge("ahead/", 7, spillDir);
      assert.equal(most(), 2, "the next file's spill file existed while the one before it was sent, and never a third");
      assert.deepEqual(await readdir(spillDir), []);
      await assertWhole(files, stats);
    } finally {
      await rm(spillDir, { recursive: true, force: true });
    }
  });

  it("where the disk has room for one spill file only, the next large file waits for the one before it instead of being rendered twice", async () => {
    const fsPromises = require("node:fs/promises") as typeof import("node:fs/promises");
    const realStatfs = fsPromises.statfs;
    const spillDir = await mkdtemp(join(tmpdir(), "synthgen-spill-spec-"));
    // A disk with room for the largest file and the sink's margin, less what spill files hold now.
    const room = 3 * PART_SIZE + 64 * BYTES_PER_MB;
    (fsPromises as { statfs: unknown }).statfs = async (path: string) => {
      const used = readdirSync(spillDir).reduce((n, name) => n + statSync(join(spillDir, name)).size, 0);
      return { ...(await realStatfs(path)), bsize: 1, bavail: room - used };
    };
    const renders = countRenders();
    try {
      const { most, files, stats } = await writeThreeLarge("one-room/", 10, spillDir);
      assert.equal(renders.count, 3, "each file rendered once");
      assert.equal(most(), 1);
      renders.restore();
      await assertWhole(files, stats);
    } finally {
      renders.restore();
      (fsPromises as { statfs: unknown }).statfs = realStatfs;
      await rm(spillDir, { recursive: true, force: true });
    }
  });

  it("lists what it wrote under the key prefix", async () => {
    assert.deepEqual(await s3.keys(BUCKET, "sink/"), [planned(0, 1).key, planned(1, 1).key]);
  });

  it("leaves no object and reports the key when the endpoint starts failing mid multipart upload", async () => {
    const file = planned(2, 6 * PART_SIZE);
    // An endpoint that keeps failing: fewer attempts than production's S3_MAX_ATTEMPTS keep the spec short.
    const sink = new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint, maxAttempts: 2 });
    // CreateMultipartUpload and the first part go through; everything after fails.
    proxy.failAfter(2);
    const before = proxy.requests.length;
    await assert.rejects(sink.write(file), (err: Error) => err.message.includes(`upload of s3://${BUCKET}/${file.key} failed`));
    proxy.failAfter(Infinity);
    assert.deepEqual(await s3.keys(BUCKET, file.key), []);
    const calls = proxy.requests.slice(before);
    assert.ok(
      calls.some((c) => c.startsWith("DELETE") && c.includes("uploadId=")),
      "the upload was aborted (AbortMultipartUpload), so S3 keeps none of its parts",
    );
    const started = new Set(calls.flatMap((c) => /partNumber=(\d+)/.exec(c)?.[1] ?? []));
    // The part that went through, then at most one failing part for each of the two senders: of six.
    assert.ok(started.size <= 3, `no part starts once its sender has failed (parts tried: ${[...started].join(", ")})`);
  });

  /** Renders every file of the sink through `change` from here on (the specs' stand-in for a renderer that is not deterministic). */
  function renderEachTime(change: (call: number, id: PlannedFile) => PlannedFile): () => void {
    const render = require("../src/formats/render") as { renderFile: typeof renderFile };
    const original = render.renderFile;
    let call = 0;
    render.renderFile = (id, options) => original(change(call++, id as PlannedFile), options);
    return () => void (render.renderFile = original);
  }

  it("rendered twice (no room to spill), refuses to finish an upload whose second rendering is longer, shorter or other bytes than the first, and leaves no object", async () => {
    const file = { ...planned(20, 2 * PART_SIZE + 5_000), key: fileKey("twice/", "2025-12-23", 20, "101010") };
    for (const [how, second] of [
      ["longer", { targetBytes: file.targetBytes + 4_000 }],
      ["shorter", { targetBytes: file.targetBytes - 4_000 }],
      ["differently", { seed: 100 }],
    ] as const) {
      const restore = renderEachTime((call, id) => (call === 1 ? { ...id, ...second } : id));
      try {
        await assert.rejects(
          new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint, spillDir: false }).write(file),
          (err: Error) => err.name === "NondeterministicOutputError" && err.message.includes(`rendered ${how} on its upload pass`),
          how,
        );
      } finally {
        restore();
      }
      assert.deepEqual(await s3.keys(BUCKET, file.key), [], how);
    }
  });

  it("sends a file planned larger than a part that comes out no larger than one as one PutObject, spilled or rendered twice", async () => {
    for (const spillDir of [undefined, false] as const) {
      const file = { ...planned(21, 2 * PART_SIZE), key: fileKey(`small-${spillDir}/`, "2025-12-23", 21, "101010") };
      const small = { ...file, targetBytes: 700_000 };
      const restore = renderEachTime((_call, id) => ({ ...id, targetBytes: small.targetBytes }));
      const before = proxy.requests.length;
      let stats;
      try {
        stats = await new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint, ...(spillDir === false ? { spillDir } : {}) }).write(file);
      } finally {
        restore();
      }
      const calls = proxy.requests.slice(before);
      assert.deepEqual(
        calls.map((c) => c.split("?")[0]?.split(" ")[0]),
        ["PUT"],
        `spillDir ${spillDir}: one PutObject, no multipart upload (${calls.join(", ")})`,
      );
      const body = await s3.body(BUCKET, file.key);
      assert.ok(body.equals(Buffer.concat([...renderFile(small).chunks])));
      assert.equal((await s3.head(BUCKET, file.key)).metadata.sha256, stats.sha256);
    }
  });

  it("leaves no object when a single PUT fails", async () => {
    const file = planned(3, 100_000);
    const sink = new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: proxy.endpoint, maxAttempts: 2 });
    proxy.failAfter(0);
    await assert.rejects(sink.write(file), /InternalError/);
    proxy.failAfter(Infinity);
    assert.deepEqual(await s3.keys(BUCKET, file.key), []);
  });
});

describe("S3 sink: the SHA-256 computed while rendering is what S3 checks the bytes against", () => {
  let s3: TestS3;
  let strict: StrictS3;
  const allowAll = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] };

  before(async () => {
    s3 = await startTestS3([BUCKET]);
    strict = await startStrictS3(s3.endpoint, allowAll as never);
  });
  after(async () => {
    await strict.close();
    await s3.stop();
  });

  it("sends a whole file with its SHA-256 as the signed payload hash and as x-amz-checksum-sha256, both verified", async () => {
    const file = planned(1, 3.5 * BYTES_PER_MB);
    const sink = new S3Sink({ kind: "s3", bucket: BUCKET, endpoint: strict.endpoint });
    const before = strict.requests.length;
    const stats = await sink.write(file);
    const puts = strict.requests.slice(before).filter((r) => r.method === "PUT");
    assert.deepEqual(
      puts.map((r) => [r.key, r.outcome, r.verified]),
      [[file.key, "forwarded", ["x-amz-content-sha256", "x-amz-checksum-sha256"]]],
    );
    const body = await s3.body(BUCKET, file.key);
    assert.equal(stats.sha256, createHash("sha256").update(body).digest("hex"));
  });

  it("the stand-in refuses a body that does not match its declared SHA-256, as S3 does, and stores nothing", async () => {
    const client = new S3Client({ region: "us-east-1", endpoint: strict.endpoint, forcePathStyle: true });
    const wrong = createHash("sha256").update("other bytes").digest("base64");
    await assert.rejects(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "digest/bad.ndjson", Body: Buffer.from("{}\n"), ChecksumSHA256: wrong })), (err: Error) => err.name === "BadDigest");
    assert.equal(strict.requests.at(-1)?.outcome, "bad-digest");
    await assert.rejects(s3.head(BUCKET, "digest/bad.ndjson"));
    client.destroy();
  });
});

describe("a sink's file writes", () => {
  it("write all of a chunk where the file takes less than it was given at a time, in order", async () => {
    const written: Buffer[] = [];
    // A file handle that takes at most 1,000 bytes a call, as a write may.
    const handle = {
      async write(buffer: Uint8Array, offset: number, length: number) {
        const taken = Math.min(length, 1000);
        written.push(Buffer.from(buffer.subarray(offset, offset + taken)));
        return { bytesWritten: taken, buffer };
      },
    };
    const chunk = Buffer.from(Array.from({ length: 12_345 }, (_, i) => i % 251));
    await writeFully(handle as never, chunk);
    assert.equal(written.length, 13);
    assert.ok(Buffer.concat(written).equals(chunk));
    // A file that takes nothing fails instead of being asked forever.
    const stuck = { write: async (buffer: Uint8Array) => ({ bytesWritten: 0, buffer }) };
    await assert.rejects(writeFully(stuck as never, chunk), /a write took none of 12345 bytes/);
  });
});
