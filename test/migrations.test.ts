/**
 * The schema and its migrations stay in step; the start-up runner
 * (server/db/migrate.ts) applies them once, on either database, refusing a
 * changed or failed migration, and records them as Prisma does (what `npm
 * run db:migrate` applies is what `prisma migrate status` sees); Prisma's CLI
 * works offline through the WASM schema engine (scripts/schema-engine.*), so
 * `prisma migrate dev` creates the next migration.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { dmKeyOf } from "../server/core/rooms";
import { PGlite } from "@electric-sql/pglite";
import { openDatabase } from "../server/db/client";
import { applyMigrations, MigrationError, migratePostgres, pgliteConnection } from "../server/db/migrate";
import { createLogger } from "../server/logger";
import { createTestDatabase, postgresAvailable } from "./support/postgres";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");

async function sh(cmd: string, args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd: root, env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

const migrationsDir = "prisma/migrations";
const postgres = await postgresAvailable();

// Each case runs real processes (tsx, Prisma CLI, a cold PGlite): give them time.
describe("migrations", { timeout: 180_000 }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    // Last in, first out: a client closes before its database is dropped.
    for (const c of cleanups.reverse()) await c();
  });

  it("match the schema exactly (no change without its migration)", async () => {
    const res = await sh("npx", ["prisma", "migrate", "diff", "--from-migrations", migrationsDir, "--to-schema", "prisma/schema.prisma", "--exit-code"], {});
    expect(res.out).toContain("No difference detected");
    expect(res.code).toBe(0);
  });

  it("create a new embedded database (initdb in a child process) that runs with 32 MB of shared buffers", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "switchboard-embedded-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const db = await openDatabase({ databaseUrl: null, dataDir, log: createLogger("silent") });
    try {
      expect(existsSync(path.join(dataDir, "pglite", "PG_VERSION"))).toBe(true);
      expect(await db.prisma.$queryRaw`SHOW shared_buffers`).toEqual([{ shared_buffers: "32MB" }]);
      expect(await db.prisma.user.count()).toBe(0); // migrated
    } finally {
      await db.close();
    }
  });

  it("apply with `npm run db:migrate` on the embedded database, once", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "switchboard-migrate-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, DATABASE_URL: "" };
    const first = await sh("npx", ["tsx", "scripts/db-migrate.ts"], env);
    expect(first.code, first.out).toBe(0);
    const count = readdirSync(path.join(root, migrationsDir), { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    expect(first.out).toContain(`Applied ${count} migration`);
    const second = await sh("npx", ["tsx", "scripts/db-migrate.ts"], env);
    expect(second.code, second.out).toBe(0);
    expect(second.out).not.toMatch(/Applied \d+ migration/);
  });

  it.runIf(postgres)("apply on PostgreSQL and agree with `prisma migrate status`", async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const env = { DATABASE_URL: db.url };
    const before = await sh("npx", ["prisma", "migrate", "status"], env);
    expect(before.code).not.toBe(0); // pending migrations
    const applied = await sh("npx", ["tsx", "scripts/db-migrate.ts"], env);
    expect(applied.code, applied.out).toBe(0);
    const status = await sh("npx", ["prisma", "migrate", "status"], env);
    expect(status.out).toContain("Database schema is up to date");
    expect(status.code).toBe(0);
  });

  it.runIf(postgres)("rewrite the DM keys of existing DMs into the unambiguous form", async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    // The database as it was before the migration that changed the keys.
    const before = mkdtempSync(path.join(tmpdir(), "switchboard-migrations-"));
    cleanups.push(() => rmSync(before, { recursive: true, force: true }));
    const all = readdirSync(path.join(root, migrationsDir), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const change = all.findIndex((name) => name.endsWith("_sessions_and_dm_keys"));
    for (const name of all.slice(0, change)) cpSync(path.join(root, migrationsDir, name), path.join(before, name), { recursive: true });
    cpSync(path.join(root, migrationsDir, "migration_lock.toml"), path.join(before, "migration_lock.toml"));
    await migratePostgres(db.url, { migrationsDir: before });

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const users = ["u1", "u2", "with space", "z"];
    for (const id of users) await client.query(`INSERT INTO "User" (id, username, "displayName") VALUES ($1, $2, $1)`, [id, `${id}@host`]);
    // Old keys: the two ids sorted and joined by a space; a DM with oneself names the id twice.
    const dms = [
      ["dm-1", ["u1", "u2"]],
      ["dm-2", ["with space", "z"]],
      ["dm-self", ["u1", "u1"]],
    ] as const;
    for (const [id, pair] of dms) {
      await client.query(`INSERT INTO "Room" (id, name, kind, visibility, "dmKey") VALUES ($1, 'Direct message', 'dm', 'private', $2)`, [id, [...pair].sort().join(" ")]);
      for (const userId of new Set(pair)) await client.query(`INSERT INTO "Membership" ("roomId", "userId") VALUES ($1, $2)`, [id, userId]);
    }

    const { applied } = await migratePostgres(db.url);
    expect(applied).toEqual(all.slice(change));
    const { rows } = await client.query<{ id: string; dmKey: string }>(`SELECT id, "dmKey" FROM "Room" ORDER BY id`);
    expect(rows).toEqual(dms.map(([id, [a, b]]) => ({ id, dmKey: dmKeyOf(a, b) })));
  });

  /** A copy of the migrations folder that a test may change. */
  function copyOfMigrations(): string {
    const dir = mkdtempSync(path.join(tmpdir(), "switchboard-migrations-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(path.join(root, migrationsDir), dir, { recursive: true });
    return dir;
  }

  /** The runner on each database: PostgreSQL (a throwaway database) and the embedded one (in memory). */
  const targets = [
    {
      name: "embedded",
      open: async () => {
        const db = await PGlite.create();
        cleanups.push(() => db.close());
        return {
          migrate: (migrationsDir: string) => applyMigrations(pgliteConnection(db), { migrationsDir }),
          query: async (sql: string) => (await db.query(sql)).rows,
        };
      },
    },
    ...(postgres
      ? [
          {
            name: "postgres",
            open: async () => {
              const db = await createTestDatabase();
              cleanups.push(db.drop);
              const client = new pg.Client({ connectionString: db.url });
              await client.connect();
              cleanups.push(() => client.end());
              return {
                migrate: (migrationsDir: string) => migratePostgres(db.url, { migrationsDir }),
                query: async (sql: string) => (await client.query(sql)).rows,
              };
            },
          },
        ]
      : []),
  ];

  it.each(targets)("refuse to start on a migration changed after it was applied, or one that failed ($name)", async ({ open }) => {
    const dir = copyOfMigrations();
    const db = await open();
    await db.migrate(dir);
    // An older version (without the newest migration) starts on the newer database: logged, not refused.
    const older = copyOfMigrations();
    const newest = readdirSync(older).filter((n) => n !== "migration_lock.toml").sort().at(-1)!;
    rmSync(path.join(older, newest), { recursive: true });
    expect(await db.migrate(older)).toEqual({ applied: [] });
    const first = readdirSync(dir).filter((n) => n !== "migration_lock.toml").sort()[0]!;
    const script = path.join(dir, first, "migration.sql");
    const original = readFileSync(script, "utf8");
    writeFileSync(script, `${original}\n-- an afterthought\n`);
    await expect(db.migrate(dir)).rejects.toMatchObject({ name: "MigrationError", code: "migration_modified" });
    writeFileSync(script, original);

    // A migration that fails half-way: nothing of it stays, its record blocks the next start until resolved.
    mkdirAt(dir, "29990101000000_broken", 'CREATE TABLE "Half" (id int);\nSELECT * FROM "NoSuchTable";\n');
    const failed = await db.migrate(dir).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(MigrationError);
    expect(failed).toMatchObject({ code: "migration_failed", message: expect.stringContaining("NoSuchTable") });
    expect(await db.query(`SELECT to_regclass('"Half"') AS t`)).toEqual([{ t: null }]);
    await expect(db.migrate(dir)).rejects.toMatchObject({ code: "failed_migration_found" });
    // What `prisma migrate resolve --rolled-back` records; then the fixed migration applies.
    await db.query(`UPDATE "_prisma_migrations" SET "rolled_back_at" = now() WHERE "finished_at" IS NULL`);
    mkdirAt(dir, "29990101000000_broken", 'CREATE TABLE "Half" (id int);\n');
    expect(await db.migrate(dir)).toEqual({ applied: ["29990101000000_broken"] });
    expect(await db.query(`SELECT to_regclass('"Half"')::text AS t`)).toEqual([{ t: '"Half"' }]);
  });

  it.runIf(postgres)("are applied once when instances start together", async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const runs = await Promise.all([migratePostgres(db.url), migratePostgres(db.url), migratePostgres(db.url)]);
    const all = readdirSync(path.join(root, migrationsDir), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(runs.map((r) => r.applied).sort((a, b) => b.length - a.length)).toEqual([all, [], []]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const { rows } = await client.query(`SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows.map((r) => r.migration_name)).toEqual(all);
  });

  it.runIf(postgres)("are created by `prisma migrate dev` offline, and the new one applies on both databases", async () => {
    // A project of its own (its schema, migrations and config), so the repository's stay untouched.
    const project = mkdtempSync(path.join(tmpdir(), "switchboard-migrate-dev-"));
    cleanups.push(() => rmSync(project, { recursive: true, force: true }));
    symlinkSync(path.join(root, "node_modules"), path.join(project, "node_modules"));
    cpSync(path.join(root, migrationsDir), path.join(project, "migrations"), { recursive: true });
    // No generator: this is about migrations (and must not write the repository's client).
    const schema = readFileSync(path.join(root, "prisma/schema.prisma"), "utf8")
      .replace(/generator client \{[^}]*\}/, "")
      .replace(/model User \{/, "model User {\n  nickname String?");
    writeFileSync(path.join(project, "schema.prisma"), schema);
    writeFileSync(
      path.join(project, "prisma.config.ts"),
      `import { defineConfig } from "prisma/config";
export default defineConfig({ schema: "schema.prisma", migrations: { path: "migrations" }, datasource: { url: process.env.DATABASE_URL } });
`,
    );
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const res = await run(process.execPath, [path.join(root, "node_modules/prisma/build/index.js"), "migrate", "dev", "--name", "nickname"], {
      cwd: project,
      env: { ...process.env, DATABASE_URL: db.url, PRISMA_SCHEMA_ENGINE_BINARY: path.join(root, "scripts/schema-engine.mjs") },
      timeout: 120_000,
    }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? "", stderr: `${err.stderr ?? ""} (failed)` }));
    const created = readdirSync(path.join(project, "migrations")).filter((n) => n.endsWith("_nickname"));
    expect(created, res.stdout + res.stderr).toHaveLength(1);
    expect(readFileSync(path.join(project, "migrations", created[0]!, "migration.sql"), "utf8")).toMatch(/ALTER TABLE "User" ADD COLUMN\s+"nickname" TEXT;/);

    // The runner agrees that PostgreSQL is up to date, and brings an embedded database there.
    expect(await migratePostgres(db.url, { migrationsDir: path.join(project, "migrations") })).toEqual({ applied: [] });
    const embedded = await PGlite.create();
    cleanups.push(() => embedded.close());
    const { applied } = await applyMigrations(pgliteConnection(embedded), { migrationsDir: path.join(project, "migrations") });
    expect(applied.at(-1)).toBe(created[0]);
    await embedded.query(`INSERT INTO "User" (id, username, "displayName", nickname) VALUES ('1', 'ann', 'Ann', 'annie')`);
    expect((await embedded.query(`SELECT nickname FROM "User"`)).rows).toEqual([{ nickname: "annie" }]);
  });
});

function mkdirAt(dir: string, name: string, script: string): void {
  const target = path.join(dir, name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  writeFileSync(path.join(target, "migration.sql"), script);
}
