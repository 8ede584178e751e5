import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { simulate } from "./iam";

/** An IAM policy document, as the Pulumi program declares it for a role. */
export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly Record<string, unknown>[];
}

/** One S3 request as the proxy understood it, and what it answered. */
export interface StrictRequest {
  readonly method: string;
  readonly bucket: string;
  readonly key: string | undefined;
  /** The query string, e.g. `uploadId=…` on the request that completes a multipart upload. */
  readonly query: string;
  readonly action: string;
  readonly resource: string;
  readonly status: number;
  /** "throttled" when answered 503 SlowDown, "denied" when IAM refused it, "kms-denied" when the role may not use the bucket's key. */
  readonly outcome: "forwarded" | "denied" | "kms-denied" | "throttled" | "blocked" | "missing-hidden" | "bad-digest";
  /** The KMS actions S3 took on the caller's behalf (SSE-KMS bucket). */
  readonly kms?: readonly string[];
  /** Body digests the request declared and the proxy checked against the bytes, as S3 does. */
  readonly verified?: readonly ("x-amz-content-sha256" | "x-amz-checksum-sha256")[];
}

export interface StrictS3 {
  readonly endpoint: string;
  readonly requests: StrictRequest[];
  /** Answer this share of requests (0–1, at random) with 503 SlowDown, as S3 does under load. */
  slowDown(rate: number): void;
  /** Answer the first `n` attempts of every distinct request (method, path, query) with 503 SlowDown. */
  slowDownFirst(n: number): void;
  /** Answer writes of matching keys with 403, as an explicit deny in a bucket policy would. */
  block(predicate: ((key: string) => boolean) | undefined): void;
  /** Whether the role may do `action` on `resource` with these condition keys (the simulator's answer). */
  allows(action: string, resource: string, context?: Record<string, string>): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The IAM action an S3 REST request needs (path-style addressing), per the S3 API reference's
 * "Permissions" section of each operation. Unknown operations map to undefined and are denied:
 * a stand-in must not be kinder than S3.
 */
export function s3Action(method: string, key: string | undefined, query: URLSearchParams): string | undefined {
  const has = (name: string) => query.has(name);
  if (key === undefined) {
    if ((method === "GET" && !has("uploads") && !has("acl") && !has("policy") && !has("versions")) || method === "HEAD") return "s3:ListBucket";
    if (method === "GET" && has("uploads")) return "s3:ListBucketMultipartUploads";
    if (method === "GET" && has("versions")) return "s3:ListBucketVersions";
    if (method === "POST" && has("delete")) return "s3:DeleteObject";
    return undefined;
  }
  if (has("acl")) return method === "PUT" ? "s3:PutObjectAcl" : method === "GET" ? "s3:GetObjectAcl" : undefined;
  if (has("tagging")) return method === "PUT" ? "s3:PutObjectTagging" : method === "GET" ? "s3:GetObjectTagging" : method === "DELETE" ? "s3:DeleteObjectTagging" : undefined;
  if (method === "GET" || method === "HEAD") return has("uploadId") ? "s3:ListMultipartUploadParts" : "s3:GetObject";
  // PutObject, CreateMultipartUpload (?uploads), UploadPart and CompleteMultipartUpload (?uploadId).
  if (method === "PUT" || method === "POST") return "s3:PutObject";
  if (method === "DELETE") return has("uploadId") ? "s3:AbortMultipartUpload" : "s3:DeleteObject";
  return undefined;
}

/** A bucket whose default encryption is SSE-KMS with this key, as S3 applies it to every object. */
export interface StrictS3Kms {
  readonly keyArn: string;
  readonly region: string;
  /** S3 Bucket Keys (the encryption context is the bucket's ARN, else the object's); default true, as the stack creates it. */
  readonly bucketKey?: boolean;
  /** The buckets encrypted with the key; default: every bucket behind the proxy. */
  readonly buckets?: readonly string[];
}

/**
 * The KMS actions S3 calls with the caller's permissions for a request to an SSE-KMS bucket
 * (S3 User Guide, "Using SSE-KMS": a write needs a data key; reading an object, and a multipart
 * upload — S3 decrypts the parts — need kms:Decrypt). Read strictly where the guide is vague: every
 * request of a multipart upload needs both, a HEAD needs Decrypt like a GET.
 */
export function kmsActions(method: string, query: URLSearchParams, action: string | undefined): string[] {
  if (action === "s3:GetObject") return ["kms:Decrypt"];
  if (action !== "s3:PutObject") return [];
  if (method === "POST" && query.has("uploadId")) return ["kms:Decrypt"];
  if (query.has("uploads") || query.has("uploadId")) return ["kms:GenerateDataKey", "kms:Decrypt"];
  return ["kms:GenerateDataKey"];
}

function errorXml(code: string, message: string, resource: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource><RequestId>STRICT</RequestId></Error>`;
}

/**
 * An S3 endpoint as strict as AWS for one role: a loopback proxy in front of a real S3 server
 * (s3rver) that evaluates every request against the role's identity policy with an IAM policy
 * simulator (`@cloud-copilot/iam-simulate`) and answers as S3 does:
 * - `403 AccessDenied` when the policy does not allow the action on the resource (with the
 *   `s3:prefix` condition key of a listing);
 * - a GET or HEAD of a missing key is `404` only when the role may `s3:ListBucket` on the bucket
 *   with no prefix condition; otherwise `403`, as S3 hides which keys exist (the stricter
 *   reading where S3's documentation leaves a case open);
 * - `AbortMultipartUpload` answers `204` as S3 does (s3rver itself answers 405);
 * - optionally `503 SlowDown` to a share of requests, and 403 for writes to blocked keys;
 * - with `kms`, a bucket encrypted by default with that key: each request's KMS actions (see
 *   `kmsActions`) are evaluated too, as S3 calls them for the caller — through S3
 *   (`kms:ViaService` s3.REGION.amazonaws.com) with the encryption context `aws:s3:arn` — and a
 *   role that may not use the key gets `403 AccessDenied` naming the KMS action and key.
 */
export async function startStrictS3(upstream: string, policy: PolicyDocument, roleName = "synthgen-role", options: { readonly kms?: StrictS3Kms } = {}): Promise<StrictS3> {
  const target = new URL(upstream);
  const requests: StrictRequest[] = [];
  const decisions = new Map<string, Promise<boolean>>();
  let slowDownRate = 0;
  let slowDownAttempts = 0;
  const attempts = new Map<string, number>();
  let blocked: ((key: string) => boolean) | undefined;

  const allows = (action: string, resource: string, context: Record<string, string> = {}): Promise<boolean> => {
    const id = JSON.stringify([action, resource, context]);
    let decision = decisions.get(id);
    if (!decision) {
      decision = simulate(policy, action, resource, context, roleName);
      decisions.set(id, decision);
    }
    return decision;
  };

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, resource: string) => {
    req.resume();
    const send = () => {
      if (req.method === "HEAD") {
        res.writeHead(status, { "x-amz-request-id": "STRICT" });
        res.end();
      } else {
        res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": "STRICT" });
        res.end(errorXml(code, message, resource));
      }
    };
    if (req.complete) send();
    else req.on("end", send);
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://s3.local");
    const [, bucket = "", ...rest] = url.pathname.split("/");
    const key = rest.join("/") === "" ? undefined : decodeURIComponent(rest.join("/"));
    const method = req.method ?? "GET";
    const action = s3Action(method, key, url.searchParams);
    const bucketArn = `arn:aws:s3:::${decodeURIComponent(bucket)}`;
    const resource = key === undefined ? bucketArn : `${bucketArn}/${key}`;
    let verified: StrictRequest["verified"];
    let kmsUsed: string[] | undefined;
    const record = (status: number, outcome: StrictRequest["outcome"]) =>
      requests.push({
        method,
        bucket,
        key,
        query: url.search.slice(1),
        action: action ?? "unknown",
        resource,
        status,
        outcome,
        ...(verified ? { verified } : {}),
        ...(kmsUsed?.length ? { kms: kmsUsed } : {}),
      });

    const attempt = (attempts.get(`${method} ${req.url}`) ?? 0) + 1;
    attempts.set(`${method} ${req.url}`, attempt);
    if ((slowDownRate > 0 && Math.random() < slowDownRate) || attempt <= slowDownAttempts) {
      record(503, "throttled");
      return answer(req, res, 503, "SlowDown", "Please reduce your request rate.", resource);
    }
    const context: Record<string, string> = {};
    if (action === "s3:ListBucket" && url.searchParams.has("prefix")) context["s3:prefix"] = url.searchParams.get("prefix") ?? "";
    let allowed = false;
    try {
      allowed = action !== undefined && (await allows(action, resource, context));
    } catch (err) {
      record(500, "denied");
      return answer(req, res, 500, "InternalError", String(err), resource);
    }
    if (!allowed) {
      record(403, "denied");
      return answer(
        req,
        res,
        403,
        "AccessDenied",
        `User: ${roleName} is not authorized to perform: ${action ?? method} on resource: "${resource}" because no identity-based policy allows it`,
        resource,
      );
    }
    const kms = options.kms;
    const kmsNeeded = kms && key !== undefined && (kms.buckets === undefined || kms.buckets.includes(bucket)) ? kmsActions(method, url.searchParams, action) : [];
    kmsUsed = kmsNeeded;
    for (const kmsAction of kmsNeeded) {
      const context = { "kms:ViaService": `s3.${kms!.region}.amazonaws.com`, "kms:EncryptionContext:aws:s3:arn": kms!.bucketKey === false ? resource : bucketArn };
      if (!(await allows(kmsAction, kms!.keyArn, context))) {
        record(403, "kms-denied");
        return answer(
          req,
          res,
          403,
          "AccessDenied",
          `User: ${roleName} is not authorized to perform: ${kmsAction} on resource: ${kms!.keyArn} because no identity-based policy allows the ${kmsAction} action`,
          resource,
        );
      }
    }
    if (blocked && key !== undefined && (method === "PUT" || method === "POST") && blocked(key)) {
      record(403, "blocked");
      return answer(req, res, 403, "AccessDenied", `Access Denied by bucket policy for "${resource}"`, resource);
    }
    if (action === "s3:AbortMultipartUpload") {
      record(204, "forwarded");
      req.resume();
      req.on("end", () => {
        res.writeHead(204);
        res.end();
      });
      return;
    }
    // S3 checks a body against the digests its request declares and stores nothing on a mismatch:
    // the signed payload hash (unless UNSIGNED-PAYLOAD or aws-chunked streaming) and a
    // full-body x-amz-checksum-sha256. Such bodies are read whole here, checked, then forwarded.
    const payloadHash = String(req.headers["x-amz-content-sha256"] ?? "");
    const declaredSha256 = req.headers["x-amz-checksum-sha256"];
    const signedHash = /^[0-9a-f]{64}$/.test(payloadHash);
    let body: Buffer | undefined;
    if (method === "PUT" && (signedHash || typeof declaredSha256 === "string")) {
      const parts: Buffer[] = [];
      for await (const part of req) parts.push(part as Buffer);
      body = Buffer.concat(parts);
      const digest = createHash("sha256").update(body).digest();
      const checks: ("x-amz-content-sha256" | "x-amz-checksum-sha256")[] = [];
      if (signedHash) {
        if (digest.toString("hex") !== payloadHash) {
          record(400, "bad-digest");
          return answer(req, res, 400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", resource);
        }
        checks.push("x-amz-content-sha256");
      }
      if (typeof declaredSha256 === "string") {
        if (digest.toString("base64") !== declaredSha256) {
          record(400, "bad-digest");
          return answer(req, res, 400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.", resource);
        }
        checks.push("x-amz-checksum-sha256");
      }
      verified = checks;
    }
    const headers = { ...req.headers };
    const forward = request({ host: target.hostname, port: target.port, method, path: req.url, headers }, async (up) => {
      const status = up.statusCode ?? 502;
      if (status === 404 && action === "s3:GetObject" && !(await allows("s3:ListBucket", bucketArn))) {
        up.resume();
        record(403, "missing-hidden");
        res.writeHead(403, { "content-type": "application/xml", "x-amz-request-id": "STRICT" });
        res.end(method === "HEAD" ? undefined : errorXml("AccessDenied", "Access Denied", resource));
        return;
      }
      record(status, "forwarded");
      res.writeHead(status, up.headers);
      up.pipe(res);
    });
    forward.on("error", () => res.destroy());
    if (body === undefined) req.pipe(forward);
    else forward.end(body);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    slowDown(rate) {
      slowDownRate = rate;
    },
    slowDownFirst(n) {
      slowDownAttempts = n;
      attempts.clear();
    },
    block(predicate) {
      blocked = predicate;
    },
    allows,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
