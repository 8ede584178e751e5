import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./infra/config";
import { createStack } from "./infra/stack";

const outputs = createStack(readStackConfig(new pulumi.Config()));

export const functionName = outputs.functionName;
export const functionArn = outputs.functionArn;
export const bucketName = outputs.bucketName;
export const alertTopicArn = outputs.alertTopicArn;
export const deadLetterQueueUrl = outputs.deadLetterQueueUrl;
export const invokeCommand = outputs.invokeCommand;
