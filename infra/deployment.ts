import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Where the stack deploys: what an ARN of a resource we do not create (or not yet) is built from. */
export interface Deployment {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** The deployment's partition, region and account, from the provider. */
export function deployment(opts?: pulumi.InvokeOutputOptions): pulumi.Output<Deployment> {
  return pulumi
    .all([aws.getPartitionOutput({}, opts).partition, aws.getRegionOutput({}, opts).region, aws.getCallerIdentityOutput({}, opts).accountId])
    .apply(([partition, region, accountId]) => ({ partition, region, accountId }));
}
