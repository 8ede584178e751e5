import assert from "node:assert/strict";
import { ValidationError } from "../src/core/errors";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { assertEmitFitsInTime } from "../src/events/emit";
import { cumulative, parseShape, rateAt, shapedTotal, timeFor } from "../src/events/shape";
import { ShapeMeter } from "../cli/progress";
import { synthgen } from "./support/cli";
import { startIngestServer, type IngestServer } from "./support/ingest-server";

const NOW = Date.parse("2026-01-05T10:30:00Z"); // a Monday
const shape = (text: string) => parseShape("shape", text, NOW);
const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

/** Events the server accepted in each second since `origin` (epoch ms; the first arrival by default). */
function perSecond(server: IngestServer, origin?: number): number[] {
  const first = origin ?? server.accepted[0]?.at ?? 0;
  const counts: number[] = [];
  for (const a of server.accepted) {
    const s = Math.floor((a.at - first) / 1000);
    while (counts.length <= s) counts.push(0);
    counts[s] = (counts[s] as number) + 1;
  }
  return counts;
}

/** Sends a shape to a fresh loopback server through the CLI (its own process) and returns what the server saw, per second, with the targets. */
async function sendShape(text: string, extra: string[] = []): Promise<{ seconds: { achieved: number; target: number }[]; summary: Record<string, any>; server: IngestServer }> {
  const server = await startIngestServer();
  try {
    const r = await synthgen(["emit", "--to", server.url, "--streams", "20", "--shape", text, "--run-id", `shape-${text.replace(/[^A-Za-z0-9]/g, "-")}`, "--seed", "4", ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const s = shape(text);
    const summary = JSON.parse(r.stdout);
    // The shape's seconds count from when the sender started it (same machine, same clock); the counts are the server's.
    const seconds = perSecond(server, Date.parse(summary.started_at)).map((achieved, i) => ({ achieved, target: cumulative(s, Math.min(i + 1, s.durationS)) - cumulative(s, i) }));
    return { seconds, summary, server };
  } finally {
    await server.close();
  }
}

function assertWithin(seconds: { achieved: number; target: number }[], tolerance: number): void {
  // After the first second, every full second of the shape.
  for (const [i, { achieved, target }] of seconds.entries()) {
    if (i === 0 || target < 1) continue;
    assert.ok(
      Math.abs(achieved - target) <= tolerance * target,
      `second ${i}: ${achieved} arrived, target ${target.toFixed(1)} (±${tolerance * 100}%)\n${JSON.stringify(seconds.map((x) => [x.achieved, Math.round(x.target)]))}`,
    );
  }
}

describe("load shapes", function () {
  this.timeout(120_000);

  describe("the shape text", () => {
    it("reads each kind as linear segments whose integral is the events due", () => {
      const ramp = shape("ramp:100..2000/20s");
      close(cumulative(ramp, 20), 21_000);
      close(rateAt(ramp, 10), 1050);
      close(cumulative(shape("steps:100/2s,300/1s"), 3), 500);
      const spike = shape("spike:200,2000@5s+2s/10s");
      close(cumulative(spike, 10), 200 * 8 + 2000 * 2);
      assert.equal(rateAt(spike, 5.5), 2000);
      assert.equal(rateAt(spike, 7.5), 200);
      close(cumulative(shape("constant:500/2m"), 120), 60_000);
      for (const s of [ramp, spike, shape("ramp:0..1000/10s"), shape("ramp:900..100/10s")]) {
        for (const t of [0.25, 1, 3.3, 6.9, 9.99]) close(timeFor(s, cumulative(s, t)), t, 1e-9);
      }
    });

    it("places a profile's rates on the wall-clock hours (UTC), by hour of day or hour of week", () => {
      const day = Array.from({ length: 24 }, (_, h) => h * 10);
      const p = shape(`profile:${day.join(",")}/2h`);
      assert.deepEqual(
        p.segments.map((s) => [s.start, s.end, s.from]),
        [
          [0, 1800, 100],
          [1800, 5400, 110],
          [5400, 7200, 120],
        ],
      );
      const week = Array.from({ length: 168 }, (_, h) => h);
      // Monday 10:30: hour of week 10.
      assert.equal(shape(`profile:${week.join(",")}/10m`).segments[0]?.from, 10);
    });

    it("refuses a bad shape, naming the field and the forms it may take", () => {
      for (const [text, message] of [
        ["ramp:100-200/10s", /a ramp is FROM\.\.TO\/DURATION/],
        ["wave:1/1s", /unknown shape "wave"; must be a shape: constant:RATE\/DURATION, ramp:FROM\.\.TO\/DURATION/],
        ["constant:500", /needs a duration after "\/"/],
        ["constant:500/10y", /not a duration such as 90s, 10m or 1h/],
        ["spike:1,2@9s+5s/10s", /must end within the duration/],
        ["ramp:0..0/10s", /sends no event/],
        ["constant:1e9/1s", /from 0\.001 to 1000000 events per second/],
        ["profile:1,2,3/1h", /24 rates .* or 168/],
      ] as const) {
        assert.throws(
          () => shape(text),
          (err: unknown) => err instanceof ValidationError && err.field === "shape" && message.test(err.message),
          text,
        );
      }
    });

    it("counts a run's events up front: paced exactly, Poisson as its own seeded draws", () => {
      assert.equal(shapedTotal(shape("constant:10/1s"), "paced", [], 1e6), 10);
      assert.equal(shapedTotal(shape("ramp:100..2000/20s"), "paced", [], 1e6), 21_000);
      const poisson = shapedTotal(shape("constant:1000/10s"), "poisson", ["r", 1], 1e6);
      assert.ok(Math.abs(poisson - 10_000) < 4 * Math.sqrt(10_000), String(poisson));
      assert.equal(shapedTotal(shape("constant:1000/10s"), "poisson", ["r", 1], 1e6), poisson, "the same draws again");
    });

    it("refuses events_per_stream or events_per_second with a shape, a shape over one invocation's events, and one longer than the time left", () => {
      const target = { ingest_api_url: "http://127.0.0.1:9/x" };
      assert.throws(() => parseEmitRequest({ ...target, shape: "constant:5/1s", events_per_stream: 3 }, EMIT_DEFAULTS, { now: new Date() }), /events_per_stream does not apply with a shape/);
      assert.throws(() => parseEmitRequest({ ...target, shape: "constant:5/1s", events_per_second: 3 }, EMIT_DEFAULTS, { now: new Date() }), /events_per_second does not apply with a shape/);
      assert.throws(
        () => parseEmitRequest({ ...target, shape: "constant:100000/1h" }, EMIT_DEFAULTS, { now: new Date() }),
        (err: unknown) => err instanceof ValidationError && err.field === "shape" && /more than the 1000000 events/.test(err.message),
      );
      const long = parseEmitRequest({ ...target, shape: "constant:10/20m" }, EMIT_DEFAULTS, { now: new Date() });
      assert.throws(() => assertEmitFitsInTime(long, 900_000), /lasts 1200 s, more than the 900 s this invocation has/);
      assert.throws(() => parseEmitRequest({ ...target, arrivals: "poisson" }, EMIT_DEFAULTS, { now: new Date() }), /arrivals applies with a shape/);
    });

    it("takes the deployment's shape (stack config emitShape) when an event asks for no count or rate of its own", () => {
      const defaults = { ...EMIT_DEFAULTS, target: { kind: "http" as const, url: "http://127.0.0.1:9/x" }, shape: "constant:20/2s", arrivals: "paced" as const };
      const scheduled = parseEmitRequest({}, defaults, { now: new Date() });
      assert.equal(scheduled.shape?.text, "constant:20/2s");
      assert.equal(
        scheduled.streamEvents?.reduce((a, b) => a + b, 0),
        40,
      );
      assert.equal(parseEmitRequest({ events_per_stream: 3 }, defaults, { now: new Date() }).shape, undefined);
      assert.equal(parseEmitRequest({ events_per_second: 3 }, defaults, { now: new Date() }).shape, undefined);
      assert.equal(parseEmitRequest({ shape: "constant:5/1s" }, defaults, { now: new Date() }).shape?.text, "constant:5/1s");
    });
  });

  describe("emit along a shape, counted by the receiving server", () => {
    it("ramps 100 → 2,000 events/s over 20 s: every second within ±5% of its target after the first", async () => {
      const { seconds, summary, server } = await sendShape("ramp:100..2000/20s");
      assert.equal(server.accepted.length, 21_000);
      assert.equal(server.duplicates.length, 0);
      assert.equal(summary.sent, 21_000);
      assertWithin(seconds, 0.05);
      assert.ok(summary.seconds.length >= 20);
      assert.ok(summary.max_rate_error <= 0.05, `the sender's own view: ${summary.max_rate_error}`);
    });

    it("holds a spike: 300/s, 1,500/s for 3 s from the 4th second, then 300/s again", async () => {
      const { seconds, server } = await sendShape("spike:300,1500@4s+3s/10s");
      assert.equal(server.accepted.length, 300 * 7 + 1500 * 3);
      assertWithin(seconds, 0.05);
      assert.ok((seconds[5]?.achieved ?? 0) > 4 * (seconds[2]?.achieved ?? 0), "the spike is there");
    });

    it("Poisson arrivals are irregular where paced ones are even: gaps at the server vary like an exponential's", async () => {
      const cv = (server: IngestServer) => {
        const at = server.accepted.map((a) => a.at);
        const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
        const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
        const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
        return sd / mean;
      };
      // Interquartile range over median: 1.58 for exponential gaps, near 0 for even ones; unlike the
      // coefficient of variation it is not moved by the few long gaps a busy machine's stalls make.
      const spread = (server: IngestServer) => {
        const at = server.accepted.map((a) => a.at);
        const gaps = at
          .slice(1)
          .map((t, i) => t - (at[i] as number))
          .sort((a, b) => a - b);
        const q = (p: number) => gaps[Math.floor(p * (gaps.length - 1))] as number;
        return (q(0.75) - q(0.25)) / Math.max(1, q(0.5));
      };
      const poisson = await sendShape("constant:100/6s", ["--arrivals", "poisson"]);
      const paced = await sendShape("constant:100/6s");
      assert.ok(Math.abs(poisson.server.accepted.length - 600) < 4 * Math.sqrt(600), String(poisson.server.accepted.length));
      assert.equal(paced.server.accepted.length, 600);
      assert.ok(cv(poisson.server) > 0.7, `Poisson gaps' coefficient of variation ${cv(poisson.server)}`);
      assert.ok(spread(poisson.server) > 1.1, `Poisson gaps' interquartile range / median ${spread(poisson.server)}`);
      assert.ok(spread(paced.server) < 0.5, `paced gaps' interquartile range / median ${spread(paced.server)} (coefficient of variation ${cv(paced.server)})`);
    });

    it("skews streams by Zipf: stream 0 the hottest, each stream in order, every event once", async () => {
      const server = await startIngestServer();
      try {
        const r = await synthgen(["emit", "--to", server.url, "--streams", "8", "--events-per-stream", "100", "--skew", "zipf:1.2", "--run-id", "skew"]);
        assert.equal(r.code, 0, r.stderr);
        const summary = JSON.parse(r.stdout);
        const byStream = new Map<number, number[]>();
        for (const a of server.accepted) {
          const [, stream, index] = a.key.split(":").map(Number) as [number, number, number];
          byStream.set(stream, [...(byStream.get(stream) ?? []), index]);
        }
        const counts = Array.from({ length: 8 }, (_, s) => byStream.get(s)?.length ?? 0);
        assert.deepEqual(counts, summary.events_by_stream);
        assert.equal(
          counts.reduce((a, b) => a + b, 0),
          800,
        );
        const h = Array.from({ length: 8 }, (_, i) => (i + 1) ** -1.2).reduce((a, b) => a + b, 0);
        for (const [i, c] of counts.entries()) assert.ok(Math.abs(c - (800 * (i + 1) ** -1.2) / h) <= 1, `stream ${i}: ${c}`);
        for (const [s, indices] of byStream)
          assert.deepEqual(
            indices,
            [...indices].sort((a, b) => a - b),
            `stream ${s} in order`,
          );
        assert.equal(server.duplicates.length, 0);
      } finally {
        await server.close();
      }
    });
  });

  it("the live bar's reading: events over the last second against the shape's target at that moment", () => {
    const shape = parseShape("shape", "ramp:100..1100/10s", 0);
    const meter = new ShapeMeter((t) => rateAt(shape, t), 0);
    assert.deepEqual(meter.reading(0), { achieved: 0, target: 100 });
    // 50 events in the first half second: 100/s so far.
    meter.add(50, 500);
    assert.deepEqual(meter.reading(500), { achieved: 100, target: 150 });
    // At 5 s: 300 events in the last second, of a target of 600/s — the bar shows the shortfall.
    for (let t = 4100; t <= 5000; t += 100) meter.add(30, t);
    assert.deepEqual(meter.reading(5000), { achieved: 300, target: 600 });
    // Nothing sent for a second: the rate falls to 0 while the target goes on.
    assert.deepEqual(meter.reading(6000), { achieved: 0, target: 700 });
  });

  it("duration with events_per_second: that rate for that long (a constant shape); refused with a count, a shape, or no rate", () => {
    const ctx = { now: new Date("2026-03-02T10:00:00Z") };
    const r = parseEmitRequest({ ingest_api_url: "http://127.0.0.1:9/x", duration: "90s", events_per_second: 40, stream_count: 4 }, EMIT_DEFAULTS, ctx);
    assert.deepEqual([r.shape?.text, r.shape?.durationS, r.streamEvents?.reduce((a, b) => a + b, 0)], ["constant:40/90s", 90, 3600]);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ duration: "90s" }, /duration needs events_per_second/],
      [{ duration: "90s", events_per_second: 5, events_per_stream: 3 }, /give events_per_stream \(a count\) or duration, not both/],
      [{ duration: "90s", shape: "constant:5/1m" }, /duration does not apply with a shape/],
      [{ duration: "soon", events_per_second: 5 }, /"soon" is not a duration such as 90s, 10m or 1h/],
    ];
    for (const [fields, message] of bad) {
      assert.throws(
        () => parseEmitRequest({ ingest_api_url: "http://127.0.0.1:9/x", ...fields }, EMIT_DEFAULTS, ctx),
        (e: unknown) => e instanceof ValidationError && e.field === "duration" && message.test(e.message),
      );
    }
  });

  it("--shape @FILE reads a long shape (168 hourly rates) from a file, comments and line breaks dropped; a missing file is named", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "synthgen-shape-"));
    try {
      const week = Array.from({ length: 7 }, (_, d) => `# day ${d}\n${Array.from({ length: 24 }, (_, h) => (h >= 9 && h < 18 ? 50 : 5)).join(",")}`).join(",\n");
      await writeFile(join(dir, "week.shape"), `profile:\n${week}\n/3s\n`);
      const server = await startIngestServer();
      try {
        const r = await synthgen(["emit", "--to", server.url, "--shape", `@${join(dir, "week.shape")}`, "--streams", "2", "--run-id", "week"]);
        assert.equal(r.code, 0, r.stderr);
        const summary = JSON.parse(r.stdout);
        assert.match(summary.shape, /^profile:(5|50)(,(5|50)){167}\/3s$/);
        assert.equal(server.accepted.length, summary.total_events);
      } finally {
        await server.close();
      }
      const missing = await synthgen(["emit", "--to", "http://127.0.0.1:9/x", "--shape", `@${join(dir, "nope.shape")}`]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--shape @.*nope\.shape: cannot read the shape file \(ENOENT\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
