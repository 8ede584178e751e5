import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { EventStream } from "../src/events/streams";
import { emitRunOfReport } from "../src/verify/emit-run";
import { synthgen } from "./support/cli";
import { type CollectorFault, type EventCollector, startEventCollector } from "./support/event-collector";
import { startTestS3 } from "./support/s3";

type Report = Record<string, any>;

/** The emit run every check below sends: 4 streams of 300 web-events, 2% sent twice by dirt (each copy under its own key). */
const RUN = ["--streams", "4", "--events-per-stream", "300", "--dataset", "web-events", "--date", "2026-02-01", "--seed", "5", "--run-id", "ev-1", "--dirty", "duplicate=0.02"];
const EVENT_COLUMNS = ["--idempotency-field", "idempotency_key", "--sent-field", "sent_at", "--arrival-field", "received_at"];

async function verify(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const run = await synthgen(["verify", ...args]);
  return { code: run.code, report: run.stdout ? (JSON.parse(run.stdout) as Report) : {}, stderr: run.stderr };
}

/** The event's index in its stream, from its idempotency key. */
const indexOf = (key: string) => Number(key.replace(/:dup$/, "").split(":").pop());

/** Sends the run to a collector with these faults and lands what it kept under `dir`; returns the collector and emit's report file. */
async function emitThrough(dir: string, fault: (key: string) => CollectorFault): Promise<{ collector: EventCollector; reportFile: string; emitted: Report }> {
  const collector = await startEventCollector(fault);
  await mkdir(dir, { recursive: true });
  try {
    const e = await synthgen(["emit", "--to", collector.url, ...RUN]);
    assert.equal(e.code, 0, e.stderr);
    const reportFile = join(dir, "emit-report.json");
    await writeFile(reportFile, e.stdout);
    await collector.flush(join(dir, "landed"));
    return { collector, reportFile, emitted: JSON.parse(e.stdout) as Report };
  } finally {
    await collector.close();
  }
}

describe("synthgen verify of an emit run: what an events pipeline landed, against what emit sent", function () {
  this.timeout(300_000);
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "synthgen-verify-events-"));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  describe("a faithful collector", () => {
    let dir: string;
    let reportFile: string;
    let emitted: Report;
    before(async () => {
      dir = join(tmp, "faithful");
      ({ reportFile, emitted } = await emitThrough(dir, () => undefined));
    });

    it("every event found once, in its stream's order, under its own key: exit 0, with the delay from Synthgen-Sent-At to landing", async () => {
      const { code, report, stderr } = await verify(["--emit-report", reportFile, "--output", join(dir, "landed"), ...EVENT_COLUMNS, "--in-order"]);
      assert.equal(code, 0, stderr);
      assert.equal(report.status, "passed");
      assert.equal(report.expected_records, 1200);
      assert.equal(report.missing, 0);
      assert.equal(report.duplicated, 0);
      assert.equal(report.changed, 0);
      assert.equal(report.unexpected, 0);
      // Dirt's second copies are sent under `…:dup`: a pipeline dropping repeats by key keeps them, and verify says so.
      const dups = emitted.dirty_records.duplicate as number;
      assert.ok(dups > 5, `dirt duplicated ${dups} events`);
      assert.deepEqual(report.dirty.duplicate, { injected: dups, kept: dups });
      assert.deepEqual(report.events.idempotency, { field: "idempotency_key", redelivered: 0, without_key: 0, mismatched: 0 });
      assert.equal(report.events.order.out_of_order, 0);
      assert.equal(report.events.streams, 4);
      const delay = report.events.delay_ms;
      assert.equal(delay.events, 1200);
      assert.ok(delay.min >= 0 && delay.min <= delay.p50 && delay.p50 <= delay.p95 && delay.p95 <= delay.p99 && delay.p99 <= delay.max, JSON.stringify(delay));
      assert.ok(delay.max < 10_000, `loopback delay ${delay.max} ms`);
      assert.deepEqual(report.output.columns_not_generated, undefined, "the event columns are the checks', not unknown columns");
    });

    it("the same run named by emit's own flags gives the same report", async () => {
      const byReport = await verify(["--emit-report", reportFile, "--output", join(dir, "landed"), "--idempotency-field", "idempotency_key"]);
      const byFlags = await verify([...RUN, "--output", join(dir, "landed"), "--idempotency-field", "idempotency_key"]);
      assert.equal(byFlags.code, 0, byFlags.stderr);
      const strip = ({ duration_ms: _d, run: _r, ...rest }: Report) => rest;
      assert.deepEqual(strip(byFlags.report), strip(byReport.report));
      assert.equal(byFlags.report.run.hhmmss, emitted.hhmmss);
    });

    it("takes the emit report from a bucket too (where the emit fan-out leaves its report.json), and the landed events from there", async () => {
      const s3 = await startTestS3(["landed"]);
      try {
        await s3.client.send(new PutObjectCommand({ Bucket: "landed", Key: "_emit/ev-1/report.json", Body: await readFile(reportFile) }));
        for (const f of await readdir(join(dir, "landed"))) await s3.client.send(new PutObjectCommand({ Bucket: "landed", Key: `events/${f}`, Body: await readFile(join(dir, "landed", f)) }));
        const local = await verify(["--emit-report", reportFile, "--output", join(dir, "landed"), ...EVENT_COLUMNS]);
        const remote = await verify(["--emit-report", "s3://landed/_emit/ev-1/report.json", "--output", "s3://landed/events/", "--endpoint", s3.endpoint, ...EVENT_COLUMNS]);
        assert.equal(remote.code, 0, remote.stderr);
        const strip = ({ duration_ms: _d, output: _o, ...rest }: Report) => rest;
        assert.deepEqual(strip(remote.report), strip(local.report));
        const absent = await verify(["--emit-report", "s3://landed/_emit/nope/report.json", "--output", "s3://landed/events/", "--endpoint", s3.endpoint]);
        assert.equal(absent.code, 2);
        assert.match(absent.stderr, /--emit-report s3:\/\/landed\/_emit\/nope\/report\.json: no such object/);
      } finally {
        await s3.stop();
      }
    });

    it("a pipeline that put another event's key on a row: mismatched keys fail the check, with the key expected", async () => {
      const landed = join(tmp, "swapped");
      const files = (await readdir(join(dir, "landed"))).sort();
      await mkdir(landed, { recursive: true });
      for (const f of files) {
        let text = await readFile(join(dir, "landed", f), "utf8");
        if (f === files[0]) {
          // Rows 1 and 2 trade their keys.
          const lines = text
            .trimEnd()
            .split("\n")
            .map((l) => JSON.parse(l) as Record<string, unknown>);
          const [a, b] = [lines[0] as Record<string, unknown>, lines[1] as Record<string, unknown>];
          [a.idempotency_key, b.idempotency_key] = [b.idempotency_key, a.idempotency_key];
          text = `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`;
        }
        await writeFile(join(landed, f), text);
      }
      const { code, report } = await verify(["--emit-report", reportFile, "--output", landed, "--idempotency-field", "idempotency_key"]);
      assert.equal(code, 1);
      assert.deepEqual(report.failed_by, ["idempotency keys"]);
      assert.equal(report.events.idempotency.mismatched, 2);
      assert.match(report.events.idempotency.mismatched_examples[0].expected, /^ev-1:\d+:\d+$/);
      assert.equal(report.missing, 0);
    });
  });

  describe("a collector that loses, redelivers and reorders events at known places", () => {
    let dir: string;
    let collector: EventCollector;
    let reportFile: string;
    before(async () => {
      dir = join(tmp, "faulty");
      // By the event's index in its stream, never its dirty copy: the counts are the collector's own.
      const fault = (key: string): CollectorFault => {
        if (key.endsWith(":dup")) return undefined;
        const i = indexOf(key);
        return i % 37 === 5 ? "lose" : i % 41 === 7 ? "land-then-fail" : i % 43 === 11 ? "hold" : undefined;
      };
      ({ collector, reportFile } = await emitThrough(dir, fault));
      assert.ok(collector.counts.lost > 0 && collector.counts.redelivered > 0 && collector.counts.held > 0, JSON.stringify(collector.counts));
    });

    /**
     * What verify must say, from the collector's own log. An event dirt sent twice is a dirty
     * record: losing its first copy leaves it found once by its second (deduplicated), holding its
     * first copy lands it after its second (found in order), and a redelivery of it is the dirt's
     * count, not a clean record's duplicate.
     */
    const expected = () => {
      const sentTwice = (key: string) => collector.keys.has(`${key}:dup`);
      const clean = (fault: string) => collector.faults.filter((f) => f.fault === fault && !sentTwice(f.key)).length;
      return { missing: clean("lose"), duplicated: clean("land-then-fail"), outOfOrder: clean("hold"), dirtyLost: collector.faults.filter((f) => f.fault === "lose" && sentTwice(f.key)).length };
    };

    it("reports exactly what it did: lost events missing, retried writes redelivered under their key, held events out of order; the same on 1 thread as on 2 (rows digested on workers carry their event fields)", async () => {
      const { code, report } = await verify(["--emit-report", reportFile, "--output", join(dir, "landed"), ...EVENT_COLUMNS, "--threads", "2"]);
      const one = await verify(["--emit-report", reportFile, "--output", join(dir, "landed"), ...EVENT_COLUMNS, "--threads", "1"]);
      const { duration_ms: _a, ...two } = report;
      const { duration_ms: _b, ...single } = one.report;
      assert.deepEqual(two, single);
      const want = expected();
      assert.ok(want.missing > 20 && want.duplicated > 20 && want.outOfOrder > 20, JSON.stringify(want));
      assert.equal(code, 1);
      assert.deepEqual(report.failed_by, ["missing", "duplicated"]);
      assert.equal(report.missing, want.missing);
      assert.equal(report.duplicated, want.duplicated);
      assert.equal(report.events.idempotency.redelivered, collector.counts.redelivered);
      assert.equal(report.events.idempotency.mismatched, 0);
      assert.equal(report.events.order.out_of_order, want.outOfOrder);
      assert.equal(report.events.order.streams_out_of_order, 4);
      assert.equal(report.events.order.required, false);
      assert.equal(report.events.delay_ms.events, 1200 - want.missing);
      assert.equal(report.dirty.duplicate.deduplicated ?? 0, want.dirtyLost);
      for (const s of report.files_with_problems) assert.match(s.key, /^stream [0-3]$/);
    });

    it("--in-order makes the reordering fail the check; in reading order (no arrival column) the count is the same", async () => {
      const junitFile = join(dir, "junit.xml");
      const { code, report } = await verify(["--emit-report", reportFile, "--output", join(dir, "landed"), "--in-order", "--junit", junitFile]);
      assert.equal(code, 1);
      assert.deepEqual(report.failed_by, ["missing", "duplicated", "out of order"]);
      // The CI view shows the order check failing too, not only the exit code.
      assert.match(
        await readFile(junitFile, "utf8"),
        new RegExp(`name="every stream's events landed in the order they were sent"><failure message="${report.events.order.out_of_order} events out of order in 4 streams"/>`),
      );
      assert.match(report.events.order.judged_by, /order rows were read/);
      assert.equal(report.events.order.out_of_order, expected().outOfOrder);
      assert.equal(report.events.idempotency, undefined);
    });
  });

  it("an emit fan-out's report replays a stream past its first block as the emitter that started mid-stream sent it (block seeds), and not as one block", () => {
    const shape = "constant:2/6000s";
    const fanOut = parseEmitRequest(
      { ingest_api_url: "http://127.0.0.1:9/", shape, stream_count: 1, run_id: "blocks-1", seed: 4, date_prefix: "2026-02-01" },
      EMIT_DEFAULTS,
      { now: new Date("2026-02-01T10:00:00Z") },
      undefined,
      "fan-out",
    );
    assert.equal(fanOut.blockEvents, 10_000);
    assert.equal(fanOut.streamEvents?.[0], 12_000);
    // What an emitter whose cell starts at event 10,000 of stream 0 sends.
    const mid = new EventStream(fanOut, 0, 10_000, 5);
    const sent = Array.from({ length: 5 }, () => mid.next()?.body);
    const report = {
      run_id: fanOut.runId,
      seed: fanOut.seed,
      date_prefix: fanOut.datePrefix,
      hhmmss: fanOut.hhmmss,
      streams: 1,
      events_by_stream: fanOut.streamEvents,
      block_events: fanOut.blockEvents,
      dataset: fanOut.dataset,
      emitters: 1,
    };
    const replay = (r: Record<string, unknown>) => {
      const whole = new EventStream(emitRunOfReport(r, "report", undefined), 0);
      for (let i = 0; i < 10_000; i++) whole.next();
      return Array.from({ length: 5 }, () => whole.next()?.body);
    };
    assert.deepEqual(replay(report), sent);
    const { block_events: _, ...withoutBlocks } = report;
    assert.notDeepEqual(replay(withoutBlocks), sent, "without block_events the stream is one block: other records");
  });

  describe("bad input: exit 2, the flag named, no report", () => {
    it("refuses a column the output does not have, generate's flags with an emit run, event checks of a generate run, an emit run by flags without --date", async () => {
      const dir = join(tmp, "faithful");
      const cases: [string[], RegExp][] = [
        [
          ["--emit-report", join(dir, "emit-report.json"), "--output", join(dir, "landed"), "--idempotency-field", "key_of_event"],
          /--idempotency-field key_of_event: the output has no column "key_of_event"/,
        ],
        [["--emit-report", join(dir, "emit-report.json"), "--output", join(dir, "landed"), "--files", "3"], /--files applies to a generate run/],
        [["--emit-report", join(dir, "emit-report.json"), "--output", join(dir, "landed"), "--run-id", "x"], /--run-id is in the emit report/],
        [["--emit-report", join(dir, "emit-report.json"), "--output", join(dir, "landed"), "--sent-field", "sent_at"], /--sent-field needs --arrival-field/],
        [["--files", "3", "--run-id", "x", "--output", join(dir, "landed"), "--in-order"], /--in-order applies to an emit run/],
        [["--streams", "4", "--events-per-stream", "300", "--run-id", "ev-1", "--output", join(dir, "landed")], /--date is required to verify an emit run by its flags/],
        [["--emit-report", join(dir, "landed", "part-00000.ndjson"), "--output", join(dir, "landed")], /--emit-report .*: not JSON/],
        [["--emit-report", join(dir, "emit-report.json"), "--dataset", "tutoring-events", "--output", join(dir, "landed")], /the report's run sent web-events/],
      ];
      for (const [args, message] of cases) {
        const r = await synthgen(["verify", ...args]);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, "");
      }
    });
  });
});
