import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback stand-in for Secrets Manager's `GetSecretValue` (JSON 1.1 protocol, as the SDK
 * speaks it): answers with the secret's string, or `ResourceNotFoundException` for another id.
 */
export interface FakeSecretsManager {
  readonly endpoint: string;
  readonly reads: { count: number };
  close(): Promise<void>;
}

export async function startFakeSecretsManager(secrets: Record<string, string>): Promise<FakeSecretsManager> {
  const reads = { count: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as { SecretId?: string };
      const value = input.SecretId === undefined ? undefined : secrets[input.SecretId];
      res.setHeader("content-type", "application/x-amz-json-1.1");
      if (target !== "secretsmanager.GetSecretValue" || value === undefined) {
        res.writeHead(400);
        res.end(JSON.stringify({ __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }));
        return;
      }
      reads.count++;
      res.writeHead(200);
      res.end(JSON.stringify({ ARN: input.SecretId, Name: "es-key", SecretString: value, VersionId: "v1", CreatedDate: 1766500000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
