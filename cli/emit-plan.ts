import { availableParallelism } from "node:os";
import { ValidationError } from "../src/core/errors";
import { assertTargetQuota, estimateCost, emitterRate, evenShards, layoutEmitters, shardLoads, shardsNeeded, assertShardsCarry } from "../src/events/fan-out";
import { targetLabel } from "../src/events/emit";
import { EMIT_DEFAULTS, parseEmitRequest, totalEvents } from "../src/events/request";
import { peakRate } from "../src/events/shape";
import { EventStream } from "../src/events/streams";
import { badInput, eventFrom } from "./common";
import type { EmitFlags } from "./emit-flags";
import type { ResolvedDataset } from "../src/records/dataset";

/** The stack's defaults for emit-events (Pulumi.yaml): what a plan assumes unless told. */
const STACK = { memoryMb: 512, timeoutSeconds: 300, maxEmitters: 50 };

function whole(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new ValidationError(flag, `${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  return n;
}

/**
 * `synthgen emit --plan`: what the emit state machine would run for this request — emitters,
 * waves, each emitter's rate, a Kinesis stream's shards (the busiest at the peak, or how many an
 * even split needs) and the cost at list prices — without sending anything. Refuses, as the
 * state machine's plan step does, what the deployment or the target cannot carry.
 */
export function runEmitPlan(flags: EmitFlags, event: Record<string, unknown>, flagForField: Record<string, string>, custom?: ResolvedDataset): number {
  try {
    const settings = {
      memoryMb: whole("--memory-mb", flags.memoryMb, STACK.memoryMb, 128, 10_240),
      timeoutSeconds: whole("--timeout-s", flags.timeoutS, STACK.timeoutSeconds, 1, 900),
      cores: availableParallelism(),
      maxEmitters: whole("--max-emitters", flags.maxEmitters, STACK.maxEmitters, 1, 1000),
    };
    const architecture = flags.architecture ?? "arm64";
    if (architecture !== "arm64" && architecture !== "x86_64") throw new ValidationError("--architecture", `--architecture must be arm64 or x86_64 (got "${architecture}")`);
    // The cores of a Lambda function, not of this machine: the plan is for the deployment.
    const request = parseEmitRequest(eventFrom(event), EMIT_DEFAULTS, { now: new Date() }, custom, "fan-out");
    const layout = layoutEmitters(request, { ...settings, cores: 6 }, Date.now());
    let bytes = 0;
    let n = 0;
    for (let s = 0; s < Math.min(4, request.streamCount); s++) {
      const stream = new EventStream(request, s, 0, Math.min(50, request.streamEvents?.[s] ?? 0));
      for (let ev = stream.next(); ev; ev = stream.next(), n++) bytes += Buffer.byteLength(ev.body);
    }
    const meanBytes = n ? bytes / n : 0;
    let kinesis;
    if (request.target.kind === "kinesis") {
      const given = flags.kinesisShards === undefined ? undefined : whole("--kinesis-shards", flags.kinesisShards, 1, 1, 10_000);
      const shards = given ?? shardsNeeded(request, meanBytes);
      const loads = shardLoads(request, evenShards(shards), meanBytes);
      assertShardsCarry(request, loads);
      kinesis = {
        shards,
        ...(given === undefined ? { shards_note: "the fewest evenly split shards whose busiest takes the peak (partition keys mapped by MD5 as Kinesis does)" } : {}),
        busiest_shards: loads.slice(0, 3).map((l) => ({ shard: l.shardId, records_per_s: Math.round(l.recordsPerS), kib_per_s: Math.round(l.bytesPerS / 1024), streams: l.streams })),
      };
    }
    const targetLoad = assertTargetQuota(request, layout, meanBytes);
    const shape = request.shape as NonNullable<typeof request.shape>;
    const plan = {
      status: "planned",
      target: targetLabel(request.target),
      shape: shape.text,
      total_events: totalEvents(request),
      peak_events_per_s: peakRate(shape),
      duration_s: shape.durationS,
      streams: request.streamCount,
      mean_event_bytes: Math.round(meanBytes),
      memory_mb: settings.memoryMb,
      timeout_s: settings.timeoutSeconds,
      emitters: layout.emitters,
      events_per_s_per_emitter: emitterRate(request.target.kind, settings.memoryMb, 6),
      waves: layout.waves,
      wave_seconds: layout.waveSeconds,
      ...(kinesis ? { kinesis } : {}),
      ...(targetLoad ? { target_load: targetLoad } : {}),
      cost: estimateCost(request, layout, { memoryMb: settings.memoryMb, architecture }, kinesis ? { shards: kinesis.shards, meanEventBytes: meanBytes } : undefined),
    };
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return 0;
  } catch (err) {
    return badInput(err, flagForField);
  }
}
