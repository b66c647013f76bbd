/**
 * Throwaway PostgreSQL databases on the local server (127.0.0.1:5432, or
 * TEST_POSTGRES_URL). With CI=true a missing server fails the tests; on a
 * developer machine without PostgreSQL those suites are skipped, loudly.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDatabase, databaseUrl, dropDatabase } from "../../server/db/databases";

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

let available: Promise<boolean> | undefined;

export function postgresAvailable(): Promise<boolean> {
  return (available ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch (err) {
      if (process.env.CI) throw new Error(`PostgreSQL is required in CI but unreachable at ${ADMIN_URL}: ${String(err)}`);
      console.warn(`PostgreSQL unreachable at ${ADMIN_URL}: skipping the PostgreSQL suites (${String(err)})`);
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })());
}

/**
 * Creates an empty database; returns its URL, its name and a function that
 * drops it. The benchmarks use it too, with their own server and prefix.
 */
export async function createTestDatabase(
  opts: { adminUrl?: string; prefix?: string } = {},
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${opts.prefix ?? "switchboard_test"}_${randomBytes(6).toString("hex")}`;
  const url = databaseUrl(opts.adminUrl ?? ADMIN_URL, name);
  await createDatabase(url);
  return { url, name, drop: () => dropDatabase(url) };
}
