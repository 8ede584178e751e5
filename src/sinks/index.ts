import { LocalSink } from "./local";
import { S3Sink } from "./s3";
import type { FileSink, SinkSpec } from "./sink";

export { sinkLocation, type FileSink, type LocalSinkSpec, type S3SinkSpec, type SinkSpec } from "./sink";

const cache = new Map<string, FileSink>();

/** The sink for a spec, created once per thread so its clients and connections are reused. */
export function sinkFor(spec: SinkSpec): FileSink {
  const id = JSON.stringify(spec);
  let sink = cache.get(id);
  if (!sink) {
    sink = spec.kind === "s3" ? new S3Sink(spec) : new LocalSink(spec);
    cache.set(id, sink);
  }
  return sink;
}
