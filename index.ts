import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./infra/config";
import { createStack } from "./infra/stack";

// The module's exports are the stack outputs. Exporting createStack's whole result (rather than a
// hand-kept list of names) means every output it returns reaches `pulumi stack output`.
export = createStack(readStackConfig(new pulumi.Config()));
