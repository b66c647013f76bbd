/**
 * Start-up wiring, in one place: database → core → HTTP → Socket.IO → listen.
 * Shutdown runs in reverse. `main.ts` calls this for `npm start`; tests call
 * it to run the real server on a free port.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getRequestListener } from "@hono/node-server";
import { Server } from "socket.io";
import type { Config } from "./config";
import { createCore, type Core } from "./core";
import { createAdapter as createClusterAdapter } from "@socket.io/cluster-adapter";
import { MemoryPresenceStore, type PresenceStore } from "./core/presence";
import { IpcPresenceStore } from "./scale/ipc-presence";
import { attachRedis, type RedisLink } from "./scale/redis";
import { RedisPresenceStore } from "./scale/redis-presence";
import { stickyWorker } from "./scale/sticky";
import { openDatabase, type Database } from "./db/client";
import { S3FileStore } from "./files/s3";
import { DatabaseFileStore, DirectoryFileStore } from "./files/store";
import { createHttpApp } from "./http/app";
import { QueueInlet } from "./inlet/queue";
import type { Logger } from "./logger";
import { Throttles } from "./limits/throttles";
import { KeyedBuckets } from "./limits/token-bucket";
import { loadPlugins } from "./plugins/load";
import { attachRealtime } from "./realtime";
import { SocketConnections } from "./realtime/connections";
import { SocketDelivery, updateConnections } from "./realtime/delivery";
import { throttleHandshakes } from "./realtime/admission";
import { attachNamespaces } from "./realtime/namespaces";
import { resyncer } from "./realtime/subscriptions";
import type { IoServer } from "./realtime/types";
import { countedDelivery, socketSources } from "./metrics/instrument";
import { Metrics, metricsAnswer } from "./metrics/metrics";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Switchboard's version (package.json), as the metrics report it. */
const VERSION: string = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;

/** Paths answered by Switchboard itself; everything else goes to the Next.js UI. */
const OWN_PATHS = /^\/(api\/|healthz$|readyz$|metrics$)/;

export interface Switchboard {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  http: HttpServer;
  io: IoServer;
  core: Core;
  db: Database;
  /** The queue inlet, when REDIS_URL is set. */
  inlet: QueueInlet | null;
  /** `http://host:port/metrics` when metrics have a port of their own (SWITCHBOARD_METRICS_PORT). */
  metricsUrl: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  /** A worker of cluster mode: the primary listens and hands connections over (scale/cluster.ts). */
  clusterWorker?: boolean;
}

export async function startSwitchboard(config: Config, log: Logger, options: StartOptions = {}): Promise<Switchboard> {
  // Plugins first: a broken one stops start-up before anything is opened.
  const plugins = await loadPlugins(config.pluginFiles, config.pluginsDir);
  if (plugins.length > 0) log.info({ plugins: plugins.map((p) => p.name) }, "plugins loaded");

  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  log.info({ database: db.kind }, "database ready");

  const httpServer = createServer();
  const io: IoServer = new Server(httpServer, {
    // A 4,000-character body is at most 16 KB of UTF-8; anything far bigger is not ours.
    maxHttpBufferSize: 100_000,
    // Next.js's dev server upgrades /_next/webpack-hmr on the same port.
    destroyUpgrade: false,
    ...(config.corsOrigins.length > 0 ? { cors: { origin: config.corsOrigins, credentials: true } } : {}),
  });

  if (config.redisUrl && config.secretGenerated) {
    log.warn("REDIS_URL is set but SWITCHBOARD_SECRET is not: every instance must share one secret, or tokens from one are refused by the others");
  }
  // With Redis: the adapter carries every broadcast and query to all instances,
  // and presence is shared (and cleaned up after a crashed instance).
  const redis: RedisLink | null = config.redisUrl
    ? await attachRedis(io, config.redisUrl, log.child({ part: "redis" }), {
        sharded: config.redisSharded,
        requestsTimeoutMs: config.clusterTimeoutMs,
      })
    : null;
  // Cluster workers without Redis share broadcasts through the primary (IPC).
  if (options.clusterWorker && !redis) io.adapter(createClusterAdapter());
  const presenceStore: PresenceStore = redis
    ? new RedisPresenceStore(redis.client, log.child({ part: "presence" }), { instanceId: config.instanceId })
    : options.clusterWorker
      ? new IpcPresenceStore()
      : new MemoryPresenceStore();

  // Metrics, when asked for: what a scrape reads is added once everything below exists.
  const metrics = config.metrics ? new Metrics(config.instanceId, VERSION) : null;

  const throttles = new Throttles(
    config.limits,
    redis ? { kind: "redis", client: redis.client } : options.clusterWorker ? { kind: "cluster" } : { kind: "memory" },
    (limit, key) => log.warn({ limit, key }, "a limit refused its first request this period"),
  );
  const core = createCore({
    db: db.prisma,
    delivery: metrics ? countedDelivery(new SocketDelivery(io), metrics) : new SocketDelivery(io),
    connections: new SocketConnections(io, new Set(["/", ...Object.keys(config.namespaces)]), redis?.sent, () => metrics?.clusterTimeout()),
    channels: config.namespaces,
    presenceStore,
    accounts: {
      secret: config.secret,
      hostJwtSecret: config.hostJwtSecret,
      hostJwt: config.hostJwt,
      tokenTtlSeconds: config.tokenTtlSeconds,
    },
    files: {
      store:
        config.uploads.s3 ? new S3FileStore(config.uploads.s3)
        : config.uploads.store === "directory" ? new DirectoryFileStore(config.uploads.directory)
        : new DatabaseFileStore(db.prisma),
      limits: { maxBytes: config.uploads.maxBytes, allowedTypes: config.uploads.allowedTypes },
    },
    loginGuard: throttles.loginGuard,
    hooks: plugins.flatMap((p) => (p.hooks ? [{ name: p.name, hooks: p.hooks }] : [])),
    onHookError: (err, plugin, hook) => log.error({ err, plugin, hook }, "plugin hook failed"),
    ...(metrics ? { onWriteBatch: (size: number, stored: number, seconds: number) => metrics.batchWritten(size, stored, seconds) } : {}),
  });
  // Uploads no message carried are swept (every instance does; they share the work harmlessly).
  const sweepUploads = () =>
    void core.attachments.sweep().catch((err: unknown) => log.warn({ err }, "sweeping unsent uploads failed"));
  const uploadSweep = setInterval(sweepUploads, 10 * 60_000).unref();
  presenceStore.start((users) => void core.presence.expired(users).catch((err: unknown) => log.warn({ err }, "presence expiry failed")));

  // Another instance changed a person's profile: this one's connections of theirs carry it too.
  io.on("sb:user", (user) => updateConnections(io, user));
  io.engine.opts.allowRequest = throttleHandshakes(throttles, config.trustProxy);
  const socketOptions = {
    corsOrigins: config.corsOrigins,
    rateLimitPerSecond: config.rateLimitPerSecond,
    // One budget per user on this instance, over every namespace and tab.
    userBudgets: new KeyedBuckets(config.limits.userEventsPerSecond),
    throttles,
    trustProxy: config.trustProxy,
    clusterReachable: () => redis?.healthy() ?? true,
    metrics,
  };
  attachRealtime(io, core, log, { ...socketOptions, maxConnectionsPerUser: config.limits.maxConnectionsPerUser, plugins });
  attachNamespaces(io, core, log, config.namespaces, socketOptions);
  if (redis) {
    // After a Redis outage, what was broadcast meanwhile (leaves, closed
    // sessions) never reached the other instances: every instance re-checks.
    const resync = resyncer(io, core, log.child({ part: "resync" }), ["/", ...Object.keys(config.namespaces)]);
    io.on("sb:resync", resync);
    redis.onRecovered(() => {
      io.serverSideEmit("sb:resync");
      resync();
    });
  }

  const api = getRequestListener(
    createHttpApp({
      core,
      log,
      tokenTtlSeconds: config.tokenTtlSeconds,
      instanceId: config.instanceId,
      instanceHeader: config.instanceHeader,
      throttles,
      trustProxy: config.trustProxy,
      apiKeys: config.apiKeys,
      apiRateLimitPerSecond: config.apiRateLimitPerSecond,
      checkDatabase: db.ping,
      redis: redis ? { healthy: redis.healthy } : null,
      metrics: metrics ? { metrics, token: config.metrics!.token } : null,
    }).fetch,
  );
  const web = config.webUi ? await startNext(config, httpServer) : null;

  httpServer.on("request", (req, res) => {
    // Socket.IO answers /socket.io/ itself (its listener runs first).
    if (req.url?.startsWith("/socket.io/")) return;
    if (!web || OWN_PATHS.test(req.url ?? "/")) {
      void api(req, res);
      return;
    }
    web(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, "web UI request failed");
      if (!res.headersSent) res.writeHead(500).end("internal error");
    });
  });

  const inlet = config.redisUrl
    ? new QueueInlet(core, log.child({ part: "queue" }), { redisUrl: config.redisUrl, ...config.queue })
    : null;
  await inlet?.start();

  metrics?.watch({
    ...socketSources(io, ["/", ...Object.keys(config.namespaces)]),
    ...(redis ? { redisUp: redis.healthy } : {}),
    ...(db.pool ? { databasePool: db.pool } : {}),
    ...(inlet ? { queue: { stats: inlet.stats, backlog: () => inlet.backlog() } } : {}),
  });
  const metricsServer = metrics && config.metrics!.port !== null ? await serveMetrics(metrics, config.metrics!.token, config.host, config.metrics!.port) : null;

  let port = config.port;
  if (options.clusterWorker) {
    // The primary owns the port and passes each connection on, sticky per session.
    stickyWorker(io, httpServer);
  } else {
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
    port = (httpServer.address() as AddressInfo).port;
  }
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const url = `http://${shownHost}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    http: httpServer,
    io,
    core,
    db,
    inlet,
    metricsUrl: metricsServer ? `http://${shownHost}:${(metricsServer.address() as AddressInfo).port}/metrics` : null,
    close: () =>
      (closing ??= (async () => {
        clearInterval(uploadSweep);
        await inlet?.stop();
        // Disconnects every client and closes the HTTP server; then lets the
        // presence updates of those disconnects and the messages already
        // accepted finish (both still deliver through the adapter, to the
        // other instances) before closing Redis and the database.
        await new Promise<void>((resolve) => void io.close(() => resolve()));
        metricsServer?.close();
        await core.presence.settled(2000);
        await core.messages.flush();
        await presenceStore.stop();
        await redis?.close();
        await db.close();
      })()),
  };
}

/** Metrics on a port of their own: `GET /metrics` and nothing else. */
async function serveMetrics(metrics: Metrics, token: string | null, host: string, port: number): Promise<HttpServer> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    metricsAnswer(metrics, token, req.headers.authorization).then(
      (answer) => res.writeHead(answer.status, { "content-type": answer.contentType, "cache-control": "no-store" }).end(answer.body),
      () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics failed\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

type RequestHandler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => Promise<void>;

async function startNext(config: Config, httpServer: HttpServer): Promise<RequestHandler> {
  const { default: next } = await import("next");
  const app = next({ dev: config.env !== "production", dir: ROOT });
  await app.prepare();
  const handle = app.getRequestHandler();
  // The dev server's hot reload uses a WebSocket under /_next/; Socket.IO
  // answers its own upgrades (/socket.io/) and leaves these alone.
  const upgrade = app.getUpgradeHandler();
  httpServer.on("upgrade", (req, socket, head) => {
    if (req.url?.startsWith("/_next/")) void upgrade(req, socket, head);
  });
  return (req, res) => handle(req, res);
}
