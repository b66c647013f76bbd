/**
 * Applies pending migrations from `prisma/migrations` at start-up, the way
 * `prisma migrate deploy` does (same engine, same `_prisma_migrations`
 * bookkeeping, so the CLI's `migrate status`/`deploy` agree afterwards), but
 * in-process and on either database:
 *
 *   await applyMigrations(new PrismaPg({ connectionString }));
 *   await applyMigrations(new PrismaPGlite(new PGlite(dir)));
 *
 * Safe to call on every start: applied migrations are skipped, and on
 * PostgreSQL the engine takes an advisory lock, so concurrent starts apply
 * each migration once.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { createSchemaEngine, wasmPanicMessage, type MigrationList } from "./schema-engine";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ApplyMigrationsOptions {
  /** Default: `prisma/migrations` in this repository. */
  migrationsDir?: string;
  /** Default: `prisma/schema.prisma` in this repository. */
  schemaPath?: string;
  /** Receives the engine's progress messages (warnings and errors are prefixed with their level). */
  log?: (message: string) => void;
}

/** A failure reported by the schema engine; `code` is Prisma's (e.g. P3009: a failed migration blocks new ones). */
export class MigrationError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = "MigrationError";
    this.code = code;
  }
}

/**
 * Applies the migrations not yet recorded in the database's
 * `_prisma_migrations` table and returns their names (empty if up to date).
 *
 * The factory should own its connections (`new PrismaPg({ connectionString })`
 * rather than a shared `pg.Pool`): the engine holds its advisory lock for as
 * long as its connection lives, so that connection must end afterwards, which
 * it does here. A PGlite database is left open.
 */
export async function applyMigrations(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  opts: ApplyMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const migrationsDir = path.resolve(opts.migrationsDir ?? path.join(repoRoot, "prisma/migrations"));
  const schemaPath = path.resolve(opts.schemaPath ?? path.join(repoRoot, "prisma/schema.prisma"));
  const log = opts.log;

  const migrationsList = await readMigrations(migrationsDir);
  const session = await createSchemaEngine(adapterFactory, schemaPath, {
    log: log
      ? (event) => {
          const message = event.fields.message;
          if (!message || event.level === "DEBUG" || event.level === "TRACE") return;
          log(event.level === "INFO" ? message : `${event.level}: ${message}`);
        }
      : undefined,
  });
  try {
    const { appliedMigrationNames } = await session.engine.applyMigrations({
      migrationsList,
      // Same as the CLI with no `tables.external` / `enums.external` in prisma.config.ts.
      filters: { externalTables: [], externalEnums: [] },
    });
    return { applied: appliedMigrationNames };
  } catch (err) {
    throw toMigrationError(err);
  } finally {
    await session.close();
  }
}

/**
 * The migrations folder as the engine wants it. Mirrors the CLI's own reader
 * (prisma/packages/migrate, `listMigrations`): every sub-folder is a
 * migration, sorted by name, its `migration.sql` read (a read error is
 * passed on to the engine, which reports it), plus `migration_lock.toml`.
 */
export async function readMigrations(migrationsDir: string, shadowDbInitScript = ""): Promise<MigrationList> {
  const lockfileContent = await readFile(path.join(migrationsDir, "migration_lock.toml"), "utf8").catch(() => null);
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    },
  );
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const migrationDirectories = await Promise.all(
    dirs.map(async (name) => {
      const content = await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8").then(
        (value) => ({ tag: "ok" as const, value }),
        (err: Error) => ({ tag: "error" as const, value: err.message }),
      );
      return { path: name, migrationFile: { path: "migration.sql", content } };
    }),
  );
  migrationDirectories.sort((a, b) => a.path.localeCompare(b.path));
  return {
    baseDir: migrationsDir,
    lockfile: { path: "migration_lock.toml", content: lockfileContent },
    shadowDbInitScript,
    migrationDirectories,
  };
}

function toMigrationError(err: unknown): MigrationError {
  const panic = wasmPanicMessage(err);
  if (panic) return new MigrationError(`Schema engine panicked: ${panic}`, undefined, { cause: err });
  const e = err as { message?: unknown; code?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  return new MigrationError(message, typeof e?.code === "string" ? e.code : undefined, { cause: err });
}
