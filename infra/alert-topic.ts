import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlertTopicArgs {
  /** Adds an email subscription (confirmed by the recipient) when set. */
  readonly alertEmail?: string;
}

/** The SNS topic every alarm notifies, with an optional email subscription. */
export class AlertTopic extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly emailSubscription?: aws.sns.TopicSubscription;

  constructor(name: string, args: AlertTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synthgen:index:AlertTopic", name, {}, opts);
    this.topic = new aws.sns.Topic(`${name}-topic`, {}, { parent: this });
    if (args.alertEmail) {
      this.emailSubscription = new aws.sns.TopicSubscription(`${name}-email`, { topic: this.topic.arn, protocol: "email", endpoint: args.alertEmail }, { parent: this });
    }
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
