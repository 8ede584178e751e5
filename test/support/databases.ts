import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A port nothing listens on now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningDatabase {
  /** A URL for synthgen's --out, e.g. postgres://postgres@127.0.0.1:PORT/synthgen. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A server that takes TLS connections only, as RDS with `rds.force_ssl` does, and passwords (SCRAM). */
export interface TlsDatabase extends RunningDatabase {
  /** The certificate authority that signed the server's certificate (for NODE_EXTRA_CA_CERTS). */
  readonly caFile: string;
  readonly user: string;
  readonly password: string;
}

/**
 * A certificate authority and a server certificate it signs for 127.0.0.1 and localhost (openssl),
 * in `dir`; the key readable only by `owner`.
 */
function certificates(dir: string, owner?: { uid: number; gid: number }): { caFile: string; certFile: string; keyFile: string } {
  const at = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=synthgen test CA", "-keyout", at("ca.key"), "-out", at("ca.crt"));
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", at("server.key"), "-out", at("server.csr"));
  writeFileSync(at("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  ssl("x509", "-req", "-in", at("server.csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", at("san.ext"), "-out", at("server.crt"));
  chmodSync(at("server.key"), 0o600);
  if (owner) for (const f of ["server.key", "server.crt"]) chownSync(at(f), owner.uid, owner.gid);
  return { caFile: at("ca.crt"), certFile: at("server.crt"), keyFile: at("server.key") };
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** Runs a command as the `postgres` user when this process is root (initdb and postgres refuse root). */
function asPostgres(command: string, args: readonly string[]): { file: string; args: string[] } {
  if (!isRoot()) return { file: command, args: [...args] };
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  return { file: "su", args: ["postgres", "-s", "/bin/sh", "-c", quoted] };
}

/**
 * The system's PostgreSQL server (Debian's `postgresql` package: `pg_config --bindir` finds it),
 * in a new data directory on a free loopback port, with trust authentication for `postgres` and a
 * database `synthgen`. fsync is off: the specs need a real server's semantics, not its durability.
 */
export async function startPostgres(): Promise<RunningDatabase>;
export async function startPostgres(options: { tls: true }): Promise<TlsDatabase>;
export async function startPostgres(options: { tls?: true } = {}): Promise<RunningDatabase | TlsDatabase> {
  const bin = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  const dir = mkdtempSync(join(tmpdir(), "synthgen-pg-"));
  const owner = isRoot() ? { uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })), gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })) } : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  const port = await freePort();
  const run = (command: string, args: string[]) => {
    const c = asPostgres(join(bin, command), args);
    execFileSync(c.file, c.args, { stdio: ["ignore", "ignore", "pipe"] });
  };
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const tls = options.tls ? certificates(dir, owner) : undefined;
  const password = "s3cret-pg-password";
  // Until the password is set, local socket connections are trusted; TCP then takes only TLS with a password.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off${tls ? ` -c ssl=on -c ssl_cert_file=${tls.certFile} -c ssl_key_file=${tls.keyFile}` : ""}`;
  if (tls) writeFileSync(join(data, "pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n");
  if (tls && owner) chownSync(join(data, "pg_hba.conf"), owner.uid, owner.gid);
  run("pg_ctl", ["-D", data, "-w", "-l", join(dir, "server.log"), "-o", serverOptions, "start"]);
  const base = `postgres://postgres@127.0.0.1:${port}`;
  const { Client } = require("pg") as typeof import("pg");
  const admin = new Client(tls ? { host: dir, port, user: "postgres", database: "postgres" } : { connectionString: `${base}/postgres` });
  await admin.connect();
  await admin.query("CREATE DATABASE synthgen");
  if (tls) await admin.query(`ALTER USER postgres PASSWORD '${password}'`);
  await admin.end();
  return {
    url: `${base}/synthgen`,
    port,
    ...(tls ? { caFile: tls.caFile, user: "postgres", password } : {}),
    async stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Whether MariaDB's server is installed (.ci/run installs Debian's mariadb-server-core and mariadb-client-core). */
export const mariadbInstalled = (): boolean => existsSync("/usr/sbin/mariadbd") && existsSync("/usr/bin/mariadb-install-db");

/**
 * A MariaDB server (Debian's 10.11) in a new data directory on a free loopback port: `root` without
 * a password, a database `synthgen`, strict SQL mode as MariaDB ships it. The binlog and fsyncs are
 * off; InnoDB (foreign keys enforced) is the default engine.
 */
export async function startMariadb(): Promise<RunningDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "synthgen-mariadb-"));
  const data = join(dir, "data");
  const user = isRoot() ? ["--user=root"] : [];
  execFileSync("mariadb-install-db", ["--no-defaults", `--datadir=${data}`, ...user, "--auth-root-authentication-method=normal", "--skip-test-db"], { stdio: "ignore" });
  const port = await freePort();
  const server: ChildProcess = spawn(
    "/usr/sbin/mariadbd",
    [
      "--no-defaults",
      `--datadir=${data}`,
      ...user,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${join(dir, "sock")}`,
      "--innodb-flush-log-at-trx-commit=0",
      "--skip-log-bin",
      "--innodb-buffer-pool-size=128M",
    ],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const conn = await mysql.createConnection({ host: "127.0.0.1", port, user: "root" });
      await conn.query("CREATE DATABASE synthgen");
      await conn.end();
      break;
    } catch (err) {
      if (Date.now() > deadline || server.exitCode !== null) {
        server.kill("SIGKILL");
        throw new Error(`MariaDB did not start on port ${port}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url: `mysql://root@127.0.0.1:${port}/synthgen`,
    port,
    async stop() {
      server.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A server the CI machine must have (.ci/run installs it and sets SYNTHGEN_REQUIRE_DATABASES); elsewhere its specs are pending when it is missing. */
export function serverSuite(name: string, installed: () => boolean, start: () => Promise<RunningDatabase>, body: (db: () => RunningDatabase) => void): void {
  describe(name, () => {
    let db: RunningDatabase | undefined;
    before(async function () {
      this.timeout(120_000);
      if (!installed()) {
        if (process.env.SYNTHGEN_REQUIRE_DATABASES === "1") throw new Error(`${name}: the server is not installed (.ci/run installs it)`);
        this.skip();
      }
      db = await start();
    });
    after(async () => {
      await db?.stop();
    });
    body(() => db as RunningDatabase);
  });
}
