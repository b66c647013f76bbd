/**
 * Creating and dropping databases on a PostgreSQL server, for the tools
 * around Switchboard (the tests' throwaway databases, the benchmarks, the
 * Prisma CLI stand-in's shadow databases). Each statement runs on a
 * connection of its own to the server's `postgres` database: CREATE and DROP
 * DATABASE cannot run inside a transaction, nor drop the database they are
 * connected to.
 */
import pg from "pg";

/** `url` with its database replaced by `name` (the same server and credentials). */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** The database a URL names. */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!name) throw new Error("the database URL names no database");
  return name;
}

/** Creates the (new) database `url` names. */
export async function createDatabase(url: string): Promise<void> {
  await onServer(url, `CREATE DATABASE ${quoteIdent(databaseName(url))}`);
}

/** Drops the database `url` names, if it exists, ending its connections first (PostgreSQL 13+; plainly before). */
export async function dropDatabase(url: string): Promise<void> {
  const name = quoteIdent(databaseName(url));
  try {
    await onServer(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch (err) {
    if ((err as { code?: unknown }).code !== "42601") throw err; // a syntax error: PostgreSQL before 13
    await onServer(url, `DROP DATABASE IF EXISTS ${name}`);
  }
}

async function onServer(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(url, "postgres"), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
