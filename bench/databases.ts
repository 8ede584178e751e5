import { mkdir, readFile, rm } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { startPostgres } from "../test/support/databases";
import { child } from "./child";
import { spread } from "./ratios";

const ROUNDS = 3;

/**
 * Rows/s into PostgreSQL against the database's own limit, on the same server in the same run:
 * `synthgen generate --scenario examples/shop.yaml --out postgres://… --create-tables` (generation
 * and COPY in one process, as the CLI runs it) and a COPY of CSV files of exactly the same rows
 * (exported from the first load), read from disk, into the same tables in one transaction.
 * Interleaved rounds, each into a fresh database; the shop as shipped and with 5× the users.
 */
export async function databasesBench(work: string): Promise<void> {
  const pg = await startPostgres();
  const shop = await readFile(join(__dirname, "..", "..", "examples", "shop.yaml"), "utf8");
  const { Client } = require("pg") as typeof import("pg");
  const { to } = require("pg-copy-streams") as typeof import("pg-copy-streams");
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  const db = async (name: string) => {
    await admin.query(`CREATE DATABASE ${name}`);
    return pg.url.replace(/\/synthgen$/, `/${name}`);
  };
  console.log(`databases: the shop scenario into PostgreSQL 15 (loopback, fsync off), min / median of ${ROUNDS} interleaved rounds, each into a new database\n`);
  console.log("| scenario | rows | synthgen rows/s | COPY of the same rows' CSV rows/s | synthgen ÷ COPY | synthgen RSS MB | COPY RSS MB |");
  console.log("|---|---|---|---|---|---|---|");
  try {
    for (const scale of [1, 5]) {
      const scenario = shop.replace("count: 20000", `count: ${20000 * scale}`);
      const csvDir = join(work, `csv-${scale}`);
      await mkdir(csvDir, { recursive: true });
      const ours: number[] = [];
      const limit: number[] = [];
      let rows = 0;
      let oursRss = 0;
      let limitRss = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const url = await db(`bench_${scale}_${round}_a`);
        const a = await child("database-load.js", { path: "synthgen", url, scenario, runId: "bench" });
        ours.push(a.recordsPerS as number);
        oursRss = Math.max(oursRss, a.peakRssMb);
        rows = (a as unknown as { rows: number }).rows;
        if (round === 0) {
          const client = new Client({ connectionString: url });
          await client.connect();
          for (const t of ["users", "products", "orders", "order_lines", "tickets"])
            await pipeline(client.query(to(`COPY "${t}" TO STDOUT WITH (FORMAT csv)`)), createWriteStream(join(csvDir, `${t}.csv`)));
          await client.end();
        }
        const b = await child("database-load.js", { path: "copy", url: await db(`bench_${scale}_${round}_b`), scenario, runId: "bench", csvDir });
        if ((b as unknown as { rows: number }).rows !== rows) throw new Error(`COPY loaded ${(b as unknown as { rows: number }).rows} rows, synthgen ${rows}`);
        limit.push(b.recordsPerS as number);
        limitRss = Math.max(limitRss, b.peakRssMb);
      }
      const [o, l] = [spread(ours), spread(limit)];
      const s = (x: ReturnType<typeof spread>) => `${Math.round(x.min).toLocaleString("en-US")} / ${Math.round(x.median).toLocaleString("en-US")}`;
      console.log(
        `| shop, ${(20000 * scale).toLocaleString("en-US")} users | ${rows.toLocaleString("en-US")} | ${s(o)} | ${s(l)} | ${(o.median / l.median).toFixed(2)} | ${oursRss.toFixed(0)} | ${limitRss.toFixed(0)} |`,
      );
      await rm(csvDir, { recursive: true, force: true });
    }
  } finally {
    await admin.end();
    await pg.stop();
  }
  console.log("");
}
