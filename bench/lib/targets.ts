/**
 * The servers a scenario runs against, behind one adapter so the same
 * generator code drives both:
 *
 * - `switchboard` (embedded PGlite or a throwaway PostgreSQL database):
 *   register over HTTP, connect with `auth: {token}`, `room:create` /
 *   `room:join` / `dm:open`, `message:send` with an ack;
 * - `relay`: the bare Socket.IO server of bench/relay-server.ts, `join` / `send`.
 *
 * With `instances: 2` either kind runs as two processes sharing a private
 * redis-server (Socket.IO's Redis adapter; Switchboard also keeps presence
 * there, on one PostgreSQL database), and `connect` spreads users over them
 * by index, so the same scenarios measure scale-out.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { createTestDatabase } from "../../test/support/postgres";
import { onCleanup } from "./cleanup";
import { CpuWindow, memoryOf, spawnServer, type ServerProcess } from "./proc";
import { startRedis, type BenchRedis } from "./redis";
import { pool, SioClient } from "./sio";

export type Db = "embedded" | "postgres";
export type TargetKind = "relay" | "switchboard";

export interface TargetSpec {
  kind: TargetKind;
  /** null for the relay, which stores nothing. */
  db: Db | null;
  /** Server processes; more than one share a private Redis (and, for Switchboard, PostgreSQL). */
  instances: number;
  /** Switchboard with Prometheus metrics on, scraped every 5 s during the run (docs/operations.md). */
  metrics?: boolean;
}

export function targetLabel(spec: TargetSpec): string {
  const base = spec.kind === "relay" ? "relay" : `switchboard/${spec.db}${spec.metrics ? "+metrics" : ""}`;
  return spec.instances > 1 ? `${base}×${spec.instances}` : base;
}

export interface BenchUser {
  index: number;
  id: string;
  username: string;
  token: string | null;
}

export interface Member {
  user: BenchUser;
  client: SioClient;
}

export interface Target {
  spec: TargetSpec;
  label: string;
  /** One per instance; user `i` connects to `servers[i % servers.length]`. */
  servers: ServerProcess[];
  /** The first instance (the only one unless `instances` > 1): registrations and HTTP requests go here. */
  server: ServerProcess;
  /** The instances' shared Redis, or null for one instance. */
  redis: BenchRedis | null;
  /** "embedded (PGlite …)", "PostgreSQL 15.x, database bench_…", or "none". */
  database: string;
  /** The PostgreSQL database's URL (for scenarios that fill it directly), or null: the relay, the embedded database. */
  databaseUrl: string | null;
  /** Environment the server was started with (secrets left out). */
  settings: Record<string, string>;
  /** Creates `n` accounts (registration for Switchboard); returns how long it took. */
  createUsers(n: number, concurrency?: number): Promise<{ users: BenchUser[]; seconds: number }>;
  connect(user: BenchUser): Promise<SioClient>;
  /** A group room with `owner` and `others` as members; resolves once every member's connection is subscribed. */
  createGroup(owner: Member, others: Member[], name: string): Promise<string>;
  /** A direct-message room between two users, both connections subscribed. */
  openDm(a: Member, b: Member): Promise<string>;
  /**
   * An HTTP request that publishes `event` with `data` to every connection of
   * one user (Switchboard: `POST /api/v1/publish {users: [id]}` with an API key;
   * the relay: `POST /publish` to the user's Socket.IO room).
   */
  publishRequest(user: BenchUser, event: string, data: string): { path: string; headers: Record<string, string>; body: string };
  /** The relay has no users: joins each connection to its user's room (Switchboard does that itself). */
  subscribeUser(member: Member): Promise<void>;
  /** The whole `42<ackId>[…]` frame that sends one message. */
  sendFrame(ackId: number, roomId: string, body: string, clientMsgId: string): string;
  /** Stops the server and removes its data (database, temp dir). */
  close(): Promise<void>;
}

/** Readings over every instance of a target: CPU (and PostgreSQL's, Redis's), RSS, stored messages. */
export function cpuWindow(target: Target): CpuWindow {
  return new CpuWindow({
    serverPids: target.servers.map((s) => s.pid),
    postgres: target.spec.db === "postgres",
    redisPid: target.redis?.pid ?? null,
  });
}

export function rss(target: Target): number {
  return memoryOf(target.servers.map((s) => s.pid)).rss;
}

export async function storedMessages(target: Target): Promise<number> {
  const stats = await Promise.all(target.servers.map((s) => s.stats(false)));
  return stats.reduce((sum, s) => sum + s.storedMessages, 0);
}

/** Pins every instance to its measuring CPUs; false if any could not be pinned. */
export function pinAll(target: Target): boolean {
  return target.servers.map((s) => s.pin()).every(Boolean);
}

/** The server for user `index`: instances take users in turn. */
function serverFor(servers: ServerProcess[], index: number): ServerProcess {
  return servers[index % servers.length]!;
}

export interface StartOptions {
  /** taskset CPU list per instance (instance `i` gets `cpus[i]`), or null for no pinning. */
  cpus: string[] | null;
  /** Directory for `--cpu-prof` output, or null for no profiling. */
  profileDir: string | null;
  rateLimit: number;
  logLevel: string;
  /** BENCH_EXPERIMENTS for the Switchboard launcher (proposed changes tried from outside). */
  experiments: string;
}

const METRICS_TOKEN = "bench-metrics-token-0123456789";

/** Scrapes every instance's metrics every 5 s, as a (busy) Prometheus would; returns the stop. */
function scrapeEvery(servers: ServerProcess[], ms = 5000): () => void {
  const timer = setInterval(() => {
    for (const s of servers) {
      void fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }
  }, ms);
  return () => clearInterval(timer);
}

export const ADMIN_URL =
  process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const PASSWORD = "bench-password-1";
/** The gateway API key the bench's Switchboard accepts (a throwaway server, 127.0.0.1 only). */
const API_KEY = "bench-api-key-0123456789abcdef";

export async function startTarget(spec: TargetSpec, opts: StartOptions): Promise<Target> {
  if (spec.instances > 1 && spec.kind === "switchboard" && spec.db !== "postgres") {
    throw new Error("two or more Switchboard instances share one database: use --db postgres (the embedded one lives inside a process)");
  }
  const redis = spec.instances > 1 ? await startRedis() : null;
  try {
    return spec.kind === "relay" ? await startRelay(spec, opts, redis) : await startSwitchboardTarget(spec, opts, redis);
  } catch (err) {
    await redis?.stop();
    throw err;
  }
}

/**
 * Starts `spec.instances` launchers one after the other (Switchboard's
 * migrations run in the first), each with its own CPU list; stops those
 * already started if one fails.
 */
async function spawnInstances(
  spec: TargetSpec,
  opts: StartOptions,
  script: string,
  env: (i: number) => Record<string, string>,
  label: string,
): Promise<ServerProcess[]> {
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < spec.instances; i++) {
      servers.push(
        await spawnServer({
          label: spec.instances > 1 ? `${label}#${i + 1}` : label,
          script,
          env: env(i),
          cpus: opts.cpus ? opts.cpus[i % opts.cpus.length]! : null,
          nodeArgs: opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`] : [],
        }),
      );
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return servers;
}

async function startRelay(spec: TargetSpec, opts: StartOptions, redis: BenchRedis | null): Promise<Target> {
  const settings: Record<string, string> = {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    ...(redis ? { REDIS_URL: redis.url } : {}),
  };
  const label = targetLabel(spec);
  const servers = await spawnInstances(spec, opts, "relay-server.ts", () => settings, label);
  let nextUser = 0;
  return {
    spec,
    label,
    servers,
    server: servers[0]!,
    redis,
    database: redis ? `none; ${redis.description}` : "none",
    databaseUrl: null,
    settings,
    createUsers: async (n) => ({
      users: Array.from({ length: n }, () => {
        const index = nextUser++;
        return { index, id: `u${index}`, username: `u${index}`, token: null };
      }),
      seconds: 0,
    }),
    connect: (user) => SioClient.connect(serverFor(servers, user.index).url, null),
    createGroup: async (owner, others, name) => {
      await pool([owner, ...others], 50, (m) => joinRelay(m.client, name));
      return name;
    },
    openDm: async (a, b) => {
      const room = `dm:${Math.min(a.user.index, b.user.index)}:${Math.max(a.user.index, b.user.index)}`;
      await Promise.all([joinRelay(a.client, room), joinRelay(b.client, room)]);
      return room;
    },
    sendFrame: (ackId, roomId, body, clientMsgId) =>
      `42${ackId}${JSON.stringify(["send", { roomId, body, clientMsgId }])}`,
    publishRequest: (user, event, data) => ({
      path: "/publish",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ room: `user:${user.id}`, event, data }),
    }),
    subscribeUser: (m) => joinRelay(m.client, `user:${m.user.id}`),
    close: async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await redis?.stop();
    },
  };
}

async function joinRelay(client: SioClient, room: string): Promise<void> {
  const ack = await client.request<{ ok: boolean }>("join", { room });
  if (!ack.ok) throw new Error(`relay join ${room} failed`);
}

interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
  room?: { id: string };
}

async function startSwitchboardTarget(spec: TargetSpec, opts: StartOptions, redis: BenchRedis | null): Promise<Target> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "switchboard-bench-"));
  const removeDir = onCleanup(`remove ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));
  let database = "embedded PGlite (in the server process)";
  let dropDb: (() => Promise<void>) | null = null;
  let databaseUrl = "";
  if (spec.db === "postgres") {
    const db = await createDatabase();
    dropDb = db.drop;
    databaseUrl = db.url;
    database = `${db.version}, database ${db.name} (${db.settings})`;
  }
  const settings: Record<string, string> = {
    NODE_ENV: "production",
    SWITCHBOARD_WEB_UI: "false",
    LOG_LEVEL: opts.logLevel,
    HOST: "127.0.0.1",
    PORT: "0",
    DATA_DIR: dataDir,
    SWITCHBOARD_RATE_LIMIT: String(opts.rateLimit),
    SWITCHBOARD_USER_RATE_LIMIT: String(opts.rateLimit),
    // Every simulated user connects from 127.0.0.1: per-address limits would refuse most of them.
    SWITCHBOARD_AUTH_RATE_LIMIT: "1000000",
    SWITCHBOARD_SIGNUP_LIMIT: "1000000",
    SWITCHBOARD_CONNECT_RATE_LIMIT: "1000000",
    SWITCHBOARD_API_KEYS: API_KEY,
    SWITCHBOARD_API_RATE_LIMIT: "1000000",
    DATABASE_URL: databaseUrl,
    // Instances must accept each other's tokens (one shared secret, as docs/deploy.md says).
    SWITCHBOARD_SECRET: randomBytes(32).toString("hex"),
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ...(opts.experiments ? { BENCH_EXPERIMENTS: opts.experiments } : {}),
    ...(spec.metrics ? { SWITCHBOARD_METRICS_TOKEN: METRICS_TOKEN } : {}),
  };
  const label = targetLabel(spec) + (opts.experiments ? `+${opts.experiments}` : "");
  let servers: ServerProcess[];
  try {
    servers = await spawnInstances(
      spec,
      opts,
      "server-launcher.ts",
      (i) => ({ ...settings, DATA_DIR: i === 0 ? dataDir : path.join(dataDir, `instance-${i + 1}`) }),
      label,
    );
  } catch (err) {
    await dropDb?.();
    await removeDir();
    throw err;
  }
  const server = servers[0]!;
  const stopScraping = spec.metrics ? scrapeEvery(servers) : () => {};
  const runTag = randomBytes(3).toString("hex");
  let nextUser = 0;

  const call = async (client: SioClient, event: string, payload: unknown): Promise<Ack> => {
    const ack = await client.request<Ack>(event, payload);
    if (!ack.ok) throw new Error(`${event} failed: ${ack.error?.code} ${ack.error?.message}`);
    return ack;
  };

  return {
    spec,
    label,
    servers,
    server,
    redis,
    database: redis ? `${database}; ${redis.description}` : database,
    databaseUrl: databaseUrl || null,
    settings: {
      ...settings,
      SWITCHBOARD_SECRET: "(random, shared by the instances)",
      SWITCHBOARD_API_KEYS: "(one bench key)",
      DATABASE_URL: databaseUrl ? databaseUrl.replace(/\/\/[^@]*@/, "//…@") : "(unset: embedded)",
    },
    createUsers: async (n, concurrency = 4) => {
      const t0 = performance.now();
      const indexes = Array.from({ length: n }, () => nextUser++);
      const users = await pool(indexes, concurrency, async (index) => {
        const username = `b${runTag}_${index}`;
        const res = await fetch(`${server.url}/api/auth/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username, password: PASSWORD }),
        });
        if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${await res.text()}`);
        const body = (await res.json()) as { user: { id: string }; token: string };
        return { index, id: body.user.id, username, token: body.token };
      });
      return { users, seconds: (performance.now() - t0) / 1000 };
    },
    connect: (user) => SioClient.connect(serverFor(servers, user.index).url, { token: user.token }),
    createGroup: async (owner, others, name) => {
      // room:create invites up to 100 members at once; the rest join (public room).
      const invited = others.slice(0, 100);
      const ack = await call(owner.client, "room:create", {
        name,
        visibility: "public",
        memberIds: invited.map((m) => m.user.id),
      });
      const roomId = ack.room!.id;
      await pool(others.slice(100), 20, (m) => call(m.client, "room:join", { roomId }));
      return roomId;
    },
    openDm: async (a, b) => (await call(a.client, "dm:open", { userId: b.user.id })).room!.id,
    sendFrame: (ackId, roomId, body, clientMsgId) =>
      `42${ackId}${JSON.stringify(["message:send", { roomId, body, clientMsgId }])}`,
    publishRequest: (user, event, data) => ({
      path: "/api/v1/publish",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ event, data, users: [user.id] }),
    }),
    subscribeUser: async () => {},
    close: async () => {
      stopScraping();
      await Promise.all(servers.map((s) => s.stop()));
      await redis?.stop();
      await dropDb?.();
      await removeDir();
    },
  };
}

/** A throwaway database on the local PostgreSQL; dropped by close or by cleanup on failure. */
async function createDatabase(): Promise<{
  url: string;
  name: string;
  version: string;
  settings: string;
  drop: () => Promise<void>;
}> {
  const db = await createTestDatabase({ adminUrl: ADMIN_URL, prefix: "bench" });
  const drop = onCleanup(`drop database ${db.name}`, db.drop);
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    const show = async (s: string) => String((await admin.query(`SHOW ${s}`)).rows[0][s]);
    const version = `PostgreSQL ${await show("server_version")}`;
    const settings: string[] = [];
    for (const s of ["shared_buffers", "synchronous_commit", "fsync", "max_connections"]) settings.push(`${s}=${await show(s)}`);
    return { url: db.url, name: db.name, version, settings: settings.join(", "), drop };
  } catch (err) {
    await drop();
    throw err;
  } finally {
    await admin.end().catch(() => {});
  }
}
