/**
 * `npm run db:migrate`: applies pending migrations (prisma/migrations) to
 * PostgreSQL at DATABASE_URL if set, else to the embedded PGlite database in
 * `${DATA_DIR:-./data}/pglite`, and prints what it applied. Works offline: no
 * Prisma CLI or engine involved (see server/db/migrate.ts).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { applyMigrations, MigrationError, migratePostgres, pgliteConnection } from "../server/db/migrate";

// The only place this script reads the environment (empty means unset, as in server/config.ts).
const env = {
  databaseUrl: process.env.DATABASE_URL || null,
  dataDir: path.resolve(process.env.DATA_DIR || "./data"),
};

async function main(): Promise<void> {
  let applied: string[];
  const log = (message: string) => console.log(message);
  if (env.databaseUrl) {
    console.log(`Migrating PostgreSQL database at ${redact(env.databaseUrl)}`);
    ({ applied } = await migratePostgres(env.databaseUrl, { log }));
  } else {
    const { PGlite } = await import("@electric-sql/pglite");
    const dir = path.join(env.dataDir, "pglite");
    await mkdir(dir, { recursive: true });
    console.log(`Migrating embedded database in ${dir}`);
    const db = await PGlite.create(dir);
    try {
      ({ applied } = await applyMigrations(pgliteConnection(db), { log }));
    } finally {
      await db.close();
    }
  }
  if (applied.length === 0) {
    console.log("No pending migrations: the database is up to date.");
  } else {
    console.log(`Applied ${applied.length} migration(s):`);
    for (const name of applied) console.log(`  - ${name}`);
  }
}

/** The URL without its password, for printing. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

main().catch((err: unknown) => {
  const code = err instanceof MigrationError ? ` [${err.code}]` : "";
  console.error(`Migration failed${code}: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
