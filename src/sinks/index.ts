import type { FileSink, SinkSpec } from "./sink";

export { sinkLocation, type FileSink, type LocalSinkSpec, type S3SinkSpec, type SinkSpec } from "./sink";

const cache = new Map<string, FileSink>();

/**
 * The sink for a spec, created once per thread so its clients and connections are reused. Each
 * sink's module loads on first use: a local run never loads the S3 SDK.
 */
export function sinkFor(spec: SinkSpec): FileSink {
  const id = JSON.stringify(spec);
  let sink = cache.get(id);
  if (!sink) {
    sink = spec.kind === "s3" ? new (require("./s3") as typeof import("./s3")).S3Sink(spec) : new (require("./local") as typeof import("./local")).LocalSink(spec);
    cache.set(id, sink);
  }
  return sink;
}
