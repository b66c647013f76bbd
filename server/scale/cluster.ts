/**
 * Cluster mode for one machine (`npm start -- --workers N`): the primary
 * process listens and hands each connection to a worker with
 * sticky routing (every request of a long-polling session reaches the
 * worker that created it: ./sticky.ts); workers share broadcasts through
 * `@socket.io/cluster-adapter` (or Redis when REDIS_URL is set), presence
 * through the primary, and data through PostgreSQL. A worker that dies is
 * replaced; its clients reconnect to the others.
 */
import cluster, { type Worker } from "node:cluster";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setupPrimary } from "@socket.io/cluster-adapter";
import { ConfigError, type Config } from "../config";
import { migratePostgres } from "../db/migrate";
import { countInPrimary } from "../limits/throttles";
import type { Logger } from "../logger";
import { PrimaryPresence } from "./ipc-presence";
import { routeConnections } from "./sticky";

export async function runPrimary(config: Config, log: Logger): Promise<void> {
  if (!config.databaseUrl) {
    throw new ConfigError(["--workers needs DATABASE_URL: the embedded database serves a single process"]);
  }
  // Once, here, rather than racing in every worker.
  const { applied } = await migratePostgres(config.databaseUrl);
  if (applied.length > 0) log.info({ applied }, "applied database migrations");

  const httpServer = createServer();
  // Round-robin for new connections (pages and new sessions alike) over the workers
  // that are ready; requests carrying a session id reach the worker that owns it.
  const ready = new Set<number>();
  cluster.on("message", (worker, msg: { type?: unknown }) => {
    if (msg?.type === "sb:worker-ready") ready.add(worker.id);
  });
  cluster.on("exit", (worker) => ready.delete(worker.id));
  routeConnections(httpServer, (worker) => ready.has(worker.id));
  if (!config.redisUrl) {
    setupPrimary();
    // The workers' limits per address and username, counted here for all of them.
    countInPrimary();
  }
  const presence = config.redisUrl ? null : new PrimaryPresence();

  let stopping = false;
  const fork = (): Worker => {
    const worker = cluster.fork();
    presence?.attach(worker);
    return worker;
  };
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    log.warn({ worker: worker.process.pid, code, signal }, "worker died; starting another");
    void presence?.workerDied(worker.id).then((offline) => {
      const survivor = Object.values(cluster.workers ?? {}).find((w) => w?.isConnected());
      if (survivor) presence.announceExpired(survivor, offline);
    });
    fork();
  });
  // Listen only once every worker can take connections (later, replacements
  // get connections once they are ready, above).
  const allReady = new Promise<void>((resolve) => {
    cluster.on("message", () => {
      if (ready.size === config.workers) resolve();
    });
  });
  for (let i = 0; i < config.workers; i++) fork();
  await allReady;

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, workers: config.workers }, `Switchboard is listening on ${url} with ${config.workers} workers`);

  const shutdown = (signal: string) => {
    stopping = true;
    log.info({ signal }, "shutting down the cluster");
    httpServer.close();
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGTERM");
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    cluster.on("exit", () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}
