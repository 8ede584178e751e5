import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface DataBucketArgs {
  /** Write into this existing bucket instead of creating one; its settings are left alone. */
  readonly existingBucketName?: string;
  /** Generated objects live under this prefix (normalised, may be empty). */
  readonly keyPrefix: string;
  /** Expire generated objects after this many days; never when absent. */
  readonly expireAfterDays?: number;
  /** Let `pulumi destroy` delete a created bucket that still holds objects. */
  readonly forceDestroy: boolean;
  /** SSE-KMS: create a key for the created bucket, or the ARN of the key (an existing bucket's, or one the created bucket uses). */
  readonly kmsKey?: { readonly create: true } | { readonly arn: string };
}

/**
 * The landing bucket: created encrypted, private, and with a lifecycle that cleans up aborted
 * multipart uploads after a day (and generated objects, if asked); or an existing bucket by name.
 */
export class DataBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly bucket?: aws.s3.Bucket;
  readonly encryption?: aws.s3.BucketServerSideEncryptionConfiguration;
  readonly publicAccessBlock?: aws.s3.BucketPublicAccessBlock;
  readonly lifecycle?: aws.s3.BucketLifecycleConfiguration;
  /** The key the bucket's objects are encrypted with (SSE-KMS), when there is one. */
  readonly kmsKeyArn?: pulumi.Output<string>;
  readonly kmsKey?: aws.kms.Key;

  constructor(name: string, args: DataBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synthgen:index:DataBucket", name, {}, opts);
    if (args.existingBucketName) {
      if (args.expireAfterDays !== undefined) {
        throw new Error("expireAfterDays applies only to a bucket the stack creates; unset inputBucketName or expireAfterDays");
      }
      const partition = aws.getPartitionOutput({}, { parent: this }).partition;
      if (args.kmsKey && "create" in args.kmsKey) throw new Error("a KMS key is created for the bucket the stack creates; give an existing bucket's key by its ARN");
      if (args.kmsKey && "arn" in args.kmsKey) this.kmsKeyArn = pulumi.output(args.kmsKey.arn);
      this.bucketName = pulumi.output(args.existingBucketName);
      this.bucketArn = pulumi.interpolate`arn:${partition}:s3:::${args.existingBucketName}`;
    } else {
      const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: args.forceDestroy }, { parent: this });
      this.bucket = bucket;
      if (args.kmsKey && "create" in args.kmsKey) {
        this.kmsKey = new aws.kms.Key(`${name}-key`, { description: "synthgen landing bucket (SSE-KMS default encryption)", enableKeyRotation: true, deletionWindowInDays: 7 }, { parent: this });
        this.kmsKeyArn = this.kmsKey.arn;
      } else if (args.kmsKey) this.kmsKeyArn = pulumi.output(args.kmsKey.arn);
      // S3 Bucket Keys: one data key per bucket for a while, not a KMS call per object.
      const byDefault = this.kmsKeyArn ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.kmsKeyArn } : { sseAlgorithm: "AES256" };
      this.encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: byDefault, bucketKeyEnabled: true }] },
        { parent: this },
      );
      this.publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        { parent: this },
      );
      this.lifecycle = new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, { bucket: bucket.id, rules: lifecycleRules(args.keyPrefix, args.expireAfterDays) }, { parent: this });
      this.bucketName = bucket.bucket;
      this.bucketArn = bucket.arn;
    }
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, ...(this.kmsKeyArn ? { kmsKeyArn: this.kmsKeyArn } : {}) });
  }
}

/** Lifecycle rules: always abort incomplete multipart uploads; optionally expire generated objects. */
export function lifecycleRules(keyPrefix: string, expireAfterDays: number | undefined): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
    { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
  ];
  if (expireAfterDays !== undefined) {
    rules.push({ id: "expire-generated-objects", status: "Enabled", filter: { prefix: keyPrefix }, expiration: { days: expireAfterDays } });
  }
  return rules;
}
