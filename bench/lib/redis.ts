/**
 * A private redis-server for a multi-instance target (the instances' adapter
 * and presence): the tests' own (test/support/redis-server.ts), on a free
 * port, nothing kept on disk; stopped by the target's close or by cleanup on
 * failure. Its own process, so its CPU is measured apart from the machine's
 * shared Redis (and nothing else's traffic mixes in).
 */
import { createClient } from "redis";
import { RedisServer } from "../../test/support/redis-server";
import { onCleanup } from "./cleanup";

export interface BenchRedis {
  url: string;
  pid: number;
  /** "Redis 7.0.15 (private redis-server on port N)". */
  description: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<BenchRedis> {
  let server: RedisServer;
  try {
    server = await RedisServer.start();
  } catch (err) {
    throw new Error(`could not start redis-server (is it installed?): ${String(err)}`);
  }
  const stop = onCleanup(`stop redis-server :${server.port}`, () => server.stop());
  const client = createClient({ url: server.url });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const version = /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? "?";
    return { url: server.url, pid: server.pid!, description: `Redis ${version} (private redis-server on port ${server.port})`, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }
}
