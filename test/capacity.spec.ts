import assert from "node:assert/strict";
import { assertFitsInTime, conservativeRate, estimateSeconds, FORMAT_RATE_SHARE, threadsFor, threadsForVolume } from "../src/files/capacity";
import { vcpusFor } from "../src/core/vcpus";
import { FORMATS } from "../src/formats";
import { planRun } from "../src/files/plan";
import { parseGenerateRequest } from "../src/files/request";

function plan(fileCount: number, targetSizeMb: number, format = "ndjson") {
  return planRun(parseGenerateRequest({ file_count: fileCount, target_size_mb: targetSizeMb, run_id: "cap", format }, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }), "");
}

describe("pool sizing and the time budget", () => {
  it("sizes the pool from Lambda memory, not from the host's cores", () => {
    assert.equal(threadsFor(512, 2), 1);
    assert.equal(threadsFor(1769, 2), 1);
    assert.equal(threadsFor(3538, 2), 2);
    assert.equal(threadsFor(10_240, 6), 6);
    assert.equal(threadsFor(10_240, 2), 2);
    assert.equal(threadsFor(undefined, 4), 4);
  });

  it("on the command line, starts a thread per 64 MiB planned: the seed's 35 MiB default runs on one", () => {
    assert.equal(threadsForVolume(35, 8), 1);
    assert.equal(threadsForVolume(64, 8), 1);
    assert.equal(threadsForVolume(65, 8), 2);
    assert.equal(threadsForVolume(350, 2), 2, "never more than the cores");
    assert.equal(threadsForVolume(0.01, 2), 1);
  });

  it("gives a 512 MB function about 0.29 vCPU", () => {
    assert.ok(Math.abs(vcpusFor(512, 2) - 0.289) < 0.001);
  });

  it("lets the original 10 × 3.5 MB run and the 100-file load test through at 512 MB and 300 s", () => {
    assertFitsInTime(plan(10, 3.5), 512, 2, 300_000);
    assertFitsInTime(plan(100, 3.5), 512, 2, 300_000);
  });

  it("refuses a plan the invocation cannot finish, before anything is written", () => {
    assert.throws(() => assertFitsInTime(plan(2000, 3.5), 512, 2, 300_000), /raise memoryMb.*fan-out/);
  });

  it("rates each format by its own speed: a run NDJSON finishes in time is refused as Parquet, naming the format and its rate", () => {
    for (const format of FORMATS) assert.ok(FORMAT_RATE_SHARE[format] > 0 && FORMAT_RATE_SHARE[format] <= 1, format);
    assert.equal(estimateSeconds(plan(100, 3.5, "parquet"), 1), (100 * 3.5) / conservativeRate("parquet"));
    assertFitsInTime(plan(100, 3.5), 512, 2, 300_000);
    assert.throws(
      () => assertFitsInTime(plan(100, 3.5, "parquet"), 512, 2, 300_000),
      (err: Error) => {
        assert.match(err.message, new RegExp(`conservative ${Number(conservativeRate("parquet").toFixed(2))} MiB/s per vCPU for parquet \\(snappy\\)`));
        return true;
      },
    );
    // One 1 GiB Parquet file fits a 1,769 MB function's 900 s, not a 512 MB one's.
    assertFitsInTime(plan(1, 1024, "parquet"), 1769, 2, 900_000);
    assert.throws(() => assertFitsInTime(plan(1, 1024, "parquet"), 512, 2, 900_000), /file_count × target_size_mb = 1024\.0 MiB/);
  });

  it("never lets one large file count on more than one vCPU", () => {
    assert.equal(estimateSeconds(plan(1, 100), 4), estimateSeconds(plan(1, 100), 1));
  });
});
