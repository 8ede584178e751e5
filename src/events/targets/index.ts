import type { EventSink } from "../emit";
import type { EventTarget } from "../request";
import { HttpEventSink } from "./http";

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
      return new (require("./kinesis") as typeof import("./kinesis")).KinesisEventSink({ streamName: target.streamName, ...aws });
    case "firehose":
      return new (require("./firehose") as typeof import("./firehose")).FirehoseEventSink({ deliveryStreamName: target.deliveryStreamName, ...aws });
    case "sqs":
      return new (require("./sqs") as typeof import("./sqs")).SqsEventSink({ queueUrl: target.queueUrl, ...aws });
    case "eventbridge":
      return new (require("./eventbridge") as typeof import("./eventbridge")).EventBridgeEventSink({ eventBusName: target.eventBusName, ...aws });
  }
}
