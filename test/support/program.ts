import * as pulumi from "@pulumi/pulumi";
import { installMocks, ofType, resetResources, resources, settle, type MockResource } from "./pulumi-mocks";

const PROGRAM = require.resolve("../../index");

/** What `pulumi up` would see of the program for one stack config. */
export interface LoadedProgram {
  /** The program module's exports: exactly what `pulumi stack output` lists. */
  readonly exports: Record<string, unknown>;
  /** Every resource the program declared. */
  readonly resources: readonly MockResource[];
  /** The resolved value of every export that is an Output (plain values as they are). */
  readonly outputs: Record<string, unknown>;
}

function resolvedValue(v: unknown): Promise<unknown> {
  return pulumi.Output.isInstance(v) ? new Promise((resolve) => (v as pulumi.Output<unknown>).apply((x) => resolve(x))) : Promise.resolve(v);
}

/**
 * Loads the Pulumi program (`index.ts`, what `pulumi up` runs) under Pulumi's mock runtime with
 * this stack config (`pulumi config set KEY VALUE`), and returns its exports and resources. The
 * module is loaded afresh each time, so its module-level `new pulumi.Config()` reads this config.
 */
export async function loadProgram(config: Record<string, string> = {}): Promise<LoadedProgram> {
  installMocks();
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`synthgen:${k}`, v])));
  resetResources();
  delete require.cache[PROGRAM];
  const exports = { ...(require(PROGRAM) as Record<string, unknown>) };
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exports)) outputs[k] = await resolvedValue(v);
  await settle();
  return { exports, resources: [...resources()], outputs };
}

/** An inline role policy the program declared, by the component name (`generate-files` → `generate-files-policy`). */
export function rolePolicyOf(program: LoadedProgram, component: string): { Version: string; Statement: Record<string, any>[] } {
  const policy = program.resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `${component}-policy`);
  if (!policy)
    throw new Error(
      `the program declares no ${component}-policy (have: ${ofType("aws:iam/rolePolicy:RolePolicy")
        .map((p) => p.name)
        .join(", ")})`,
    );
  return JSON.parse(policy.inputs.policy as string) as { Version: string; Statement: Record<string, any>[] };
}

/** The state machine definition the program declared for a fan-out (`fan-out` for files, `emit-fan-out` for events). */
export function fanOutDefinitionOf(program: LoadedProgram, component = "fan-out"): Record<string, any> {
  const machine = program.resources.find((r) => r.type === "aws:sfn/stateMachine:StateMachine" && r.name === `${component}-machine`);
  if (!machine) throw new Error(`the program declares no ${component}-machine`);
  return JSON.parse(machine.inputs.definition as string) as Record<string, any>;
}

/** A function's declared settings (memorySize, timeout, handler, environment), by component name. */
export function functionOf(program: LoadedProgram, component: string): { memorySize: number; timeout: number; handler: string; environment: Record<string, string> } {
  const fn = program.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === `${component}-function`);
  if (!fn) throw new Error(`the program declares no ${component}-function`);
  return { memorySize: fn.inputs.memorySize, timeout: fn.inputs.timeout, handler: fn.inputs.handler, environment: { ...fn.inputs.environment.variables } };
}
