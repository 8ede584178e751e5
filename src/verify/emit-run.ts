import { ValidationError } from "../core/errors";
import { EMIT_DEFAULTS, EMIT_FAN_OUT_LIMITS, type EmitRequest, parseEmitRequest } from "../events/request";
import type { ResolvedDataset } from "../records/dataset";

const HHMMSS = /^\d{6}$/;

/**
 * An emit run's request, as its sender parsed it, from the report the run printed: `synthgen
 * emit`'s, the emit-events function's answer, or the emit fan-out's (which has `emitters`, and
 * `block_events` when its streams come in blocks of their own seeds). Verify sends nothing, so the
 * target is not asked for: it is not part of a run's identity. `custom` is the dataset the report
 * names, resolved by the caller (a schema file, a stored dataset, a scenario's dataset).
 */
export function emitRunOfReport(report: Readonly<Record<string, unknown>>, where: string, custom: ResolvedDataset | undefined, field = "emit_report"): EmitRequest {
  const { run_id, seed, date_prefix, hhmmss, streams, events_per_stream, events_by_stream, dirty_rates, event_weights, dataset, block_events } = report;
  const fanOut = typeof report.emitters === "number";
  const bad = (why: string) => new ValidationError(field, `${where}: ${why}`);
  if (typeof run_id !== "string" || typeof date_prefix !== "string" || typeof hhmmss !== "string" || !HHMMSS.test(hhmmss) || typeof streams !== "number") {
    throw bad("not a synthgen emit report (no run_id, date_prefix, hhmmss and streams; reports of synthgen before verify of emit runs lack the time: rerun emit)");
  }
  if (!Number.isInteger(streams) || streams < 1 || streams > EMIT_FAN_OUT_LIMITS.MAX_STREAMS) throw bad(`streams must be a whole number from 1 to ${EMIT_FAN_OUT_LIMITS.MAX_STREAMS}`);
  let streamEvents: number[] | undefined;
  if (events_by_stream !== undefined) {
    if (!Array.isArray(events_by_stream) || events_by_stream.length !== streams || !events_by_stream.every((n) => Number.isInteger(n) && n >= 0)) {
      throw bad(`events_by_stream must list a whole number of events for each of its ${streams} streams`);
    }
    streamEvents = events_by_stream as number[];
    const total = streamEvents.reduce((a, b) => a + b, 0);
    if (total > EMIT_FAN_OUT_LIMITS.MAX_EVENTS) throw bad(`${total} events, more than a run sends`);
  } else if (fanOut) throw bad("an emit fan-out's report without events_by_stream: reports of synthgen before verify of fan-out runs lack it");
  if (block_events !== undefined && (!Number.isInteger(block_events) || (block_events as number) < 1)) throw bad("block_events must be a whole number of events");
  // A scenario's dataset fixes its counts; a report's counts stand for the rest, a count of 1 standing in while parsing.
  const counted = custom?.defaultSeed !== undefined;
  const event = Object.fromEntries(
    Object.entries({
      dataset: custom ? undefined : dataset,
      run_id,
      seed,
      date_prefix,
      time: `${date_prefix}T${hhmmss.slice(0, 2)}:${hhmmss.slice(2, 4)}:${hhmmss.slice(4, 6)}Z`,
      stream_count: streams,
      events_per_stream: counted ? undefined : streamEvents ? 1 : events_per_stream,
      // The fan-out paces its emitters; a rate stands in, the counts are the report's.
      events_per_second: fanOut ? 1 : undefined,
      dirty: dirty_rates,
      event_weights,
    }).filter(([, v]) => v !== undefined),
  );
  let request = parseEmitRequest(event, { ...EMIT_DEFAULTS, target: { kind: "http", url: "http://verify.invalid/" } }, { now: new Date() }, custom, fanOut ? "fan-out" : "invocation");
  if (streamEvents) {
    if (counted && JSON.stringify(request.streamEvents) !== JSON.stringify(streamEvents)) {
      throw new ValidationError("scenario", `${custom?.name} does not give the report's events per stream (${JSON.stringify(streamEvents).slice(0, 80)}): not the scenario the run sent`);
    }
    request = Object.freeze({ ...request, streamEvents });
  }
  // A fan-out's streams come in blocks of their own seeds (see EventStream), or not: as the report says.
  if (fanOut) {
    const { blockEvents: _, ...rest } = request;
    request = Object.freeze({ ...rest, ...(block_events !== undefined ? { blockEvents: block_events as number } : {}) });
  }
  return request;
}
