import { runSimulation } from "@cloud-copilot/iam-simulate";

export const ACCOUNT = "123456789012";

/**
 * Whether a role with this identity policy may do `action` on `resource` with these condition
 * keys, as the IAM policy simulator (`@cloud-copilot/iam-simulate`) evaluates it.
 */
export async function simulate(policy: object, action: string, resource: string, context: Record<string, string> = {}, roleName = "synthgen-role"): Promise<boolean> {
  const r = await runSimulation(
    {
      identityPolicies: [{ name: "role-policy", policy: policy as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: { action, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/session`, resource: { accountId: ACCOUNT, resource }, contextVariables: context },
    },
    {},
  );
  if (r.resultType === "error") throw new Error(`IAM simulation of ${action} on ${resource} failed: ${JSON.stringify(r.errors)}`);
  return r.overallResult === "Allowed";
}
