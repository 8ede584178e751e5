import type { EventSink } from "../events/emit";
import type { EventTarget } from "../events/request";
import { HttpEventSink } from "./http-events";
import { KinesisEventSink } from "./kinesis-events";

export interface EventSinkOptions {
  /** Per-request timeout for HTTP targets. */
  readonly requestTimeoutMs: number;
  /** A Kinesis-compatible endpoint (kinesalite) instead of AWS. */
  readonly kinesisEndpoint?: string;
  readonly region?: string;
}

/** The sink for an event target. */
export function eventSinkFor(target: EventTarget, options: EventSinkOptions): EventSink {
  if (target.kind === "http") return new HttpEventSink(target.url, options.requestTimeoutMs);
  return new KinesisEventSink({
    streamName: target.streamName,
    ...(options.kinesisEndpoint ? { endpoint: options.kinesisEndpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
  });
}
