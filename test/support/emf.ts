/**
 * A check of CloudWatch Embedded Metric Format lines against the specification (CloudWatch User
 * Guide, "Specification: Embedded metric format"): what CloudWatch would refuse to turn into
 * metrics is an error here.
 */

/** The units CloudWatch accepts (MetricDatum.Unit). */
const UNITS = new Set([
  "Seconds",
  "Microseconds",
  "Milliseconds",
  "Bytes",
  "Kilobytes",
  "Megabytes",
  "Gigabytes",
  "Terabytes",
  "Bits",
  "Kilobits",
  "Megabits",
  "Gigabits",
  "Terabits",
  "Percent",
  "Count",
  "Bytes/Second",
  "Kilobytes/Second",
  "Megabytes/Second",
  "Gigabytes/Second",
  "Terabytes/Second",
  "Bits/Second",
  "Kilobits/Second",
  "Megabits/Second",
  "Gigabits/Second",
  "Terabits/Second",
  "Count/Second",
  "None",
]);

/** One metric a line defines: its namespace, dimension set (by name), name, unit and value. */
export interface EmfMetric {
  readonly namespace: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly name: string;
  readonly unit: string | undefined;
  readonly value: number;
  /** The line's other members (properties such as run_id). */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** The metrics of one EMF line; throws naming what breaks the specification. */
export function parseEmfLine(line: string, now = Date.now()): EmfMetric[] {
  const root = JSON.parse(line) as Record<string, unknown>;
  const fail = (why: string): never => {
    throw new Error(`not valid EMF (${why}): ${line.slice(0, 300)}`);
  };
  if (typeof root !== "object" || root === null || Array.isArray(root)) fail("the line is not a JSON object");
  const aws = root._aws as Record<string, unknown> | undefined;
  if (typeof aws !== "object" || aws === null) fail("no _aws metadata object");
  const ts = aws!.Timestamp;
  if (typeof ts !== "number" || !Number.isInteger(ts)) fail("_aws.Timestamp must be epoch milliseconds");
  // CloudWatch takes data points up to two weeks old and two hours ahead.
  if ((ts as number) < now - 14 * 86_400_000 || (ts as number) > now + 2 * 3_600_000) fail("_aws.Timestamp outside what CloudWatch accepts");
  const directives = aws!.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) fail("_aws.CloudWatchMetrics must be a non-empty array");
  const out: EmfMetric[] = [];
  for (const d of directives as Record<string, unknown>[]) {
    const ns = d.Namespace;
    if (typeof ns !== "string" || ns.length < 1 || ns.length > 1024 || ns.startsWith("AWS/")) fail("Namespace must be 1-1024 characters, not AWS/");
    if (!Array.isArray(d.Dimensions)) fail("Dimensions must be an array of dimension sets");
    if (!Array.isArray(d.Metrics) || d.Metrics.length === 0 || d.Metrics.length > 100) fail("Metrics must hold 1 to 100 metric definitions");
    const sets = (d.Dimensions as unknown[]).map((set) => {
      if (!Array.isArray(set) || set.length > 30) fail("a dimension set must be an array of at most 30 names");
      return Object.fromEntries(
        (set as unknown[]).map((name) => {
          if (typeof name !== "string") fail("a dimension name must be a string");
          const value = root[name as string];
          if (typeof value !== "string" || value.length < 1 || value.length > 1024) fail(`dimension ${String(name)} must name a root member holding a string of 1-1024 characters`);
          return [name as string, value as string];
        }),
      ) as Record<string, string>;
    });
    for (const m of d.Metrics as Record<string, unknown>[]) {
      const name = m.Name;
      if (typeof name !== "string" || name.length < 1 || name.length > 255) fail("a metric Name must be 1-255 characters");
      if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) fail(`unit ${String(m.Unit)} is not one CloudWatch accepts`);
      if (m.StorageResolution !== undefined && m.StorageResolution !== 1 && m.StorageResolution !== 60) fail("StorageResolution must be 1 or 60");
      const value = root[name as string];
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.length > 100 || values.some((v) => typeof v !== "number" || !Number.isFinite(v)))
        fail(`metric ${String(name)} must name a root member holding a number (or up to 100)`);
      const properties = Object.fromEntries(Object.entries(root).filter(([k]) => k !== "_aws"));
      for (const dimensions of sets.length ? sets : [{}]) {
        for (const v of values as number[]) out.push({ namespace: ns as string, dimensions, name: name as string, unit: m.Unit as string | undefined, value: v, properties });
      }
    }
  }
  return out;
}

/** The EMF lines among a function's stdout lines (JSON objects with `_aws`), parsed and checked. */
export function emfMetrics(lines: readonly string[]): EmfMetric[] {
  return lines.filter((l) => l.startsWith("{") && l.includes('"_aws"')).flatMap((l) => parseEmfLine(l));
}
