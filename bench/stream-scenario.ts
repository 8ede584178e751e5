import { peakRssMb } from "./peak-rss";
import { emitEvents, emitResponseBody } from "../src/events/emit";
import { EMIT_DEFAULTS, parseEmitRequest } from "../src/events/request";
import { indexMetrics } from "../src/metrics/index-run";
import { eventSinkFor } from "../src/events/targets/index";

/**
 * One event or document benchmark in its own process (its peak RSS is its own): `emit` to an
 * HTTP or Kinesis target, or `index` to an Elasticsearch endpoint. Prints one JSON line.
 */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as { kind: "emit" | "index"; event: Record<string, unknown>; endpoint?: string; node?: string };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AWS_REGION: "us-east-1" });
  let figures: Record<string, unknown>;
  if (spec.kind === "emit") {
    const request = parseEmitRequest(spec.event, EMIT_DEFAULTS, { now: new Date() });
    const sink = eventSinkFor(request.target, { requestTimeoutMs: request.requestTimeoutMs, ...(spec.endpoint ? { endpoint: spec.endpoint } : {}) });
    const body = emitResponseBody(await emitEvents(request, sink));
    await sink.close();
    if (body.failed > 0) throw new Error(`bench emit failed: ${JSON.stringify(body.errors)}`);
    figures = { seconds: body.duration_ms / 1000, items: body.sent, perS: body.events_per_s, latency: body.latency };
  } else {
    const { body } = await indexMetrics(spec.event, {
      defaults: { index: "bench", seed: 1 },
      context: { now: new Date() },
      target: async () => ({ node: spec.node ?? "" }),
    });
    if (body.failed > 0) throw new Error(`bench index failed: ${JSON.stringify(body)}`);
    figures = { seconds: body.duration_ms / 1000, items: body.indexed, perS: body.documents_per_s };
  }
  process.stdout.write(`${JSON.stringify({ ...figures, peakRssMb: peakRssMb() })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
