import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Loopback stand-ins for the AWS event targets that speak the AWS JSON protocols (what the real
 * SDK clients send: `POST /` with `X-Amz-Target: <prefix>.<Operation>`, a SigV4 `Authorization`
 * for the right service and region, `Content-Type: application/x-amz-json-1.x`), answering as
 * each service documents: its batch limits refused whole (400 with `__type`), per-entry results
 * with partial failures, throttling past a records-per-second budget, and the per-entry rules
 * (SQS FIFO groups and deduplication, EventBridge's JSON-object detail).
 */

/** A whole-call error, answered 400 (or `status`) with `__type` as the SDK reads it. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** SQS's JSON protocol also names the old query error code in a header. */
    readonly queryError?: string,
  ) {
    super(message);
  }
}

interface ServiceSpec {
  readonly signingName: string;
  readonly targetPrefix: string;
  readonly contentType: string;
  operation(name: string, body: Record<string, any>): unknown;
}

export interface AwsStandIn {
  readonly endpoint: string;
  /** Calls answered, by outcome. */
  readonly calls: { ok: number; refused: number };
  close(): Promise<void>;
}

async function serve(spec: ServiceSpec): Promise<AwsStandIn> {
  const calls = { ok: 0, refused: 0 };
  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": spec.contentType, ...headers });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const auth = String(req.headers.authorization ?? "");
        const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(auth);
        if (!scope || !req.headers["x-amz-date"]) throw new AwsError("MissingAuthenticationTokenException", "Missing or malformed SigV4 Authorization", 403);
        if (scope[2] !== spec.signingName) throw new AwsError("InvalidSignatureException", `Credential should be scoped to correct service: '${spec.signingName}'`, 403);
        if (req.method !== "POST" || req.url !== "/") throw new AwsError("UnknownOperationException", `${req.method} ${req.url}`, 404);
        if (req.headers["content-type"] !== spec.contentType) throw new AwsError("SerializationException", `Content-Type must be ${spec.contentType}`);
        const target = String(req.headers["x-amz-target"] ?? "");
        if (!target.startsWith(`${spec.targetPrefix}.`)) throw new AwsError("UnknownOperationException", `unknown target ${target}`);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, any>;
        const out = spec.operation(target.slice(spec.targetPrefix.length + 1), body);
        calls.ok++;
        answer(res, 200, out);
      } catch (err) {
        calls.refused++;
        if (err instanceof AwsError) {
          answer(res, err.status, { __type: err.type, message: err.message }, err.queryError ? { "x-amzn-query-error": `${err.queryError};Sender` } : {});
        } else {
          answer(res, 500, { __type: "InternalFailure", message: (err as Error).message });
        }
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A records-per-second budget, as a service's throughput quota: what is over it is throttled. */
class Budget {
  private second = -1;
  private used = 0;
  constructor(private readonly perSecond: number) {}
  take(): boolean {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.second) {
      this.second = now;
      this.used = 0;
    }
    if (this.used >= this.perSecond) return false;
    this.used++;
    return true;
  }
}

/** Scripted trouble for an entry: a code to fail it with (retryable per the service), or undefined to accept it. */
export type FailEntry = (entry: { readonly body: string; readonly attempt: number }) => string | undefined;

export interface StandInOptions {
  readonly fail?: FailEntry;
  /** The service's throughput quota for this resource (records or messages per second). */
  readonly perSecond?: number;
  /**
   * Called after a call's entries were taken: returning true loses the answer (a 500 after the
   * work was done), as a timeout or a dropped connection can.
   */
  readonly loseAnswer?: (call: number) => boolean;
}

/** How many times each body was offered (attempts of the same event). */
function attemptsOf(): (body: string) => number {
  const seen = new Map<string, number>();
  return (body) => {
    const n = (seen.get(body) ?? 0) + 1;
    seen.set(body, n);
    return n;
  };
}

const b64 = (data: unknown): Buffer => {
  if (typeof data !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new AwsError("SerializationException", "Data must be base64");
  return Buffer.from(data, "base64");
};

// ---------------------------------------------------------------- Firehose

export interface FirehoseStandIn extends AwsStandIn {
  /** Records each delivery stream took, in the order it took them. */
  readonly records: Map<string, Buffer[]>;
}

/** Amazon Data Firehose `PutRecordBatch` (JSON 1.1, `Firehose_20150804`): 500 records, 4 MiB, 1,000 KiB a record. */
export async function startFirehose(streams: readonly string[], options: StandInOptions = {}): Promise<FirehoseStandIn> {
  const records = new Map(streams.map((s) => [s, [] as Buffer[]]));
  const budget = options.perSecond ? new Budget(options.perSecond) : undefined;
  const attempt = attemptsOf();
  let callNo = 0;
  const standIn = await serve({
    signingName: "firehose",
    targetPrefix: "Firehose_20150804",
    contentType: "application/x-amz-json-1.1",
    operation(name, body) {
      if (name !== "PutRecordBatch") throw new AwsError("UnknownOperationException", name);
      const stream = records.get(body.DeliveryStreamName);
      if (!stream) throw new AwsError("ResourceNotFoundException", `Firehose ${body.DeliveryStreamName} under account 123456789012 not found.`);
      const input = body.Records as { Data: string }[];
      if (!Array.isArray(input) || input.length < 1 || input.length > 500) {
        throw new AwsError("ValidationException", `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and 500 (got ${input?.length})`);
      }
      const data = input.map((r) => b64(r.Data));
      for (const d of data)
        if (d.length > 1000 * 1024)
          throw new AwsError("ValidationException", `1 validation error detected: Value at 'records.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000`);
      const total = data.reduce((n, d) => n + d.length, 0);
      if (total > 4 * 1024 * 1024) throw new AwsError("InvalidArgumentException", `Records size exceeds 4 MiB limit (${total} bytes)`);
      const call = ++callNo;
      const responses = data.map((d) => {
        const code = options.fail?.({ body: d.toString("utf8"), attempt: attempt(d.toString("utf8")) }) ?? (budget && !budget.take() ? "ServiceUnavailableException" : undefined);
        if (code) return { ErrorCode: code, ErrorMessage: code === "ServiceUnavailableException" ? "Slow down." : "scripted failure" };
        stream.push(d);
        return { RecordId: randomUUID() };
      });
      if (options.loseAnswer?.(call)) throw new AwsError("ServiceUnavailableException", "answer lost after the records were taken", 500);
      return { FailedPutCount: responses.filter((r) => "ErrorCode" in r).length, Encrypted: false, RequestResponses: responses };
    },
  });
  return { ...standIn, records };
}

// ---------------------------------------------------------------- SQS

export interface SqsMessage {
  readonly body: string;
  readonly groupId?: string;
  readonly attributes: Record<string, string>;
}

export interface SqsStandIn extends AwsStandIn {
  /** Queue URL path (`/ACCOUNT/NAME`) → messages enqueued, in order. */
  readonly queues: Map<string, SqsMessage[]>;
  queueUrl(name: string): string;
}

const SQS_ID = /^[A-Za-z0-9_-]{1,80}$/;
// Characters SQS accepts in a message: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the tab, newline and carriage return are the point: SQS's allowed set names them
const SQS_INVALID_CHARS = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const DEDUP_WINDOW_MS = 5 * 60_000;

/**
 * SQS `SendMessageBatch` (JSON 1.0, `AmazonSQS`): 10 entries with distinct ids, 262,144 bytes a
 * call and a message (body and attributes); FIFO queues (`.fifo`) require a group id and, without
 * content-based deduplication, a deduplication id, and drop a repeat of one within 5 minutes
 * (answering success). Successful entries carry the body's MD5, which the SDK checks.
 */
export async function startSqs(names: readonly string[], options: StandInOptions = {}): Promise<SqsStandIn> {
  const queues = new Map(names.map((n) => [`/123456789012/${n}`, [] as SqsMessage[]]));
  const dedup = new Map<string, number>();
  const budget = options.perSecond ? new Budget(options.perSecond) : undefined;
  const attempt = attemptsOf();
  let callNo = 0;
  const fail = (type: string, message: string) => new AwsError(`com.amazonaws.sqs#${type}`, message, 400, `AWS.SimpleQueueService.${type}`);
  const standIn = await serve({
    signingName: "sqs",
    targetPrefix: "AmazonSQS",
    contentType: "application/x-amz-json-1.0",
    operation(name, body) {
      if (name !== "SendMessageBatch") throw new AwsError("UnknownOperationException", name);
      const path = String(body.QueueUrl ?? "").replace(/^https?:\/\/[^/]+/, "");
      const queue = queues.get(path);
      if (!queue) throw new AwsError("com.amazonaws.sqs#QueueDoesNotExist", "The specified queue does not exist.", 400, "AWS.SimpleQueueService.NonExistentQueue");
      const fifo = path.endsWith(".fifo");
      const entries = body.Entries as Record<string, any>[];
      if (!Array.isArray(entries) || entries.length === 0) throw fail("EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request.");
      if (entries.length > 10) throw fail("TooManyEntriesInBatchRequest", `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
      const ids = entries.map((e) => e.Id);
      if (new Set(ids).size !== ids.length) throw fail("BatchEntryIdsNotDistinct", "Id in batch entries must be unique.");
      for (const id of ids)
        if (typeof id !== "string" || !SQS_ID.test(id))
          throw fail("InvalidBatchEntryId", `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. (got ${id})`);
      const sizeOf = (e: Record<string, any>) =>
        Buffer.byteLength(String(e.MessageBody ?? "")) +
        Object.entries((e.MessageAttributes ?? {}) as Record<string, { DataType: string; StringValue?: string }>).reduce(
          (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v.DataType) + Buffer.byteLength(v.StringValue ?? ""),
          0,
        );
      const total = entries.reduce((n, e) => n + sizeOf(e), 0);
      if (total > 262_144) throw fail("BatchRequestTooLong", `Batch requests cannot be longer than 262144 bytes. You have sent ${total} bytes.`);
      const call = ++callNo;
      const Successful: Record<string, unknown>[] = [];
      const Failed: Record<string, unknown>[] = [];
      for (const e of entries) {
        const text = String(e.MessageBody ?? "");
        const sender = (Code: string, Message: string) => Failed.push({ Id: e.Id, SenderFault: true, Code, Message });
        if (text.length === 0) sender("MissingParameter", "The request must contain the parameter MessageBody.");
        else if (sizeOf(e) > 262_144) sender("InvalidParameterValue", `One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.`);
        else if (SQS_INVALID_CHARS.test(text)) sender("InvalidMessageContents", "Invalid characters found.");
        else if (fifo && !e.MessageGroupId) sender("MissingParameter", "The request must contain the parameter MessageGroupId.");
        else if (fifo && !e.MessageDeduplicationId) sender("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
        else {
          const code = options.fail?.({ body: text, attempt: attempt(text) }) ?? (budget && !budget.take() ? "RequestThrottled" : undefined);
          if (code) {
            Failed.push({ Id: e.Id, SenderFault: false, Code: code, Message: "scripted failure" });
            continue;
          }
          const dedupKey = fifo ? `${path}|${e.MessageDeduplicationId}` : undefined;
          const seenAt = dedupKey ? dedup.get(dedupKey) : undefined;
          if (!(seenAt !== undefined && Date.now() - seenAt < DEDUP_WINDOW_MS)) {
            if (dedupKey) dedup.set(dedupKey, Date.now());
            const attributes = Object.fromEntries(Object.entries((e.MessageAttributes ?? {}) as Record<string, { StringValue?: string }>).map(([k, v]) => [k, v.StringValue ?? ""]));
            queue.push({ body: text, ...(e.MessageGroupId ? { groupId: e.MessageGroupId } : {}), attributes });
          }
          Successful.push({
            Id: e.Id,
            MessageId: randomUUID(),
            MD5OfMessageBody: createHash("md5").update(text, "utf8").digest("hex"),
            ...(fifo ? { SequenceNumber: String(call * 100 + Successful.length).padStart(20, "0") } : {}),
          });
        }
      }
      if (options.loseAnswer?.(call)) throw new AwsError("com.amazonaws.sqs#InternalError", "answer lost after the messages were taken", 500);
      return { Successful, Failed };
    },
  });
  return { ...standIn, queues, queueUrl: (n) => `${standIn.endpoint}/123456789012/${n}` };
}

// ---------------------------------------------------------------- EventBridge

export interface BusEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
}

export interface EventBridgeStandIn extends AwsStandIn {
  readonly buses: Map<string, BusEvent[]>;
}

/**
 * EventBridge `PutEvents` (JSON 1.1, `AWSEvents`): 10 entries, 256 KB of entries sized as
 * documented (Source, DetailType, Detail, Resources; 14 bytes with Time), a bus that exists, and
 * per entry: Source, DetailType and Detail present, Detail a JSON object (else MalformedDetail),
 * no `aws.` source.
 */
export async function startEventBridge(buses: readonly string[], options: StandInOptions = {}): Promise<EventBridgeStandIn> {
  const events = new Map(buses.map((b) => [b, [] as BusEvent[]]));
  const budget = options.perSecond ? new Budget(options.perSecond) : undefined;
  const attempt = attemptsOf();
  let callNo = 0;
  const standIn = await serve({
    signingName: "events",
    targetPrefix: "AWSEvents",
    contentType: "application/x-amz-json-1.1",
    operation(name, body) {
      if (name !== "PutEvents") throw new AwsError("UnknownOperationException", name);
      const entries = body.Entries as Record<string, any>[];
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
        throw new AwsError("ValidationException", `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10`);
      }
      const size = (e: Record<string, any>) =>
        (e.Time ? 14 : 0) +
        Buffer.byteLength(String(e.Source ?? "")) +
        Buffer.byteLength(String(e.DetailType ?? "")) +
        Buffer.byteLength(String(e.Detail ?? "")) +
        ((e.Resources ?? []) as string[]).reduce((n, r) => n + Buffer.byteLength(r), 0);
      const total = entries.reduce((n, e) => n + size(e), 0);
      if (total > 256_000) throw new AwsError("ValidationException", `Total size of the entries in the request is over the limit (${total} bytes).`);
      for (const e of entries) {
        const bus = String(e.EventBusName ?? "default").replace(/^arn:aws:events:[^:]+:\d{12}:event-bus\//, "");
        if (!events.has(bus)) throw new AwsError("ResourceNotFoundException", `Event bus ${bus} does not exist.`);
      }
      const call = ++callNo;
      const results = entries.map((e) => {
        const bus = events.get(String(e.EventBusName ?? "default").replace(/^arn:aws:events:[^:]+:\d{12}:event-bus\//, "")) as BusEvent[];
        if (!e.Source || !e.DetailType || e.Detail === undefined) return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter(s) Source, DetailType and Detail are required." };
        if (String(e.Source).startsWith("aws.")) return { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: `Not authorized for the source ${e.Source}.` };
        let detail: unknown;
        try {
          detail = JSON.parse(String(e.Detail));
        } catch {
          detail = undefined;
        }
        if (typeof detail !== "object" || detail === null || Array.isArray(detail)) return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
        const code = options.fail?.({ body: String(e.Detail), attempt: attempt(String(e.Detail)) }) ?? (budget && !budget.take() ? "ThrottlingException" : undefined);
        if (code) return { ErrorCode: code, ErrorMessage: "scripted failure" };
        bus.push({ source: e.Source, detailType: e.DetailType, detail: String(e.Detail) });
        return { EventId: randomUUID() };
      });
      if (options.loseAnswer?.(call)) throw new AwsError("InternalException", "answer lost after the events were taken", 500);
      return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
    },
  });
  return { ...standIn, buses: events };
}
