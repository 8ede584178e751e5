import { runSimulation } from "@cloud-copilot/iam-simulate";

export const ACCOUNT = "123456789012";

/**
 * The key policy KMS gives a key created without one (and `aws.kms.Key` without `policy`): the
 * account may use it as its IAM policies allow. Without a key policy that allows, KMS denies
 * whatever the identity policy says, as the simulator does too.
 */
export const DEFAULT_KEY_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }],
};

/**
 * The simulator (0.1.x) matches templated condition keys only in the `prefix/variable` form
 * (`aws:PrincipalTag/x`) and ignores KMS's `kms:EncryptionContext:<key>`, so a condition on it
 * would always fail. It is evaluated through a string key the simulator knows for KMS's
 * cryptographic operations, with the same operators, renamed in the policy and the request alike.
 */
const ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:s3:arn";
const STAND_IN_KEY = "kms:RequestAlias";

/**
 * Whether a role with this identity policy may do `action` on `resource` with these condition
 * keys, as the IAM policy simulator (`@cloud-copilot/iam-simulate`) evaluates it. A KMS key is
 * evaluated with its key policy (by default the one KMS gives a new key).
 */
export async function simulate(
  policy: object,
  action: string,
  resource: string,
  context: Record<string, string> = {},
  roleName = "synthgen-role",
  keyPolicy: object = DEFAULT_KEY_POLICY,
): Promise<boolean> {
  let identity = policy;
  let variables = context;
  const kms = action.startsWith("kms:");
  if (kms) {
    const text = JSON.stringify(policy);
    if (text.includes(STAND_IN_KEY)) throw new Error(`the policy uses ${STAND_IN_KEY}, which stands in for ${ENCRYPTION_CONTEXT} here`);
    identity = JSON.parse(text.replaceAll(ENCRYPTION_CONTEXT, STAND_IN_KEY)) as object;
    variables = Object.fromEntries(Object.entries(context).map(([k, v]) => [k === ENCRYPTION_CONTEXT ? STAND_IN_KEY : k, v]));
  }
  const r = await runSimulation(
    {
      identityPolicies: [{ name: "role-policy", policy: identity as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(kms ? { resourcePolicy: keyPolicy } : {}),
      request: { action, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/session`, resource: { accountId: ACCOUNT, resource }, contextVariables: variables },
    },
    {},
  );
  if (r.resultType === "error") throw new Error(`IAM simulation of ${action} on ${resource} failed: ${JSON.stringify(r.errors)}`);
  return r.overallResult === "Allowed";
}

/**
 * Whether a service principal (`logs.us-east-1.amazonaws.com`, `events.amazonaws.com`) may do
 * `action` on a resource by that resource's policy alone (a KMS key policy), as the simulator
 * evaluates it. `kms:EncryptionContext:aws:logs:arn` goes through the same stand-in key as above.
 */
export async function simulateServiceAccess(resourcePolicy: object, service: string, action: string, resource: string, context: Record<string, string> = {}): Promise<boolean> {
  const logsContext = "kms:EncryptionContext:aws:logs:arn";
  const text = JSON.stringify(resourcePolicy);
  if (text.includes(STAND_IN_KEY)) throw new Error(`the policy uses ${STAND_IN_KEY}, which stands in for ${logsContext} here`);
  const policy = JSON.parse(text.replaceAll(logsContext, STAND_IN_KEY)) as object;
  const variables = Object.fromEntries(Object.entries(context).map(([k, v]) => [k === logsContext ? STAND_IN_KEY : k, v]));
  const r = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policy,
      request: { action, principal: service, resource: { accountId: ACCOUNT, resource }, contextVariables: variables },
    },
    {},
  );
  if (r.resultType === "error") throw new Error(`IAM simulation of ${action} by ${service} on ${resource} failed: ${JSON.stringify(r.errors)}`);
  return r.overallResult === "Allowed";
}
