/**
 * Starts the real Switchboard (HTTP + Socket.IO, web UI off) on a free port,
 * on the embedded database or a throwaway PostgreSQL database.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig, type Config } from "../../server/config";
import { createLogger } from "../../server/logger";
import { startSwitchboard, type Switchboard } from "../../server/server";
import { seedEmbedded } from "./embedded-template";
import { createTestDatabase } from "./postgres";

export type Backend = "embedded" | "postgres";

/**
 * Every test connects from 127.0.0.1, so the limits per address (sign-ins,
 * sign-ups, new connections) would soon refuse suites that make many users.
 * Tests of those limits set their own.
 */
export const GENEROUS_LIMITS = {
  SWITCHBOARD_AUTH_RATE_LIMIT: "1000000",
  SWITCHBOARD_SIGNUP_LIMIT: "1000000",
  SWITCHBOARD_CONNECT_RATE_LIMIT: "1000000",
  SWITCHBOARD_LOGIN_FAILURE_LIMIT: "1000",
};

export interface TestServer extends Switchboard {
  config: Config;
  /** Stops the server, keeping its data. */
  stop(): Promise<void>;
  /** Starts a fresh server process-equivalent on the same data (and a new port). */
  restart(): Promise<TestServer>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

export async function startTestServer(
  backend: Backend,
  env: Record<string, string> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "switchboard-test-"));
  // A given DATABASE_URL is shared (several instances on one database).
  const database = backend === "postgres" && !env.DATABASE_URL ? await createTestDatabase() : null;
  const cleanup = async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const settings = { DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}), ...env };
  if (!settings.DATABASE_URL) await seedEmbedded(settings.DATA_DIR);
  return boot(settings, cleanup);
}

/**
 * A test server's configuration: a free port on loopback, no web UI, quiet
 * logs and (unless `generous` is false) limits per address that tests do not
 * reach by accident; `env` on top.
 */
export function testConfig(env: Record<string, string>, { generous = true } = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    SWITCHBOARD_WEB_UI: "false",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...(generous ? GENEROUS_LIMITS : {}),
    ...env,
  });
}

async function boot(env: Record<string, string>, cleanup: () => Promise<void>): Promise<TestServer> {
  const config = testConfig(env);
  const server = await startSwitchboard(config, createLogger(config.logLevel));
  const self: TestServer = {
    ...server,
    config,
    stop: () => server.close(),
    restart: async () => {
      await server.close();
      return boot(env, cleanup);
    },
    destroy: async () => {
      await server.close();
      await cleanup();
    },
  };
  return self;
}

/** The database backends to run suites on: always embedded, PostgreSQL when reachable (required in CI). */
export async function backends(): Promise<Backend[]> {
  const { postgresAvailable } = await import("./postgres");
  return (await postgresAvailable()) ? ["embedded", "postgres"] : ["embedded"];
}
