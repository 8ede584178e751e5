import assert from "node:assert/strict";
import { merchantCatalogue, merchantPoints, MERCHANT_COUNT } from "../src/datasets/merchant-metrics";
import { TUTORING_EVENT_TYPES } from "../src/datasets/names";
import type { FileIdentity } from "../src/formats/file-identity";
import { renderFile } from "../src/formats/render";

type Json = Record<string, any>;

function records(id: FileIdentity): Json[] {
  const file = renderFile(id);
  return Buffer.concat([...file.chunks])
    .toString("latin1")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Json);
}

const base = { seed: 7, runId: "ds-run", datePrefix: "2025-12-23", hhmmss: "143000", fileIndex: 0, fileCount: 1 };

describe("tutoring-events (seed 002's six event types)", () => {
  const events = records({ ...base, dataset: "tutoring-events", targetBytes: 400_000 });

  it("wraps every event as {event_type, payload} with the seed's timestamp and source", () => {
    assert.ok(events.length > 1000);
    for (const e of events) {
      assert.deepEqual(Object.keys(e), ["event_type", "payload"]);
      assert.match(e.payload.timestamp, /^2025-12-23T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      assert.equal(e.payload.source, "simulator");
    }
  });

  it("mixes the six types evenly (each within 15% of a sixth)", () => {
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.event_type, (counts.get(e.event_type) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), [...TUTORING_EVENT_TYPES].sort());
    for (const [type, n] of counts) assert.ok(Math.abs(n / events.length - 1 / 6) < 0.025, `${type}: ${n} of ${events.length}`);
  });

  it("gives every payload field the seed's form and range", () => {
    const ranges: Record<string, (p: Json) => void> = {
      session_started: (p) => {
        assert.match(p.session_id, /^sess_\d{13}_\d{4}$/);
        assert.match(p.student_id, /^stu_\d{4}$/);
        assert.match(p.tutor_id, /^tut_\d{3}$/);
        assert.ok(["one_on_one", "group", "instant_book"].includes(p.session_type));
        assert.ok([30, 60, 90].includes(p.scheduled_duration_minutes));
      },
      session_completed: (p) => {
        assert.ok(p.actual_duration_minutes >= 20 && p.actual_duration_minutes <= 95);
        assert.ok(p.student_rating >= 3 && p.student_rating <= 5 && p.tutor_rating >= 3 && p.tutor_rating <= 5);
        assert.equal(typeof p.completed_successfully, "boolean");
      },
      ib_call_logged: (p) => {
        assert.match(p.call_id, /^call_\d{13}_\d{3}$/);
        assert.ok(p.duration_seconds >= 60 && p.duration_seconds <= 600);
        assert.ok(["low", "medium", "high"].includes(p.priority));
      },
      tutor_availability_updated: (p) => {
        assert.ok(p.available_hours_this_week >= 0 && p.available_hours_this_week <= 40);
        assert.equal(p.subjects.length, 2);
        assert.ok(["EST", "CST", "MST", "PST"].includes(p.timezone));
      },
      customer_health_update: (p) => {
        assert.ok(p.avg_session_rating >= 3 && p.avg_session_rating <= 5);
        assert.ok(p.health_score >= 60 && p.health_score <= 100);
        assert.ok(p.sessions_last_30_days >= p.sessions_last_7_days);
      },
      supply_demand_update: (p) => {
        assert.ok(p.available_tutors >= 5 && p.available_tutors <= 100 && p.active_students >= 10 && p.active_students <= 500);
        assert.ok(p.demand_score >= 50 && p.demand_score <= 100 && p.supply_score >= 50 && p.supply_score <= 100);
        assert.ok(["balanced", "high_demand", "oversupplied"].includes(p.balance_status));
      },
    };
    for (const e of events) ranges[e.event_type]!(e.payload);
  });

  it("completes sessions its stream started: same session, student, tutor and subject, later in the stream", () => {
    const started = new Map<string, Json>();
    let matched = 0;
    for (const e of events) {
      if (e.event_type === "session_started") started.set(e.payload.session_id, e.payload);
      if (e.event_type === "session_completed" && started.has(e.payload.session_id)) {
        const s = started.get(e.payload.session_id)!;
        assert.deepEqual([e.payload.student_id, e.payload.tutor_id, e.payload.subject], [s.student_id, s.tutor_id, s.subject]);
        assert.ok(e.payload.timestamp > s.timestamp);
        started.delete(e.payload.session_id);
        matched++;
      }
    }
    // The rest close sessions that started before the stream did (none of its own was open).
    const completed = events.filter((e) => e.event_type === "session_completed").length;
    assert.ok(matched / completed > 0.8, `${matched} of ${completed} completions close a session of the stream`);
  });

  it("follows event_weights: a type weighted 0 never appears", () => {
    const weighted = records({ ...base, dataset: "tutoring-events", targetBytes: 100_000, eventWeights: { session_started: 1, session_completed: 1 } });
    assert.deepEqual([...new Set(weighted.map((e) => e.event_type))].sort(), ["session_completed", "session_started"]);
  });
});

describe("merchant-metrics (seed 001)", () => {
  it("keeps a catalogue of 20 merchants per seed: same ids and names every time, another seed another catalogue", () => {
    const a = merchantCatalogue(11);
    assert.equal(a.length, MERCHANT_COUNT);
    assert.deepEqual(
      merchantCatalogue(11).map((m) => [m.id, m.name]),
      a.map((m) => [m.id, m.name]),
    );
    assert.notDeepEqual(
      merchantCatalogue(12).map((m) => m.id),
      a.map((m) => m.id),
    );
    assert.equal(new Set(a.map((m) => m.name)).size, MERCHANT_COUNT);
  });

  it("keeps normal merchants at 30-80% conversion and 1-15% errors, problematic ones at 5-30% or 15-40%", () => {
    const docs = [...merchantPoints(3, Date.UTC(2025, 11, 23, 14), 720)].map((p) => JSON.parse(p.json) as Json);
    assert.equal(docs.length, 720 * MERCHANT_COUNT);
    for (const d of docs) {
      if (d.issue === "low_conversion") assert.ok(d.conversion_rate >= 5 && d.conversion_rate <= 30);
      else assert.ok(d.conversion_rate >= 30 && d.conversion_rate <= 80, JSON.stringify(d));
      if (d.issue === "high_error_rate") assert.ok(d.error_rate >= 15 && d.error_rate <= 40);
      else assert.ok(d.error_rate >= 1 && d.error_rate <= 15);
      assert.equal(d.successful_transactions + d.failed_transactions, d.transaction_count);
    }
    const problematic = new Set(docs.filter((d) => d.status === "problematic").map((d) => d.merchant_id));
    assert.equal(problematic.size, 5);
  });

  it("leaves the location out for about 10% of merchants, the same ones in every hour", () => {
    let missing = 0;
    for (let seed = 0; seed < 50; seed++) missing += merchantCatalogue(seed).filter((m) => m.locationJson === "").length;
    assert.ok(missing / (50 * MERCHANT_COUNT) > 0.05 && missing / (50 * MERCHANT_COUNT) < 0.15, `${missing} of 1000`);
    const docs = [...merchantPoints(4, Date.UTC(2025, 11, 23, 14), 48)].map((p) => JSON.parse(p.json) as Json);
    for (const m of merchantCatalogue(4)) {
      const located = new Set(docs.filter((d) => d.merchant_id === m.id).map((d) => "location" in d));
      assert.equal(located.size, 1);
    }
  });

  it("gives each point the id {merchant}_{YYYYMMDDHH} and the same content whichever run produces it", () => {
    const hourly = [...merchantPoints(5, Date.UTC(2025, 11, 23, 14, 37), 1)];
    const backfill = [...merchantPoints(5, Date.UTC(2025, 11, 23, 15, 2), 720)];
    assert.match(hourly[0]!.id, /^mrc_[0-9a-f]{8}_2025122314$/);
    for (const p of hourly)
      assert.deepEqual(
        backfill.find((b) => b.id === p.id),
        p,
      );
    assert.equal(new Set(backfill.map((p) => p.id)).size, backfill.length);
  });

  it("as files, splits one unbroken history across the run's files without repeating a point", () => {
    const ids = (fileIndex: number) => records({ ...base, dataset: "merchant-metrics", fileIndex, fileCount: 3, targetBytes: 20_000 }).map((d) => `${d.merchant_id}@${d.timestamp}`);
    const all = [0, 1, 2].flatMap(ids);
    assert.equal(new Set(all).size, all.length);
  });
});
