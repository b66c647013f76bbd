/**
 * Throwaway PostgreSQL databases on the local server (127.0.0.1:5432, or
 * TEST_POSTGRES_URL). With CI=true a missing server fails the tests; on a
 * developer machine without PostgreSQL those suites are skipped, loudly.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

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
  const adminUrl = opts.adminUrl ?? ADMIN_URL;
  const name = `${opts.prefix ?? "switchboard_test"}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
