import { resolve } from "node:path";
import { ValidationError } from "../core/errors";

/**
 * Where a run's rows go: a PostgreSQL or MySQL / MariaDB server by URL (credentials in the URL, or
 * the driver's own environment: PGPASSWORD, …), or a PGlite data folder — real PostgreSQL compiled
 * to WASM, run in this process, so a laptop needs no server.
 */
export type DatabaseTarget = { readonly kind: "postgres"; readonly url: string } | { readonly kind: "mysql"; readonly url: string } | { readonly kind: "pglite"; readonly dir: string };

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
