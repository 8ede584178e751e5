import autocannon from "autocannon";

/**
 * The limit the HTTP emit path is measured against: autocannon, in its own process like the
 * emitter, POSTing the same body to the same loopback server with as many connections as emit has
 * streams. Prints one JSON line.
 */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as { url: string; body: string; connections: number; amount: number };
  const result = await autocannon({
    url: spec.url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: spec.body,
    connections: spec.connections,
    amount: spec.amount,
  });
  const seconds = result.duration;
  process.stdout.write(`${JSON.stringify({ perS: result.requests.total / seconds, p50: result.latency.p50, errors: result.errors + result.non2xx })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
