import { isoOfMs } from "../core/iso-time";
import { col } from "../records/columns";
import { identityEpochMs } from "../core/fields";
import { type Prng, WeightedTable } from "../core/prng";
import type { Dataset, FileContext, RecordWriter } from "../records/dataset";
import { TUTORING_EVENT_TYPES } from "./names";

/**
 * `tutoring-events`: the six event types of the original tutoring simulator, with its envelope
 * `{event_type, payload}`, every payload field and its value ranges. Better than the original:
 *
 * - Each stream (a file, or one concurrent sender) belongs to a small neighbourhood of students
 *   and tutors, so events refer to each other: a `session_completed` closes a session its stream
 *   started earlier (same session, student, tutor and subject), calls and health updates are about
 *   students who have sessions, availability updates about tutors who teach them.
 * - Timestamps follow a per-stream clock from the run's time, a few seconds apart, and keep the
 *   original's microsecond ISO form (`2025-12-23T14:30:52.123456Z`).
 * - The six types are evenly mixed unless weights are given.
 *
 * Session durations are not reflected in the clock: a session completes a few seconds of stream
 * time after it started, as in the original simulator, which sends both within one run.
 */

const SUBJECTS = ["Mathematics", "Physics", "Chemistry", "Biology", "English", "History", "Computer Science", "Spanish", "French"];
const SESSION_TYPES = ["one_on_one", "group", "instant_book"];
const DURATIONS = [30, 60, 90];
const CALL_REASONS = ["scheduling_issue", "technical_problem", "tutor_concern", "billing_question", "general_inquiry"];
const LEVELS = ["low", "medium", "high"];
const TIMEZONES = ["EST", "CST", "MST", "PST"];
const REGIONS = ["northeast", "southeast", "midwest", "west", "southwest"];
const BALANCE = ["balanced", "high_demand", "oversupplied"];

const STUDENTS_PER_STREAM = 8;
const TUTORS_PER_STREAM = 3;
/** Sessions a stream keeps open at most; the oldest is completed first. */
const MAX_OPEN_SESSIONS = 6;
/** Stream time between two events, in milliseconds. */
const MIN_GAP_MS = 200;
const MAX_GAP_MS = 6000;

interface OpenSession {
  readonly sessionId: string;
  readonly studentId: string;
  readonly tutorId: string;
  readonly subject: string;
  readonly scheduled: number;
}

/** `round(x, 2)` as Python prints it: no trailing zeros. */
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function isoMicros(ms: number, micros: number): string {
  return `${isoOfMs(ms).slice(0, 23)}${String(micros).padStart(3, "0")}Z`;
}

function eventTable(weights: Readonly<Record<string, number>> | undefined): WeightedTable<string> {
  const entries = TUTORING_EVENT_TYPES.map((t) => [t, weights ? (weights[t] ?? 0) : 1] as const).filter(([, w]) => w > 0);
  return new WeightedTable(entries);
}

class TutoringStream implements RecordWriter {
  private clock: number;
  private started = false;
  private readonly students: string[];
  private readonly tutors: string[];
  private readonly open: OpenSession[] = [];
  private readonly table: WeightedTable<string>;

  constructor(
    ctx: FileContext,
    private readonly rng: Prng,
  ) {
    this.clock = identityEpochMs(ctx) + rng.int(1000);
    this.students = Array.from({ length: STUDENTS_PER_STREAM }, () => `stu_${rng.range(1000, 9999)}`);
    this.tutors = Array.from({ length: TUTORS_PER_STREAM }, () => `tut_${rng.range(100, 999)}`);
    this.table = eventTable(ctx.eventWeights);
  }

  head(): string {
    const rng = this.rng;
    if (this.started) this.clock += rng.range(MIN_GAP_MS, MAX_GAP_MS);
    this.started = true;
    const ms = this.clock;
    const type = this.table.draw(rng);
    const base = `{"event_type":"${type}","payload":{"timestamp":"${isoMicros(ms, rng.int(1000))}","source":"simulator",`;
    return base + this.payload(type, ms);
  }

  private payload(type: string, ms: number): string {
    const rng = this.rng;
    switch (type) {
      case "session_started": {
        const session: OpenSession = {
          sessionId: `sess_${ms}_${rng.range(1000, 9999)}`,
          studentId: rng.pick(this.students),
          tutorId: rng.pick(this.tutors),
          subject: rng.pick(SUBJECTS),
          scheduled: rng.pick(DURATIONS),
        };
        if (this.open.length >= MAX_OPEN_SESSIONS) this.open.shift();
        this.open.push(session);
        return `"session_id":"${session.sessionId}","student_id":"${session.studentId}","tutor_id":"${session.tutorId}","subject":"${session.subject}","session_type":"${rng.pick(SESSION_TYPES)}","scheduled_duration_minutes":${session.scheduled}`;
      }
      case "session_completed": {
        // Close the oldest open session; with none open, one that started before this run.
        const s =
          this.open.shift() ??
          ({
            sessionId: `sess_${ms - rng.range(20, 95) * 60_000}_${rng.range(1000, 9999)}`,
            studentId: rng.pick(this.students),
            tutorId: rng.pick(this.tutors),
            subject: rng.pick(SUBJECTS),
            scheduled: rng.pick(DURATIONS),
          } satisfies OpenSession);
        const actual = Math.min(95, Math.max(20, s.scheduled + rng.range(-10, 5)));
        return `"session_id":"${s.sessionId}","student_id":"${s.studentId}","tutor_id":"${s.tutorId}","subject":"${s.subject}","actual_duration_minutes":${actual},"student_rating":${rng.range(3, 5)},"tutor_rating":${rng.range(3, 5)},"completed_successfully":${rng.float() > 0.1}`;
      }
      case "ib_call_logged":
        return `"call_id":"call_${ms}_${rng.range(100, 999)}","student_id":"${rng.pick(this.students)}","reason":"${rng.pick(CALL_REASONS)}","duration_seconds":${rng.range(60, 600)},"resolved":${rng.float() > 0.3},"priority":"${rng.pick(LEVELS)}"`;
      case "tutor_availability_updated": {
        const first = rng.int(SUBJECTS.length);
        const second = (first + 1 + rng.int(SUBJECTS.length - 1)) % SUBJECTS.length;
        return `"tutor_id":"${rng.pick(this.tutors)}","available_hours_this_week":${rng.range(0, 40)},"subjects":["${SUBJECTS[first]}","${SUBJECTS[second]}"],"timezone":"${rng.pick(TIMEZONES)}","accepts_instant_book":${rng.float() > 0.5}`;
      }
      case "customer_health_update": {
        const last7 = rng.range(0, 10);
        const last30 = Math.min(40, last7 + rng.range(0, 30));
        return `"student_id":"${rng.pick(this.students)}","sessions_last_7_days":${last7},"sessions_last_30_days":${last30},"ib_calls_last_14_days":${rng.range(0, 5)},"avg_session_rating":${round2(rng.float() * 2 + 3)},"health_score":${round2(rng.float() * 40 + 60)},"churn_risk":"${rng.pick(LEVELS)}"`;
      }
      case "supply_demand_update":
        return `"subject":"${rng.pick(SUBJECTS)}","region":"${rng.pick(REGIONS)}","available_tutors":${rng.range(5, 100)},"active_students":${rng.range(10, 500)},"demand_score":${round2(rng.float() * 50 + 50)},"supply_score":${round2(rng.float() * 50 + 50)},"balance_status":"${rng.pick(BALANCE)}"`;
      default:
        throw new Error(`no payload for event type ${type}`);
    }
  }
}

export const tutoringEvents: Dataset = {
  name: "tutoring-events",
  tail: "}}",
  padding: null,
  required: ["event_type", "payload"],
  // The payload's fields depend on the event type: one JSON column rather than a struct of all of them.
  columns: [col("event_type", "string"), col("payload", "json")],
  open: (ctx, rng) => new TutoringStream(ctx, rng),
};
