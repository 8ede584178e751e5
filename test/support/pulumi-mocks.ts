import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/** A resource the program asked the mock engine to create, with its resolved inputs. */
export interface MockResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

const created: MockResource[] = [];

/**
 * Installs Pulumi's mock runtime: records every resource, gives each a plausible ARN/name/URL,
 * and throws on any provider function call it does not know, so a test fails loudly instead of
 * hanging. Must run before the program's modules create resources.
 */
export function installMocks(): void {
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs });
        const region = "us-east-1";
        const account = "123456789012";
        const module = args.type.split(":")[1] ?? "x";
        // ARN service names where they differ from the provider module (cloudwatch/logGroup is logs).
        const service = args.type.includes("logGroup:") ? "logs" : args.type.includes("eventRule:") ? "events" : module.split("/")[0]!;
        const physical = args.inputs.name ?? (args.inputs.namePrefix ? `${args.inputs.namePrefix}abc123` : `${args.name}-abc123`);
        const state: Record<string, unknown> = {
          ...args.inputs,
          name: physical,
          arn: service === "s3" ? `arn:aws:s3:::${physical}` : `arn:aws:${service}:${region}:${account}:${physical}`,
        };
        if (args.type === "aws:s3/bucket:Bucket") state.bucket = physical;
        // A published function's first version, and an alias's ARN: the function's, qualified by the alias.
        if (args.type === "aws:lambda/function:Function") state.version = args.inputs.publish ? "1" : "$LATEST";
        if (args.type === "aws:lambda/alias:Alias") state.arn = `arn:aws:lambda:${region}:${account}:function:${args.inputs.functionName}:${args.inputs.name}`;
        if (args.type === "aws:kms/key:Key") {
          // A key's ARN names it by its id, a UUID, as KMS does.
          const id = createHash("sha256").update(args.name).digest("hex");
          state.keyId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
          state.arn = `arn:aws:kms:${region}:${account}:key/${state.keyId}`;
        }
        if (args.type === "aws:sfn/stateMachine:StateMachine") state.arn = `arn:aws:states:${region}:${account}:stateMachine:${physical}`;
        if (args.type === "aws:sqs/queue:Queue") state.url = `https://sqs.${region}.amazonaws.com/${account}/${physical}`;
        return { id: `${physical}-id`, state };
      },
      call(args) {
        if (args.token === "aws:index/getPartition:getPartition") return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        if (args.token === "aws:index/getRegion:getRegion") return { region: "us-east-1", name: "us-east-1", id: "us-east-1" };
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
          return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/test", userId: "AIDATEST", id: "123456789012" };
        }
        throw new Error(`unexpected provider call ${args.token} in a unit test`);
      },
    },
    "synthgen",
    "dev",
    false,
  );
}

/** Every resource created since the last `resetResources()`. */
export function resources(): readonly MockResource[] {
  return created;
}

export function resetResources(): void {
  created.length = 0;
}

/** All resources of one type. */
export function ofType(type: string): MockResource[] {
  return created.filter((r) => r.type === type);
}

/** The only resource of a type; fails when there is not exactly one. */
export function single(type: string): MockResource {
  const found = ofType(type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/** An output's value, for `await` in async tests (assertions inside `apply` would only time out). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Waits until the mock engine has been asked for every resource declared so far. */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  let before = -1;
  while (before !== created.length) {
    before = created.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
