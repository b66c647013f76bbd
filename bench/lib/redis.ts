/**
 * A private redis-server for a multi-instance target (the instances' adapter
 * and presence), on a free port, nothing kept on disk; stopped by the target's
 * close or by cleanup on failure. Its own process, so its CPU is measured
 * apart from the machine's shared Redis (and nothing else's traffic mixes in).
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createClient } from "redis";
import { onCleanup } from "./cleanup";

export interface BenchRedis {
  url: string;
  pid: number;
  /** "Redis 7.0.15 (private, port N)". */
  description: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", () => undefined);
  const stop = onCleanup(`stop redis-server :${port}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  });
  const url = `redis://127.0.0.1:${port}`;
  const client = createClient({ url, socket: { reconnectStrategy: (n) => (n > 50 ? false : 100) } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const info = await client.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
    return { url, pid: child.pid!, description: `Redis ${version} (private redis-server on port ${port})`, stop };
  } catch (err) {
    await stop();
    throw new Error(`could not start redis-server (is it installed?): ${String(err)}`);
  } finally {
    client.destroy();
  }
}
