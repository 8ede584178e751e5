import { readFileSync } from "node:fs";
import autocannon from "autocannon";

/**
 * The limit an emit path is measured against: autocannon, in its own process like the emitter,
 * POSTing the same body (one event, or one whole batch call with its protocol's headers) to the
 * same loopback server. Prints one JSON line.
 */
async function main(): Promise<void> {
  // `@FILE`: a spec too large for the command line (a whole batch call's body).
  const arg = process.argv[2] ?? "{}";
  const spec = JSON.parse(arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg) as { url: string; body: string; connections: number; amount: number; headers?: Record<string, string> };
  const result = await autocannon({
    url: spec.url,
    method: "POST",
    headers: spec.headers ?? { "content-type": "application/json" },
    body: spec.body,
    connections: spec.connections,
    amount: spec.amount,
    // autocannon ends a run on its next sample tick after the last response, and its duration
    // with it: at the default 1 s tick a 1.1 s run counts as 2 s. 10 ms ticks make it exact.
    sampleInt: 10,
  });
  const seconds = result.duration;
  process.stdout.write(`${JSON.stringify({ perS: result.requests.total / seconds, p50: result.latency.p50, errors: result.errors + result.non2xx })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
