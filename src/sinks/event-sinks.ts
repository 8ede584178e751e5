import type { EventSink } from "../events/emit";
import type { EventTarget } from "../events/request";
import { HttpEventSink } from "./http-events";

export interface EventSinkOptions {
  /** Per-request timeout for HTTP targets. */
  readonly requestTimeoutMs: number;
  /** A compatible endpoint for an AWS target (kinesalite, a loopback stand-in) instead of AWS. */
  readonly endpoint?: string;
  readonly region?: string;
}

/** The sink for an event target. Each AWS target's module (and SDK client) loads only when used. */
export function eventSinkFor(target: EventTarget, options: EventSinkOptions): EventSink {
  const aws = { ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(options.region ? { region: options.region } : {}) };
  switch (target.kind) {
    case "http":
      return new HttpEventSink(target.url, options.requestTimeoutMs);
    case "kinesis":
      return new (require("./kinesis-events") as typeof import("./kinesis-events")).KinesisEventSink({ streamName: target.streamName, ...aws });
    case "firehose":
      return new (require("./firehose-events") as typeof import("./firehose-events")).FirehoseEventSink({ deliveryStreamName: target.deliveryStreamName, ...aws });
    case "sqs":
      return new (require("./sqs-events") as typeof import("./sqs-events")).SqsEventSink({ queueUrl: target.queueUrl, ...aws });
    case "eventbridge":
      return new (require("./eventbridge-events") as typeof import("./eventbridge-events")).EventBridgeEventSink({ eventBusName: target.eventBusName, ...aws });
  }
}
