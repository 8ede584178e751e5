import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Where the stack deploys: what an ARN of a resource we do not create (or not yet) is built from. */
export interface Deployment {
  readonly partition: string;
  readonly region: string;
  /** The partition's DNS suffix (amazonaws.com; amazonaws.com.cn in China): service endpoints are `{service}.{region}.{dnsSuffix}`. */
  readonly dnsSuffix: string;
  readonly accountId: string;
}

/** The deployment's partition, region and account, from the provider. */
export function deployment(opts?: pulumi.InvokeOutputOptions): pulumi.Output<Deployment> {
  const p = aws.getPartitionOutput({}, opts);
  return pulumi
    .all([p.partition, p.dnsSuffix, aws.getRegionOutput({}, opts).region, aws.getCallerIdentityOutput({}, opts).accountId])
    .apply(([partition, dnsSuffix, region, accountId]) => ({ partition, dnsSuffix, region, accountId }));
}
