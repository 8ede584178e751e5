/**
 * IAM documents as plain functions of exact ARNs, so they are tested without mocks. No `*`
 * action anywhere; the only `*` resource is X-Ray's, which has no resource-level permissions.
 */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  /** Absent only in trust policies, which name a principal instead. */
  readonly Resource?: string | readonly string[];
  readonly Principal?: Record<string, string>;
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

const document = (statements: readonly PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });

/** Lets one AWS service assume a role. */
export function assumeRolePolicy(service: string): PolicyDocument {
  return document([{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }]);
}

/** Write (single PUT and multipart, including abort) under one key prefix of one bucket. */
export function bucketWriteStatement(bucketArn: string, keyPrefix: string): PolicyStatement {
  return {
    Sid: "WriteGeneratedObjects",
    Effect: "Allow",
    // s3:PutObject also covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
    Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
    Resource: `${bucketArn}/${keyPrefix}*`,
  };
}

/**
 * Reading back under the same prefix, for fan-out and stored datasets:
 * - listing keys under the prefix only (`s3:prefix` condition): S3 answers 403, not 404, for a
 *   missing key to a caller without `s3:ListBucket`, so the code learns which keys exist by
 *   listing and reads only keys that exist;
 * - `GetObject` (and `HeadObject`) of objects under the prefix: resume reads an object's
 *   metadata, the manifest step reads shard results, a stored dataset is read;
 * - deleting only a stale failed manifest (`{prefix}_manifests/{run_id}.failed.json`, also under
 *   a request's own sub-prefix), never data.
 */
export function bucketFanOutStatements(bucketArn: string, keyPrefix: string): PolicyStatement[] {
  return [
    {
      Sid: "ListUnderKeyPrefix",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: bucketArn,
      Condition: { StringLike: { "s3:prefix": `${keyPrefix}*` } },
    },
    { Sid: "ReadGeneratedObjects", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/${keyPrefix}*` },
    {
      Sid: "ReplaceFailedManifests",
      Effect: "Allow",
      Action: "s3:DeleteObject",
      Resource: [`${bucketArn}/${keyPrefix}_manifests/*.failed.json`, `${bucketArn}/${keyPrefix}*/_manifests/*.failed.json`],
    },
  ];
}

/**
 * Use of the landing bucket's SSE-KMS key, as S3 needs it on the caller's behalf: a data key for
 * every write (`kms:GenerateDataKey`), and `kms:Decrypt` to read an object back and to complete
 * a multipart upload (S3 decrypts the parts). Only on that key, only through S3 in the stack's
 * Region (`kms:ViaService`), and only for that bucket's objects (the encryption context S3 sets
 * is the bucket's ARN with S3 Bucket Keys, else the object's).
 */
export function bucketKeyStatement(keyArn: string, bucketArn: string, viaService: string): PolicyStatement {
  return keyThroughS3("UseBucketKeyThroughS3", ["kms:GenerateDataKey", "kms:Decrypt"], keyArn, viaService, [bucketArn, `${bucketArn}/*`]);
}

/** Use of a KMS key only as S3 uses it on the caller's behalf: through S3 in one Region, for the given encryption contexts (a bucket's ARN with S3 Bucket Keys, else its objects'). */
function keyThroughS3(sid: string, actions: string[], keyArn: string, viaService: string, s3Arns: string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Action: actions,
    Resource: keyArn,
    Condition: {
      StringEquals: { "kms:ViaService": viaService },
      StringLike: { "kms:EncryptionContext:aws:s3:arn": s3Arns },
    },
  };
}

/**
 * What Lambda needs of a function's role to attach it to a VPC (the network interfaces it
 * creates in the function's subnets): creating an interface only in those subnets with those
 * security groups; deleting and (un)assigning addresses of interfaces in the stack's Region and
 * account; and the EC2 `Describe*` calls, which have no resource-level permissions (`*`).
 */
export function vpcAccessStatements(d: { partition: string; region: string; accountId: string }, vpc: { subnetIds: readonly string[]; securityGroupIds: readonly string[] }): PolicyStatement[] {
  const ec2 = `arn:${d.partition}:ec2:${d.region}:${d.accountId}`;
  return [
    {
      Sid: "CreateFunctionInterfaces",
      Effect: "Allow",
      Action: "ec2:CreateNetworkInterface",
      Resource: [`${ec2}:network-interface/*`, ...vpc.subnetIds.map((id) => `${ec2}:subnet/${id}`), ...vpc.securityGroupIds.map((id) => `${ec2}:security-group/${id}`)],
    },
    {
      Sid: "ManageFunctionInterfaces",
      Effect: "Allow",
      Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
      Resource: `${ec2}:network-interface/*`,
    },
    // No resource-level permissions exist for these.
    { Sid: "DescribeNetwork", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
  ];
}

/** What a fan-out state machine may do: invoke one function and run its own Distributed Map children. */
export function stateMachineStatements(functionArn: string, stateMachineArn: string, executionsArn: string): PolicyStatement[] {
  return [
    { Sid: "InvokeGenerator", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: [functionArn, `${functionArn}:*`] },
    { Sid: "RunMapChildren", Effect: "Allow", Action: "states:StartExecution", Resource: stateMachineArn },
    { Sid: "TrackMapChildren", Effect: "Allow", Action: ["states:DescribeExecution", "states:StopExecution"], Resource: executionsArn },
  ];
}

/** PutRecords on one Kinesis data stream, and listing its shards for the emit fan-out's quota check; nothing else. */
export function kinesisPutStatement(streamArn: string): PolicyStatement {
  return { Sid: "PutRecordsOnOneStream", Effect: "Allow", Action: ["kinesis:PutRecords", "kinesis:ListShards"], Resource: streamArn };
}

/** PutRecordBatch on one Firehose stream, nothing else. */
export function firehosePutStatement(deliveryStreamArn: string): PolicyStatement {
  return { Sid: "PutRecordBatchOnOneStream", Effect: "Allow", Action: "firehose:PutRecordBatch", Resource: deliveryStreamArn };
}

/** SendMessage (which also authorizes SendMessageBatch) on one queue, nothing else. */
export function sqsSendStatement(queueArn: string): PolicyStatement {
  return { Sid: "SendMessagesToOneQueue", Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn };
}

/**
 * PutEvents on one bus, only with synthgen's sources (`synthgen.{dataset}`). `events:source` is
 * multi-valued (every entry's source), so every value must match, and the key must be present.
 */
export function eventBridgePutStatement(eventBusArn: string): PolicyStatement {
  return {
    Sid: "PutEventsOnOneBus",
    Effect: "Allow",
    Action: "events:PutEvents",
    Resource: eventBusArn,
    Condition: { "ForAllValues:StringLike": { "events:source": "synthgen.*" }, Null: { "events:source": "false" } },
  };
}

/**
 * The ARN of an SQS queue from its URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`): its own
 * account and Region (the deployment's Region when the host does not name one).
 */
export function sqsQueueArn(partition: string, region: string, queueUrl: string): string {
  const m = /^https?:\/\/([^/]+)\/(\d{12})\/([^/]+)$/.exec(queueUrl);
  if (!m) throw new Error(`not an SQS queue URL: ${queueUrl}`);
  const hostRegion = /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(m[1] as string)?.[1];
  return `arn:${partition}:sqs:${hostRegion ?? region}:${m[2]}:${m[3]}`;
}

/**
 * What the emit fan-out keeps in the bucket, under `{prefix}_emit/` only: its emitters' summaries
 * and started markers, and the run's report — written, read back, and listed (a missing key is a
 * 403 without `s3:ListBucket`, so which summaries exist is learned by listing).
 */
export function emitRunStatements(bucketArn: string, keyPrefix: string): PolicyStatement[] {
  return [
    { Sid: "ListEmitRuns", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn, Condition: { StringLike: { "s3:prefix": `${keyPrefix}_emit/*` } } },
    { Sid: "ReadWriteEmitRuns", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: `${bucketArn}/${keyPrefix}_emit/*` },
  ];
}

/**
 * Reading stored definitions and nothing else of the bucket: listing `{prefix}_datasets/` (which
 * keys exist: a missing key is a 403 without `s3:ListBucket`) and reading what it holds.
 */
export function storedDefinitionStatements(bucketArn: string, keyPrefix: string): PolicyStatement[] {
  return [
    { Sid: "ListStoredDatasets", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn, Condition: { StringLike: { "s3:prefix": `${keyPrefix}_datasets/*` } } },
    { Sid: "ReadStoredDatasets", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/${keyPrefix}_datasets/*` },
  ];
}

/**
 * Reading the pipeline output that verify checks, and nothing else of its bucket: listing under
 * its prefix only (so a missing object is learned by listing, as S3 answers 403 without it) and
 * reading the objects there. Verify's digests and reports go under `{keyPrefix}_verify/` of the
 * landing bucket, which generate-files already writes and reads.
 */
export function verifyOutputStatements(output: { bucketArn: string; prefix: string; kmsKeyArn?: string | undefined; viaService: string }): PolicyStatement[] {
  return [
    { Sid: "ListVerifiedOutput", Effect: "Allow", Action: "s3:ListBucket", Resource: output.bucketArn, Condition: { StringLike: { "s3:prefix": `${output.prefix}*` } } },
    { Sid: "ReadVerifiedOutput", Effect: "Allow", Action: "s3:GetObject", Resource: `${output.bucketArn}/${output.prefix}*` },
    // An SSE-KMS output bucket: S3 decrypts what is read with the reader's permission on its key —
    // only that key, only through S3 in the stack's Region, only for that bucket (its ARN is the
    // encryption context with S3 Bucket Keys) or the objects under the prefix (without them).
    ...(output.kmsKeyArn ? [keyThroughS3("DecryptVerifiedOutput", ["kms:Decrypt"], output.kmsKeyArn, output.viaService, [output.bucketArn, `${output.bucketArn}/${output.prefix}*`])] : []),
  ];
}

/** Reading one secret's value, nothing else. */
export function secretReadStatement(secretArn: string): PolicyStatement {
  return { Sid: "ReadApiKeySecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArn };
}

/** Reading the database's credentials: its one secret, and the secret's key only through Secrets Manager. */
export function databaseSecretStatements(secretArn: string, keyArn: string | undefined, secretsManager: string): PolicyStatement[] {
  return [
    { Sid: "ReadDatabaseSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArn },
    ...(keyArn
      ? [
          {
            Sid: "DecryptDatabaseSecret",
            Effect: "Allow" as const,
            Action: "kms:Decrypt",
            Resource: keyArn,
            Condition: { StringEquals: { "kms:ViaService": secretsManager } },
          },
        ]
      : []),
  ];
}

/** The ARN of a Kinesis data stream by name, in the deployment's partition, region and account. */
export function kinesisStreamArn(partition: string, region: string, accountId: string, streamName: string): string {
  return `arn:${partition}:kinesis:${region}:${accountId}:stream/${streamName}`;
}

/** Everything a generator function needs besides its sink: its own logs, its DLQ, tracing. */
export function functionBaseStatements(args: { logGroupArn: string; dlqArn: string; tracing: boolean; dlqKey?: { keyArn: string; viaService: string } }): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    { Sid: "OwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${args.logGroupArn}:*` },
    // Async invocations that exhaust their retries are sent here by Lambda with the role's rights.
    { Sid: "OwnDeadLetterQueue", Effect: "Allow", Action: "sqs:SendMessage", Resource: args.dlqArn },
  ];
  if (args.dlqKey) {
    // An SSE-KMS queue: SQS asks KMS for a data key with the sender's rights.
    statements.push({
      Sid: "DeadLetterQueueKey",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: args.dlqKey.keyArn,
      Condition: { StringEquals: { "kms:ViaService": args.dlqKey.viaService } },
    });
  }
  if (args.tracing) {
    statements.push({ Sid: "XRay", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" });
  }
  return statements;
}

/**
 * The key policy of the stack's operations key (`opsKmsKey: create`), which encrypts the
 * functions' log groups and dead-letter queues: the account administers it through IAM (the
 * default statement); CloudWatch Logs in the Region may use it for this account's log groups
 * only (`kms:EncryptionContext:aws:logs:arn`); EventBridge may put a failed scheduled event on
 * an encrypted DLQ, only for this account's rules (`aws:SourceArn`, `aws:SourceAccount`).
 */
export function opsKeyPolicy(d: { partition: string; region: string; accountId: string; dnsSuffix: string }): PolicyDocument {
  return document([
    { Sid: "EnableIamPolicies", Effect: "Allow", Principal: { AWS: `arn:${d.partition}:iam::${d.accountId}:root` }, Action: "kms:*", Resource: "*" },
    {
      Sid: "CloudWatchLogsForThisAccount",
      Effect: "Allow",
      Principal: { Service: `logs.${d.region}.${d.dnsSuffix}` },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:DescribeKey"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${d.partition}:logs:${d.region}:${d.accountId}:log-group:*` } },
    },
    {
      Sid: "EventBridgeDeadLetters",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: "*",
      Condition: { ArnLike: { "aws:SourceArn": `arn:${d.partition}:events:${d.region}:${d.accountId}:rule/*` }, StringEquals: { "aws:SourceAccount": d.accountId } },
    },
  ]);
}

/** A role's inline policy document from its statements. */
export function rolePolicy(statements: readonly PolicyStatement[]): PolicyDocument {
  return document(statements);
}

/** Lets one EventBridge rule put events that exhausted their retries into the DLQ. */
export function deadLetterQueuePolicy(queueArn: string, ruleArn: string): PolicyDocument {
  return document([
    {
      Sid: "ScheduleDeadLetters",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
    },
  ]);
}
