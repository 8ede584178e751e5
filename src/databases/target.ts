import { resolve } from "node:path";
import { ValidationError } from "../core/errors";

/**
 * Where a run's rows go: a PostgreSQL or MySQL / MariaDB server by URL (credentials in the URL, or
 * the driver's own environment: PGPASSWORD, …), or a PGlite data folder — real PostgreSQL compiled
 * to WASM, run in this process, so a laptop needs no server.
 */
export type DatabaseTarget =
  | { readonly kind: "postgres" | "mysql"; readonly url: string /** TLS required, the certificate verified (a deployed function's load). */; readonly tls?: true }
  | { readonly kind: "pglite"; readonly dir: string };

const SCHEMES = ["postgres", "postgresql", "mysql", "mariadb", "pglite"];

/** True when a destination names a database rather than a folder or a bucket. */
export const isDatabaseUrl = (text: string): boolean => /^(postgres|postgresql|mysql|mariadb|pglite):\/\//i.test(text);

/** Parses a database destination; the error names `field` and the forms allowed. */
export function parseDatabaseTarget(field: string, text: string): DatabaseTarget {
  const m = /^([a-z]+):\/\/(.*)$/i.exec(text);
  const scheme = m?.[1]?.toLowerCase();
  if (!m || scheme === undefined || !SCHEMES.includes(scheme)) {
    throw new ValidationError(field, `${field} must be postgres://USER@HOST:PORT/DB, mysql://USER@HOST:PORT/DB or pglite://FOLDER (got "${text}")`);
  }
  const rest = m[2] as string;
  if (scheme === "pglite") {
    if (rest === "") throw new ValidationError(field, `${field}: pglite:// needs a folder for the database, e.g. pglite://./shop-db`);
    return { kind: "pglite", dir: resolve(rest) };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(field, `${field} is not a valid URL (got "${redactUrl(text)}")`);
  }
  if (url.hostname === "") throw new ValidationError(field, `${field} must name a host, e.g. ${scheme}://user@127.0.0.1:${scheme.startsWith("postgres") ? 5432 : 3306}/db`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/")) throw new ValidationError(field, `${field} must name one database after the host, e.g. ${scheme}://user@${url.host}/shop (got "${redactUrl(text)}")`);
  return scheme === "mysql" || scheme === "mariadb" ? { kind: "mysql", url: text } : { kind: "postgres", url: text };
}

/** A URL with its password taken out, for messages and summaries. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

/** How a summary names the database: the URL without its password, or the PGlite folder. */
export const describeTarget = (target: DatabaseTarget): string => (target.kind === "pglite" ? `pglite://${target.dir}` : redactUrl(target.url));

/** A server URL's parts, for a driver given them one by one (with TLS). */
export function urlParts(url: string): { host: string; port: number | undefined; user: string; password: string; database: string } {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : undefined,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, "")),
  };
}

/**
 * The target a deployed function loads into: the stack's `databaseUrl` (a server and database, no
 * credentials) with the user name and password of its Secrets Manager secret (RDS's format: a JSON
 * object with `username` and `password`), over TLS with the server's certificate verified.
 */
export function targetFromSecret(url: string, secretText: string, secretName: string): DatabaseTarget {
  const target = parseDatabaseTarget("DATABASE_URL", url);
  if (target.kind === "pglite") throw new ValidationError("DATABASE_URL", "DATABASE_URL must be a postgres:// or mysql:// server, not pglite://");
  let secret: unknown;
  try {
    secret = JSON.parse(secretText);
  } catch {
    throw new ValidationError("DATABASE_SECRET_ARN", `secret ${secretName} must be a JSON object with username and password, as RDS keeps database credentials (it is not JSON)`);
  }
  const { username, password } = (typeof secret === "object" && secret !== null ? secret : {}) as { username?: unknown; password?: unknown };
  if (typeof username !== "string" || username === "" || typeof password !== "string") {
    throw new ValidationError(
      "DATABASE_SECRET_ARN",
      `secret ${secretName} must be a JSON object with username and password, as RDS keeps database credentials (it has ${typeof secret === "object" && secret !== null ? Object.keys(secret).join(", ") || "no keys" : typeof secret})`,
    );
  }
  const u = new URL(url);
  u.username = encodeURIComponent(username);
  u.password = encodeURIComponent(password);
  return { kind: target.kind, url: u.toString(), tls: true };
}
