import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/**
 * Reads a secret's string once per container and keeps it; a failed read is not kept, so the
 * next invocation tries again.
 */
export function cachedSecret(secretId: string, endpoint?: string): () => Promise<string> {
  let value: Promise<string> | undefined;
  return () => {
    value ??= new SecretsManagerClient(endpoint ? { endpoint } : {})
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((out) => {
        if (!out.SecretString) throw new Error(`secret ${secretId} has no string value`);
        return out.SecretString.trim();
      })
      .catch((err: unknown) => {
        value = undefined;
        throw err;
      });
    return value;
  };
}
