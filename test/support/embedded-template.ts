/**
 * A migrated embedded database, made once and copied for every test server
 * on the embedded backend. Making one (initdb in WebAssembly, then every
 * migration) costs several seconds of CPU; copying its folder costs
 * milliseconds. migrations.test.ts still makes one from nothing, as a first
 * start does.
 *
 * The copy is kept in the system's temporary folder under a name that
 * changes with the migrations and PGlite's version, and shared by every test
 * worker: the first to need it builds it aside and renames it into place.
 */
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sourcesFingerprint } from "../../scripts/build-web";
import { openDatabase } from "../../server/db/client";
import { createLogger } from "../../server/logger";

const root = path.resolve(import.meta.dirname, "../..");

let template: Promise<string> | undefined;

/** Puts a migrated embedded database in `dataDir` (as `DATA_DIR/pglite`), unless it already holds one. */
export async function seedEmbedded(dataDir: string): Promise<void> {
  const target = path.join(dataDir, "pglite");
  if (existsSync(target)) return;
  cpSync(await (template ??= makeTemplate()), target, { recursive: true });
}

async function makeTemplate(): Promise<string> {
  const key = sourcesFingerprint(root, ["prisma/migrations", "node_modules/@electric-sql/pglite/package.json"]).slice(0, 16);
  const dir = path.join(tmpdir(), `switchboard-pglite-template-${key}`);
  if (!existsSync(dir)) {
    const building = mkdtempSync(path.join(tmpdir(), "switchboard-pglite-building-"));
    const db = await openDatabase({ databaseUrl: null, dataDir: building, log: createLogger("silent") });
    await db.close();
    try {
      renameSync(building, dir);
    } catch (err) {
      // Another worker finished first: use theirs.
      if (!existsSync(dir)) throw err;
      rmSync(building, { recursive: true, force: true });
    }
  }
  return path.join(dir, "pglite");
}
