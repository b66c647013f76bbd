/**
 * The local Redis (127.0.0.1:6379, or TEST_REDIS_URL). With CI=true a missing
 * server fails the tests; elsewhere those suites are skipped, loudly.
 */
import { createClient } from "redis";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let available: Promise<boolean> | undefined;

export function redisAvailable(): Promise<boolean> {
  return (available ??= (async () => {
    const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      return true;
    } catch (err) {
      if (process.env.CI) throw new Error(`Redis is required in CI but unreachable at ${REDIS_URL}: ${String(err)}`);
      console.warn(`Redis unreachable at ${REDIS_URL}: skipping the Redis suites`);
      return false;
    } finally {
      client.destroy();
    }
  })());
}

export async function redisClient() {
  const client = createClient({ url: REDIS_URL });
  client.on("error", () => {});
  await client.connect();
  return client;
}
