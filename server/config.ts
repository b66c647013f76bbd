/**
 * Configuration, read from the environment once at start-up and validated.
 * A bad value stops start-up with one line per problem, naming the variable.
 * Nothing else in the server reads `process.env`.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { identifier, text } from "../shared/text";
import type { S3Settings } from "./files/s3";

const bool = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const apiKeyValue = text().min(16, "each API key needs at least 16 characters").max(500);

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  SWITCHBOARD_SECRET: z
    .string()
    .min(32, "must be at least 32 characters (e.g. `openssl rand -hex 32`)")
    .optional(),
  SWITCHBOARD_JWT_SECRET: z
    .string()
    .min(32, "must be at least 32 characters: it signs host-application tokens (HS256)")
    .optional(),
  /** Serve the Next.js chat UI; turn off for an API/gateway-only instance. */
  SWITCHBOARD_WEB_UI: bool.default(true),
  /** Origins (besides the server's own) whose pages may connect, comma-separated. */
  SWITCHBOARD_CORS_ORIGINS: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.url({ message: "must be a comma-separated list of origins (https://app.example.com)" }))),
  /** Client events each connection may send per second (sustained); bursts may reach twice that. */
  SWITCHBOARD_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(20),
  /** Client events each user may send per second over all their connections on an instance (bursts of twice that). */
  SWITCHBOARD_USER_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(40),
  /** Connections one user may hold in the chat namespace, over every instance. */
  SWITCHBOARD_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),
  /** New Socket.IO connections per client IP per minute, every namespace together. */
  SWITCHBOARD_CONNECT_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(300),
  /** Sign-in and sign-up attempts per client IP per minute. */
  SWITCHBOARD_AUTH_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /** Failed sign-ins per username per 15 minutes; then that username is locked for 15 minutes. */
  SWITCHBOARD_LOGIN_FAILURE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(10),
  /** Files each user may upload per minute. */
  SWITCHBOARD_UPLOAD_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(30),
  /** Accounts created per client IP per hour. */
  SWITCHBOARD_SIGNUP_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(10),
  /**
   * Whether a load balancer's `X-Forwarded-For` names the client: `false` (the
   * default: the TCP peer is the client), `true` (one proxy in front), or the
   * number of proxies in front (the client is that many addresses from the right).
   */
  SWITCHBOARD_TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9]{1,2})$/, "must be true, false or the number of proxies in front (e.g. 1)")
    .default("false")
    .transform((v) => (v === "true" ? 1 : v === "false" ? 0 : Number(v))),
  /** Send `x-switchboard-instance` on HTTP answers (to see which instance a load balancer chose). */
  SWITCHBOARD_INSTANCE_HEADER: bool.default(false),
  /** Host-application tokens must carry this `iss`. */
  SWITCHBOARD_JWT_ISSUER: z.string().min(1).max(200).optional(),
  /** Host-application tokens must carry this `aud`. */
  SWITCHBOARD_JWT_AUDIENCE: z.string().min(1).max(200).optional(),
  /** Host-application tokens may live at most this many seconds (from `iat`, or from now without one). */
  SWITCHBOARD_JWT_MAX_TTL: z.coerce.number().int().min(1).optional(),
  /** Serves `GET /metrics` on the main port to requests bearing this token. */
  SWITCHBOARD_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (e.g. `openssl rand -hex 16`)").max(500).optional(),
  /** Serves `GET /metrics` on this port of its own (0: any free port), without a token unless one is set. */
  SWITCHBOARD_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** HTTP API v1 requests per second per API key (bursts of twice that). */
  SWITCHBOARD_API_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Lifetime of the tokens Switchboard issues at login, in seconds. */
  SWITCHBOARD_TOKEN_TTL: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Redis: instances share delivery, presence and limits through it, and the queue inlet reads its stream. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
  /** Cluster mode on one machine: this many worker processes (`npm start -- --workers N` sets it). */
  SWITCHBOARD_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** Use the sharded Pub/Sub adapter (Redis 7 / Redis Cluster). */
  SWITCHBOARD_REDIS_SHARDED: bool.default(false),
  /** How long a cluster-wide query (list clients…) waits for the other instances. */
  SWITCHBOARD_CLUSTER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** This instance's name in shared state; default: host name, process id and a random suffix. */
  SWITCHBOARD_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "letters, digits, '_', '.', ':', '-'").optional(),
  /** The Redis stream the queue inlet reads. */
  SWITCHBOARD_QUEUE_STREAM: z.string().min(1).max(200).default("switchboard:commands"),
  /** Commands pending this long on a consumer that went away are taken over by another. */
  SWITCHBOARD_QUEUE_CLAIM_MS: z.coerce.number().int().min(100).default(30_000),
  /** A command delivered this many times without succeeding goes to the dead-letter stream. */
  SWITCHBOARD_QUEUE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(5),
  /** Plugin modules to load, comma-separated (replaces the config file's `plugins` and the plugins folder). */
  SWITCHBOARD_PLUGINS: z
    .string()
    .transform((s) => s.split(",").map((f) => f.trim()).filter(Boolean))
    .optional(),
  /** Folder whose modules are loaded as plugins when no list is given. */
  SWITCHBOARD_PLUGINS_DIR: z.string().min(1).default("./plugins"),
  /** Path of the config file; default: switchboard.config.{json,yaml,yml} in the working directory, if present. */
  SWITCHBOARD_CONFIG: z.string().min(1).optional(),
  /** Where uploaded files are kept: `database` (the default; nothing else to run), `directory` or `s3`. */
  SWITCHBOARD_UPLOAD_STORE: z.enum(["database", "directory", "s3"]).default("database"),
  /** The `s3` store: its bucket (required), an S3-compatible service's URL (default AWS), region, key prefix, keys. */
  SWITCHBOARD_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "a bucket name: 3–63 lowercase letters, digits, '.' and '-'").optional(),
  SWITCHBOARD_S3_ENDPOINT: z.url({ protocol: /^https?$/, message: "must be an http(s) URL, e.g. http://minio:9000" }).optional(),
  SWITCHBOARD_S3_REGION: z.string().regex(/^[a-z0-9-]{1,40}$/, "a region such as us-east-1").default("us-east-1"),
  SWITCHBOARD_S3_PREFIX: z.string().regex(/^[A-Za-z0-9!_.*'()/-]{0,200}$/, "letters, digits and !_.*'()/- only").default(""),
  SWITCHBOARD_S3_ACCESS_KEY_ID: z.string().min(1).max(200).optional(),
  SWITCHBOARD_S3_SECRET_ACCESS_KEY: z.string().min(1).max(200).optional(),
  /** The folder of the `directory` store (shared by every instance); default DATA_DIR/uploads. */
  SWITCHBOARD_UPLOAD_DIR: z.string().min(1).optional(),
  /** Largest file one may upload: bytes, or with a unit (`10MB`, `512KB`, `1GB`; units of 1024). */
  SWITCHBOARD_UPLOAD_MAX_SIZE: z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB)?$/i, "a size such as 10MB, 512KB or 1048576")
    .default("10MB")
    .transform(parseSize)
    .pipe(z.number().int().min(1, "must be at least one byte").max(2 ** 31 - 1, "must be under 2 GB")),
  /** MIME types one may upload, comma-separated: `image/png`, `image/*`, or `*` + `/*` (the default) for any. */
  SWITCHBOARD_UPLOAD_TYPES: z
    .string()
    .default("*/*")
    .transform((s) => s.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^([a-z0-9][a-z0-9!#$&^_.+-]*|\*)\/([a-z0-9][a-z0-9!#$&^_.+-]*|\*)$/, "each type is type/subtype, type/* or */*")).min(1)),
  /** API keys for /api/v1, comma-separated; replaces the config file's `apiKeys`. */
  SWITCHBOARD_API_KEYS: z
    .string()
    .transform((s) => s.split(",").map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(apiKeyValue))
    .optional(),
});

/** Settings of one Socket.IO namespace (Centrifugo's "categories"). */
export const namespaceSettingsSchema = z.strictObject({
  /** `account`: a Switchboard or host-application token is required; `anonymous`: anyone may connect (a token still identifies). */
  auth: z.enum(["account", "anonymous"]).default("account"),
  /** May clients publish to channels themselves (Centrifugo's "bidirectional")? */
  clientPublish: z.boolean().default(false),
  /** Keep what is published to channels, readable with `channel:history`. */
  history: z.boolean().default(false),
  /** Clients may ask who is subscribed to a channel (`channel:presence`). */
  presence: z.boolean().default(false),
  /** At most this many connections per user in this namespace. */
  maxConnectionsPerUser: z.number().int().min(1).max(1000).optional(),
  /** At the limit: refuse the new connection, or close the user's oldest one. */
  onConnectionLimit: z.enum(["reject", "replace-oldest"]).default("reject"),
  /** At most this many connections from one client IP (default: 50 in anonymous namespaces, no limit otherwise). */
  maxConnectionsPerIp: z.number().int().min(1).max(1_000_000).optional(),
  /** Channels one connection may be subscribed to at once. */
  maxChannelsPerConnection: z.number().int().min(1).max(10_000).default(100),
  /** Channel names must match this regular expression (whole name), e.g. "(news|user:[0-9]+)". */
  channelPattern: text()
    .min(1)
    .max(500)
    .refine((p) => {
      try {
        new RegExp(p, "u");
        return true;
      } catch {
        return false;
      }
    }, "must be a valid regular expression")
    .optional(),
  /** Ask the host application about every connection first (the connect proxy). */
  connectProxy: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }),
      timeoutMs: z.number().int().min(100).max(60_000).default(3000),
      /** Request headers passed on to the app (lower-case names), e.g. ["cookie", "user-agent"]. */
      forwardHeaders: z.array(text().min(1).max(100).toLowerCase()).max(50).default([]),
    })
    .optional(),
});
export type NamespaceSettings = z.output<typeof namespaceSettingsSchema>;

/** The namespace limit in force: anonymous namespaces default to 50 connections per IP. */
export function maxConnectionsPerIp(settings: NamespaceSettings): number | null {
  return settings.maxConnectionsPerIp ?? (settings.auth === "anonymous" ? 50 : null);
}

/** An HTTP API key and what it may do. */
export interface ApiKey {
  key: string;
  /** Namespaces the key may address; null: every namespace. Persistent rooms belong to `/`. */
  namespaces: string[] | null;
  /** Only GET routes (lists, counts, history). */
  readOnly: boolean;
}

const namespaceName = z.string().regex(/^\/[a-z0-9][a-z0-9_-]{0,39}$/, "a namespace is '/' followed by a lowercase name, e.g. '/push'");

const fileSchema = z.strictObject({
  /** A key, or a key with scopes: `{key, namespaces: ["/push"], readOnly: true}`. */
  apiKeys: z
    .array(
      z.union([
        apiKeyValue.transform((key): ApiKey => ({ key, namespaces: null, readOnly: false })),
        z
          .strictObject({
            key: apiKeyValue,
            namespaces: z
              .array(z.string().regex(/^\/([a-z0-9][a-z0-9_-]{0,39})?$/, "a namespace is '/' or '/' followed by a lowercase name"))
              .min(1)
              .optional(),
            readOnly: z.boolean().default(false),
          })
          .transform((k): ApiKey => ({ key: k.key, namespaces: k.namespaces ?? null, readOnly: k.readOnly })),
      ]),
    )
    .default([]),
  /** Plugin modules, relative to the config file. */
  plugins: z.array(text().min(1).max(1000)).default([]),
  /** Extra namespaces; the chat namespace `/` is built in and keeps contract v1. */
  namespaces: z.record(namespaceName, namespaceSettingsSchema).default({}),
});

/** The namespaces every server has unless the config file says otherwise. */
const DEFAULT_NAMESPACES: Record<string, NamespaceSettings> = {
  // Anonymous push pages: a page connects, learns its client id, and a backend
  // sends to it (a "scan to log in" page, say).
  "/push": namespaceSettingsSchema.parse({ auth: "anonymous" }),
};

export interface Config {
  env: "development" | "production" | "test";
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL URL, or `null` for the embedded database under `dataDir`. */
  databaseUrl: string | null;
  /** Signs Switchboard's own tokens. */
  secret: string;
  /** True when the secret was generated into DATA_DIR rather than given. */
  secretGenerated: boolean;
  /** Verifies tokens signed by a host application, if configured. */
  hostJwtSecret: string | null;
  webUi: boolean;
  corsOrigins: string[];
  rateLimitPerSecond: number;
  limits: Limits;
  /** How many proxies in front set `X-Forwarded-For` (0: trust none). */
  trustProxy: number;
  instanceHeader: boolean;
  /** Checks on host-application tokens besides the signature. */
  hostJwt: { issuer: string | null; audience: string | null; maxTtlSeconds: number | null };
  tokenTtlSeconds: number;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  /** Keys accepted by the HTTP API v1 (`Authorization: Bearer <key>`). Empty: the API is closed. */
  apiKeys: ApiKey[];
  apiRateLimitPerSecond: number;
  /** Prometheus metrics: off (null) unless a token or a port of their own is set. */
  metrics: { token: string | null; port: number | null } | null;
  /** Namespaces besides the chat namespace `/`, by name. */
  namespaces: Record<string, NamespaceSettings>;
  /** Plugin modules to load; when empty, every module in `pluginsDir`. */
  pluginFiles: string[];
  pluginsDir: string;
  redisUrl: string | null;
  redisSharded: boolean;
  /** Worker processes in cluster mode; 1 = no cluster. */
  workers: number;
  clusterTimeoutMs: number;
  instanceId: string;
  queue: { stream: string; claimIdleMs: number; maxAttempts: number };
  /** Uploaded files: where they are kept, the largest accepted, the types accepted. */
  uploads: { store: "database" | "directory" | "s3"; directory: string; s3: S3Settings | null; maxBytes: number; allowedTypes: string[] };
  /** The config file read, if any. */
  configFile: string | null;
}

/** Limits on what one client, user or address may do (docs/security.md lists them all). */
export interface Limits {
  userEventsPerSecond: number;
  maxConnectionsPerUser: number;
  connectsPerIpPerMinute: number;
  authAttemptsPerIpPerMinute: number;
  loginFailuresPerUsername: number;
  signupsPerIpPerHour: number;
  uploadsPerUserPerMinute: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Validates `env` (default: `process.env`) into a {@link Config}. When no
 * `SWITCHBOARD_SECRET` is given, one is generated on first start and kept in
 * `DATA_DIR/secret` so tokens stay valid across restarts.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most twelve-factor tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join(".") || "environment"}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const { file: configFile, settings: file } = loadConfigFile(e.SWITCHBOARD_CONFIG);
  const secret = e.SWITCHBOARD_SECRET ?? loadOrCreateSecret(dataDir);
  if (e.SWITCHBOARD_JWT_SECRET !== undefined && e.SWITCHBOARD_JWT_SECRET === secret) {
    throw new ConfigError([
      "SWITCHBOARD_JWT_SECRET: must differ from SWITCHBOARD_SECRET (a host application holding it could sign Switchboard's own tokens)",
    ]);
  }
  if (e.SWITCHBOARD_METRICS_PORT !== undefined && e.SWITCHBOARD_METRICS_PORT !== 0 && e.SWITCHBOARD_METRICS_PORT === e.PORT) {
    throw new ConfigError(["SWITCHBOARD_METRICS_PORT: must differ from PORT (to serve metrics on the main port, set SWITCHBOARD_METRICS_TOKEN instead)"]);
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? null,
    secret,
    secretGenerated: e.SWITCHBOARD_SECRET === undefined,
    hostJwtSecret: e.SWITCHBOARD_JWT_SECRET ?? null,
    webUi: e.SWITCHBOARD_WEB_UI,
    corsOrigins: e.SWITCHBOARD_CORS_ORIGINS,
    rateLimitPerSecond: e.SWITCHBOARD_RATE_LIMIT,
    limits: {
      userEventsPerSecond: e.SWITCHBOARD_USER_RATE_LIMIT,
      maxConnectionsPerUser: e.SWITCHBOARD_MAX_CONNECTIONS_PER_USER,
      connectsPerIpPerMinute: e.SWITCHBOARD_CONNECT_RATE_LIMIT,
      authAttemptsPerIpPerMinute: e.SWITCHBOARD_AUTH_RATE_LIMIT,
      loginFailuresPerUsername: e.SWITCHBOARD_LOGIN_FAILURE_LIMIT,
      signupsPerIpPerHour: e.SWITCHBOARD_SIGNUP_LIMIT,
      uploadsPerUserPerMinute: e.SWITCHBOARD_UPLOAD_RATE_LIMIT,
    },
    trustProxy: e.SWITCHBOARD_TRUST_PROXY,
    instanceHeader: e.SWITCHBOARD_INSTANCE_HEADER,
    hostJwt: {
      issuer: e.SWITCHBOARD_JWT_ISSUER ?? null,
      audience: e.SWITCHBOARD_JWT_AUDIENCE ?? null,
      maxTtlSeconds: e.SWITCHBOARD_JWT_MAX_TTL ?? null,
    },
    tokenTtlSeconds: e.SWITCHBOARD_TOKEN_TTL,
    logLevel: e.LOG_LEVEL,
    apiKeys: e.SWITCHBOARD_API_KEYS?.map((key) => ({ key, namespaces: null, readOnly: false })) ?? file.apiKeys,
    apiRateLimitPerSecond: e.SWITCHBOARD_API_RATE_LIMIT,
    metrics:
      e.SWITCHBOARD_METRICS_TOKEN !== undefined || e.SWITCHBOARD_METRICS_PORT !== undefined
        ? { token: e.SWITCHBOARD_METRICS_TOKEN ?? null, port: e.SWITCHBOARD_METRICS_PORT ?? null }
        : null,
    namespaces: { ...DEFAULT_NAMESPACES, ...file.namespaces },
    pluginFiles:
      e.SWITCHBOARD_PLUGINS?.map((f) => path.resolve(f)) ??
      file.plugins.map((f) => path.resolve(configFile ? path.dirname(configFile) : ".", f)),
    pluginsDir: path.resolve(e.SWITCHBOARD_PLUGINS_DIR),
    redisUrl: e.REDIS_URL ?? null,
    redisSharded: e.SWITCHBOARD_REDIS_SHARDED,
    workers: e.SWITCHBOARD_WORKERS,
    clusterTimeoutMs: e.SWITCHBOARD_CLUSTER_TIMEOUT_MS,
    instanceId: e.SWITCHBOARD_INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    queue: {
      stream: e.SWITCHBOARD_QUEUE_STREAM,
      claimIdleMs: e.SWITCHBOARD_QUEUE_CLAIM_MS,
      maxAttempts: e.SWITCHBOARD_QUEUE_MAX_ATTEMPTS,
    },
    uploads: {
      store: e.SWITCHBOARD_UPLOAD_STORE,
      directory: path.resolve(e.SWITCHBOARD_UPLOAD_DIR ?? path.join(dataDir, "uploads")),
      s3: s3Settings(e),
      maxBytes: e.SWITCHBOARD_UPLOAD_MAX_SIZE,
      allowedTypes: e.SWITCHBOARD_UPLOAD_TYPES,
    },
    configFile,
  };
}

/** The `s3` store's settings, checked together: a bucket, and both keys or neither. */
function s3Settings(e: z.infer<typeof envSchema>): S3Settings | null {
  const problems: string[] = [];
  if (e.SWITCHBOARD_UPLOAD_STORE === "s3" && !e.SWITCHBOARD_S3_BUCKET) problems.push("SWITCHBOARD_S3_BUCKET: required when SWITCHBOARD_UPLOAD_STORE=s3");
  if (!e.SWITCHBOARD_S3_ACCESS_KEY_ID !== !e.SWITCHBOARD_S3_SECRET_ACCESS_KEY) {
    problems.push("SWITCHBOARD_S3_ACCESS_KEY_ID / SWITCHBOARD_S3_SECRET_ACCESS_KEY: give both or neither");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (e.SWITCHBOARD_UPLOAD_STORE !== "s3") return null;
  return {
    bucket: e.SWITCHBOARD_S3_BUCKET!,
    endpoint: e.SWITCHBOARD_S3_ENDPOINT ?? null,
    region: e.SWITCHBOARD_S3_REGION,
    prefix: e.SWITCHBOARD_S3_PREFIX,
    credentials: e.SWITCHBOARD_S3_ACCESS_KEY_ID
      ? { accessKeyId: e.SWITCHBOARD_S3_ACCESS_KEY_ID, secretAccessKey: e.SWITCHBOARD_S3_SECRET_ACCESS_KEY! }
      : null,
  };
}

/** `10MB` → 10485760 (units of 1024, as file managers show sizes). */
function parseSize(s: string): number {
  // A bare number of bytes matches an empty unit (""), not a missing one.
  const [, amount, unit] = /^([0-9.]+)\s*([A-Z]*)$/i.exec(s.trim())!;
  const factor = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(unit || "B").toUpperCase() as "B"];
  return Math.round(Number(amount) * factor);
}

function loadConfigFile(explicit: string | undefined): { file: string | null; settings: z.output<typeof fileSchema> } {
  const candidates = explicit
    ? [explicit]
    : ["switchboard.config.json", "switchboard.config.yaml", "switchboard.config.yml"].filter((f) => existsSync(f));
  const file = candidates[0] ? path.resolve(candidates[0]) : null;
  if (!file) return { file: null, settings: fileSchema.parse({}) };
  let raw: unknown;
  try {
    const text = readFileSync(file, "utf8");
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${file}: cannot read: ${(err as Error).message}`]);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${file}: in ${i.path.map((p) => JSON.stringify(p)).join(".") || "(top level)"}: ${i.message}`),
    );
  }
  return { file, settings: parsed.data };
}

function loadOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, "secret");
  try {
    return checkedSecret(file, readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  // `wx`: if another process created it first, fail and re-read theirs.
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return checkedSecret(file, readFileSync(file, "utf8"));
    throw err;
  }
}

/** A secret file's content must pass the same check as SWITCHBOARD_SECRET. */
function checkedSecret(file: string, content: string): string {
  const secret = content.trim();
  if (secret.length < 32) {
    throw new ConfigError([`${file}: the secret must be at least 32 characters (delete the file to have a new one generated)`]);
  }
  return secret;
}
