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
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../server/db/client";
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
    for (const c of cleanups) await c();
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
});
