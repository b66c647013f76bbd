/**
 * The schema and its migrations stay in step, and Prisma's CLI works offline
 * through the WASM schema engine (scripts/schema-engine.*): what `npm run
 * db:migrate` applies is what `prisma migrate status` sees.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { cpSync } from "node:fs";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { dmKeyOf } from "../server/core/rooms";
import { openDatabase } from "../server/db/client";
import { applyMigrations } from "../server/db/migrate";
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
    await applyMigrations(new PrismaPg({ connectionString: db.url }), { migrationsDir: before });

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

    const { applied } = await applyMigrations(new PrismaPg({ connectionString: db.url }));
    expect(applied).toEqual(all.slice(change));
    const { rows } = await client.query<{ id: string; dmKey: string }>(`SELECT id, "dmKey" FROM "Room" ORDER BY id`);
    expect(rows).toEqual(dms.map(([id, [a, b]]) => ({ id, dmKey: dmKeyOf(a, b) })));
  });
});
