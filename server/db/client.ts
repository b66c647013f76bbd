/**
 * The one Prisma client, on the embedded PostgreSQL (PGlite, files under
 * DATA_DIR) or on a PostgreSQL server (DATABASE_URL). Both run the same
 * schema and migrations; pending migrations are applied before use.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Logger } from "../logger";
import { PrismaClient } from "./generated/client";
import { applyMigrations, migratePostgres, pgliteConnection } from "./migrate";

export interface Database {
  prisma: PrismaClient;
  kind: "embedded" | "postgres";
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** The PostgreSQL connection pool's state (none on the embedded database). */
  pool: (() => { total: number; idle: number; waiting: number }) | null;
  close(): Promise<void>;
}

export async function openDatabase(opts: {
  databaseUrl: string | null;
  dataDir: string;
  log: Logger;
}): Promise<Database> {
  const { log } = opts;
  if (opts.databaseUrl) {
    // A bounded wait for a connection: when the database is unreachable, sends
    // fail with `unavailable` after 5 s instead of hanging.
    const { applied } = await migratePostgres(opts.databaseUrl, { log: (m) => log.info(m) });
    if (applied.length > 0) log.info({ applied }, "applied database migrations");
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10, connectionTimeoutMillis: 5000 });
    // Our own pool, so that its state can be read; Prisma ends it on $disconnect (and makes another if used again).
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
    return {
      prisma,
      kind: "postgres",
      ping: async () => void (await prisma.$queryRaw`SELECT 1`),
      // Read by the metrics: connections open, idle, and queries waiting for one.
      pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => prisma.$disconnect(),
    };
  }

  const dir = path.join(opts.dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, "PG_VERSION"))) {
    log.info({ dir }, "creating the embedded database");
    await initDataDir(dir);
  }
  const pglite = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS] });
  const { applied } = await applyMigrations(pgliteConnection(pglite), { log: (m) => log.info(m) });
  if (applied.length > 0) log.info({ applied, dir }, "applied embedded database migrations");
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    prisma,
    kind: "embedded",
    ping: async () => void (await prisma.$queryRaw`SELECT 1`),
    pool: null,
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

/**
 * The embedded server's settings. PostgreSQL's default 128 MB of shared
 * buffers all live in the server process's WebAssembly memory; 32 MB is ample
 * for the single-node installations the embedded database is for (its files
 * are in the OS page cache besides) and keeps ~95 MB of RSS (docs/benchmarks.md).
 */
const EMBEDDED_SETTINGS = ["-c", "shared_buffers=32MB"];

const execFileAsync = promisify(execFile);

/**
 * Runs initdb for a new embedded data directory in a short-lived child
 * process. PGlite runs initdb in a second WebAssembly instance whose memory
 * (~500 MB) stays resident in the process that ran it, so a server that
 * created its own database would carry it until restarted.
 */
async function initDataDir(dir: string): Promise<void> {
  const pgliteEntry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const script = `require(process.env.SWITCHBOARD_PGLITE).PGlite.create(process.argv[1]).then(
    (db) => db.close(),
    (err) => { console.error(err); process.exit(1); },
  );`;
  try {
    await execFileAsync(process.execPath, ["-e", script, dir], {
      env: { ...process.env, SWITCHBOARD_PGLITE: pgliteEntry, NODE_OPTIONS: "" },
      timeout: 120_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`could not create the embedded database in ${dir}${stderr ? `: ${stderr}` : ""}`, { cause: err });
  }
}
