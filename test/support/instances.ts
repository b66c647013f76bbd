/**
 * Two Switchboard instances in this process sharing a throwaway PostgreSQL
 * database and a private Redis (so the test may stop and restart it), as
 * several instances behind a load balancer would.
 */
import { randomBytes } from "node:crypto";
import { createTestDatabase, postgresAvailable } from "./postgres";
import { redisAvailable } from "./redis";
import { RedisServer } from "./redis-server";
import { startTestServer, type TestServer } from "./server";

export interface Instances {
  servers: [TestServer, TestServer];
  redis: RedisServer;
  /** Stops both instances and Redis, and drops the database. */
  stop(): Promise<void>;
}

/** Whether PostgreSQL and Redis are there (in CI their absence fails instead). */
export async function instancesAvailable(): Promise<boolean> {
  return (await postgresAvailable()) && (await redisAvailable());
}

export async function startInstances(env: Record<string, string> = {}): Promise<Instances> {
  const db = await createTestDatabase();
  const redis = await RedisServer.start();
  const shared = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    // Every instance must sign and check tokens with the same secret.
    SWITCHBOARD_SECRET: randomBytes(24).toString("hex"),
    ...env,
  };
  const servers: [TestServer, TestServer] = [await startTestServer("postgres", shared), await startTestServer("postgres", shared)];
  return {
    servers,
    redis,
    stop: async () => {
      for (const s of servers) await s.stop().catch(() => {});
      await redis.stop();
      await db.drop();
    },
  };
}
