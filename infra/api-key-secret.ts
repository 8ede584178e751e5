import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ApiKeySecretArgs {
  readonly description: string;
  /** The key, from a Pulumi secret config value: encrypted in the state, never in plain text. */
  readonly value: pulumi.Input<string>;
}

/** A Secrets Manager secret with its current value: for keys a function reads at run time. */
export class ApiKeySecret extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  readonly version: aws.secretsmanager.SecretVersion;

  constructor(name: string, args: ApiKeySecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synthgen:index:ApiKeySecret", name, {}, opts);
    this.secret = new aws.secretsmanager.Secret(name, { description: args.description, recoveryWindowInDays: 7 }, { parent: this });
    this.version = new aws.secretsmanager.SecretVersion(`${name}-value`, { secretId: this.secret.id, secretString: args.value }, { parent: this });
    this.registerOutputs({ arn: this.secret.arn });
  }
}
