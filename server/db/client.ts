/**
 * The one Prisma client, on the embedded PostgreSQL (PGlite, files under
 * DATA_DIR) or on a PostgreSQL server (DATABASE_URL). Both run the same
 * schema and migrations; pending migrations are applied before use.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Logger } from "../logger";
import { PrismaClient } from "./generated/client";
import { applyMigrations } from "./migrate";

export interface Database {
  prisma: PrismaClient;
  kind: "embedded" | "postgres";
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
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
    const adapter = new PrismaPg({ connectionString: opts.databaseUrl, max: 10, connectionTimeoutMillis: 5000 });
    const { applied } = await applyMigrations(adapter, { log: (m: string) => log.debug(m) });
    if (applied.length > 0) log.info({ applied }, "applied database migrations");
    const prisma = new PrismaClient({ adapter });
    return {
      prisma,
      kind: "postgres",
      ping: async () => void (await prisma.$queryRaw`SELECT 1`),
      close: () => prisma.$disconnect(),
    };
  }

  const dir = path.join(opts.dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create(dir);
  const adapter = new PrismaPGlite(pglite);
  const { applied } = await applyMigrations(adapter, { log: (m: string) => log.debug(m) });
  if (applied.length > 0) log.info({ applied, dir }, "applied embedded database migrations");
  const prisma = new PrismaClient({ adapter });
  return {
    prisma,
    kind: "embedded",
    ping: async () => void (await prisma.$queryRaw`SELECT 1`),
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
