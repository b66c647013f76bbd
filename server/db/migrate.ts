/**
 * Applies pending migrations from `prisma/migrations` at start-up, on either
 * database, and records them in `_prisma_migrations` exactly as Prisma does
 * (same table, same checksums, same lock), so `prisma migrate status` and
 * `prisma migrate deploy` agree with it afterwards:
 *
 *   await migratePostgres(url);                       // its own connection
 *   await applyMigrations(pgliteConnection(pglite));  // the embedded database
 *
 * Safe to call on every start: applied migrations are skipped, and an
 * advisory lock (Prisma's own key) makes instances that start together apply
 * each migration once. Each migration runs as one script in one implicit
 * transaction (unless the script commits on its own): a migration that
 * fails leaves nothing behind but its record,
 * which (as with Prisma) blocks later ones until it is resolved.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Prisma's advisory lock key for migrations: its CLI and this runner exclude each other. */
const LOCK_KEY = 72707369;

/** What the runner needs of a database: one connection. */
export interface MigrationConnection {
  /** A script of one or more statements, sent as one simple query (one implicit transaction). */
  exec(script: string): Promise<void>;
  /** One statement with parameters; its rows. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

export function pgliteConnection(db: PGlite): MigrationConnection {
  return {
    exec: async (script) => void (await db.exec(script)),
    query: async <T>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows,
  };
}

export function postgresConnection(client: pg.ClientBase): MigrationConnection {
  return {
    exec: async (script) => void (await client.query(script)),
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
  };
}

export interface ApplyMigrationsOptions {
  /** Default: `prisma/migrations` in this repository. */
  migrationsDir?: string;
  /** Told what an operator should know: waiting for another process's migrations, migrations this version does not know. */
  log?: (message: string) => void;
}

/** Why migrating stopped; `code` says which case (see {@link MigrationErrorCode}). */
export type MigrationErrorCode =
  /** A migration folder without `migration.sql`, or a lock file for another database. */
  | "invalid_migrations"
  /** An applied migration's file changed since. */
  | "migration_modified"
  /** The database records a migration that failed earlier: resolve it first. */
  | "failed_migration_found"
  /** A migration failed now (nothing of it was applied). */
  | "migration_failed";

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "MigrationError";
  }
}

interface Migration {
  name: string;
  script: string;
  checksum: string;
}

interface Applied {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/** Prisma's bookkeeping table, as its engine creates it. */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Applies the migrations the database has not recorded, in name order; returns their names. */
export async function applyMigrations(conn: MigrationConnection, opts: ApplyMigrationsOptions = {}): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => {});
  const migrations = await readMigrations(path.resolve(opts.migrationsDir ?? path.join(repoRoot, "prisma/migrations")));
  const [lock] = await conn.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [LOCK_KEY]);
  if (!lock?.locked) {
    log("another process is migrating this database: waiting for it");
    await conn.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
  }
  try {
    await conn.exec(CREATE_TABLE);
    const records = await conn.query<Applied>(
      `SELECT "migration_name", "checksum", "finished_at", "rolled_back_at", "logs" FROM "_prisma_migrations" ORDER BY "started_at"`,
    );
    const current = records.filter((r) => r.rolled_back_at === null);
    const failed = current.find((r) => r.finished_at === null);
    if (failed) {
      throw new MigrationError(
        "failed_migration_found",
        `migration ${failed.migration_name} failed earlier${failed.logs ? ` (${firstLine(failed.logs)})` : ""}; ` +
          `nothing later is applied until it is resolved: fix the cause, then \`npx prisma migrate resolve --rolled-back ${failed.migration_name}\``,
      );
    }
    const applied = new Map(current.map((r) => [r.migration_name, r.checksum]));
    const local = new Set(migrations.map((m) => m.name));
    for (const m of migrations) {
      const checksum = applied.get(m.name);
      if (checksum !== undefined && checksum !== m.checksum) {
        throw new MigrationError(
          "migration_modified",
          `migration ${m.name} was changed after it was applied to this database; restore its migration.sql and put the change in a new migration`,
        );
      }
    }
    const unknown = [...applied.keys()].filter((name) => !local.has(name));
    if (unknown.length > 0) log(`the database has migrations this version does not know (a newer version applied them): ${unknown.join(", ")}`);

    const done: string[] = [];
    for (const m of migrations.filter((m) => !applied.has(m.name))) {
      const id = randomUUID();
      await conn.query(`INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name") VALUES ($1, $2, $3)`, [id, m.checksum, m.name]);
      try {
        await conn.exec(m.script);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        await conn.query(`UPDATE "_prisma_migrations" SET "logs" = $2 WHERE "id" = $1`, [id, message]);
        // One simple query is one transaction: nothing of the script stays, unless it commits on its own.
        throw new MigrationError("migration_failed", `migration ${m.name} failed and was rolled back: ${message}`, { cause: err });
      }
      await conn.query(`UPDATE "_prisma_migrations" SET "finished_at" = now(), "applied_steps_count" = 1 WHERE "id" = $1`, [id]);
      done.push(m.name);
    }
    return { applied: done };
  } finally {
    await conn.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]);
  }
}

/** {@link applyMigrations} on a PostgreSQL server, on a connection of its own (ended afterwards). */
export async function migratePostgres(url: string, opts: ApplyMigrationsOptions = {}): Promise<{ applied: string[] }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await applyMigrations(postgresConnection(client), opts);
  } finally {
    await client.end();
  }
}

/**
 * The migrations folder: every sub-folder is a migration, applied in name
 * order (Prisma names them by time), its `migration.sql` checksummed as
 * Prisma does (SHA-256 of the file).
 */
async function readMigrations(dir: string): Promise<Migration[]> {
  const lockfile = await readFile(path.join(dir, "migration_lock.toml"), "utf8").catch(() => null);
  const provider = lockfile?.match(/^\s*provider\s*=\s*"([^"]*)"/m)?.[1];
  if (provider !== undefined && provider !== "postgresql") {
    throw new MigrationError("invalid_migrations", `${dir} holds migrations for ${provider}, not PostgreSQL`);
  }
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const script = await readFile(path.join(dir, name, "migration.sql"), "utf8").catch((err: unknown) => {
        throw new MigrationError("invalid_migrations", `migration ${name} has no readable migration.sql`, { cause: err });
      });
      return { name, script, checksum: createHash("sha256").update(script).digest("hex") };
    }),
  );
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0]!.slice(0, 300);
}
