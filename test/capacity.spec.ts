import assert from "node:assert/strict";
import { assertFitsInTime, estimateSeconds, threadsFor, threadsForVolume, vcpusFor } from "../src/capacity";
import { planRun } from "../src/plan";
import { parseGenerateRequest } from "../src/request";

function plan(fileCount: number, targetSizeMb: number) {
  return planRun(parseGenerateRequest({ file_count: fileCount, target_size_mb: targetSizeMb, run_id: "cap" }, { fileCount: 10, targetSizeMb: 3.5 }, { now: new Date() }), "");
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

  it("never lets one large file count on more than one vCPU", () => {
    assert.equal(estimateSeconds(plan(1, 100), 4), estimateSeconds(plan(1, 100), 1));
  });
});
