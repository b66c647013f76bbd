/**
 * HTTP routes under `/api` (and the health checks). Like the socket handlers
 * they only decode (shared schemas), call the core, and encode; errors go
 * out as `{error: {code, message}}` with the catalogue's status.
 */
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { routePath } from "hono/route";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { loginInput, logoutInput, passwordChangeInput, registerInput } from "../../shared/schemas";
import type { ApiKey } from "../config";
import type { Core } from "../core";
import { AppError, parseInput, toAppError } from "../core/errors";
import { clientAddress } from "../limits/client-address";
import type { Throttles } from "../limits/throttles";
import type { Logger } from "../logger";
import { mountApiV1 } from "./api-v1";
import { mountUserFiles } from "./files";
import { mountProfile } from "./profile";
import { peerAddress, readJsonBody } from "./json-body";
import { TOKEN_COOKIE } from "../cookies";
import { metricsAnswer, type Metrics } from "../metrics/metrics";

export interface HttpDeps {
  core: Core;
  log: Logger;
  tokenTtlSeconds: number;
  instanceId: string;
  /** Send `x-switchboard-instance` on every answer, to see which instance a load balancer chose. */
  instanceHeader: boolean;
  throttles: Throttles;
  /** How many proxies in front set `X-Forwarded-For`. */
  trustProxy: number;
  /** Keys for the HTTP API v1. */
  apiKeys: ApiKey[];
  apiRateLimitPerSecond: number;
  /** Resolves when the database answers; rejects otherwise. */
  checkDatabase: () => Promise<void>;
  /** Redis, when configured: the instance works without it, degraded (no cross-instance delivery). */
  redis: { healthy: () => boolean } | null;
  /** Prometheus metrics, when on; `token`: `GET /metrics` here needs it (null: metrics are served on their own port only). */
  metrics?: { metrics: Metrics; token: string | null } | null;
}

export function createHttpApp(deps: HttpDeps): Hono {
  const { core, log } = deps;
  const app = new Hono();
  if (deps.instanceHeader) {
    app.use("*", async (c, next) => {
      await next();
      c.header("x-switchboard-instance", deps.instanceId);
    });
  }
  const metrics = deps.metrics?.metrics;
  if (metrics) {
    // Every API request by the route that answered it (its pattern, never the path a client sent).
    app.use("/api/*", async (c, next) => {
      const started = performance.now();
      await next();
      metrics.httpRequest(routePath(c) || "(none)", c.req.method, c.res.status, (performance.now() - started) / 1000);
    });
  }
  const metricsToken = deps.metrics?.token;
  if (metrics && metricsToken) {
    app.get("/metrics", async (c) => {
      const answer = await metricsAnswer(metrics, metricsToken, c.req.header("authorization"));
      return c.body(answer.body, answer.status, { "content-type": answer.contentType, "cache-control": "no-store" });
    });
  }
  const address = (c: Context) => clientAddress(peerAddress(c), c.req.header("x-forwarded-for"), deps.trustProxy);
  /** The token a request presents: `Authorization: Bearer`, else the web UI's cookie. */
  const presentedToken = (c: Context) =>
    c.req.header("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1] ?? getCookie(c, TOKEN_COOKIE);

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  /**
   * Ready: `ok` (200); `degraded` (200) while Redis is away — this instance
   * still serves its own clients; `unavailable` (503) while the database is down.
   */
  app.get("/readyz", async (c) => {
    const database = await deps.checkDatabase().then(
      () => "ok" as const,
      (err: unknown) => (log.warn({ err }, "readiness: database down"), "down" as const),
    );
    const redis = deps.redis ? (deps.redis.healthy() ? "ok" : "down") : "off";
    const status = database === "down" ? "unavailable" : redis === "down" ? "degraded" : "ok";
    return c.json({ status, checks: { database, redis } }, status === "unavailable" ? 503 : 200);
  });

  const api = new Hono();

  // Every POST here may ride on the cookie. A page of another site can make
  // the browser send a form (text/plain, urlencoded, multipart) without
  // asking, but not JSON: requiring JSON stops login and logout CSRF.
  api.use("/auth/*", async (c, next) => {
    if (c.req.method === "POST") {
      const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
      if (type !== "application/json") throw new AppError("unsupported_media_type", "send JSON with `Content-Type: application/json`");
    }
    await next();
  });

  api.post("/auth/register", async (c) => {
    await deps.throttles.authAttempt(address(c));
    const input = await body(c, registerInput);
    await deps.throttles.signup(address(c));
    const result = await core.accounts.register(input);
    setTokenCookie(c, result.token, deps.tokenTtlSeconds, deps.trustProxy);
    return c.json(result, 201);
  });

  api.post("/auth/login", async (c) => {
    await deps.throttles.authAttempt(address(c));
    const result = await core.accounts.login(await body(c, loginInput));
    setTokenCookie(c, result.token, deps.tokenTtlSeconds, deps.trustProxy);
    return c.json(result);
  });

  /** Signs out this session (its token stops working at once), or every session with `{"everywhere": true}`. */
  api.post("/auth/logout", async (c) => {
    const input = parseInput(logoutInput, await readJsonBody(c, { optional: true }));
    const token = presentedToken(c);
    if (input.everywhere) {
      const { user } = await core.accounts.identify(token);
      await core.accounts.signOutEverywhere(user.id);
    } else {
      await core.accounts.signOut(token);
    }
    deleteCookie(c, TOKEN_COOKIE, { path: "/" });
    return c.body(null, 204);
  });

  /** Changes the password (the current one is checked) and signs out every other session. */
  api.post("/auth/password", async (c) => {
    await deps.throttles.authAttempt(address(c));
    const identity = await core.accounts.identify(presentedToken(c));
    await core.accounts.changePassword(identity, await body(c, passwordChangeInput));
    return c.body(null, 204);
  });

  /** The signed-in user, from `Authorization: Bearer` or the cookie. */
  api.get("/auth/me", async (c) => {
    const { user } = await core.accounts.identify(presentedToken(c));
    return c.json({ user });
  });

  const identify = async (c: Context) => (await core.accounts.identify(presentedToken(c))).user;
  const throttleUploads = (userId: string) => deps.throttles.upload(userId);
  mountUserFiles(api, core, identify, throttleUploads);
  mountProfile(api, core, identify);

  const v1 = new Hono();
  mountApiV1(v1, { core, apiKeys: deps.apiKeys, rateLimitPerSecond: deps.apiRateLimitPerSecond, throttleUploads });
  api.route("/v1", v1);

  api.all("*", () => {
    throw new AppError("not_found", "no such API route");
  });

  app.route("/api", api);

  // Switchboard's own paths (/healthz, /readyz, /metrics) answered with another method.
  app.notFound((c) => c.json({ error: new AppError("not_found", "no such route").toBody() }, 404));

  app.onError((err, c) => {
    const { error, isBug } = toAppError(err);
    if (isBug) log.error({ err, path: c.req.path }, "request failed");
    if (error.retryAfter !== undefined) c.header("Retry-After", String(error.retryAfter));
    return c.json({ error: error.toBody() }, error.status as ContentfulStatusCode);
  });
  return app;
}

/** Parses a JSON body with a shared schema; anything else is `invalid_payload`. */
async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseInput(schema, await readJsonBody(c));
}

function setTokenCookie(c: Context, token: string, maxAge: number, trustProxy: number): void {
  // A proxy in front that terminates TLS says so in X-Forwarded-Proto; a client could too, so only trusted proxies count.
  const https = new URL(c.req.url).protocol === "https:" || (trustProxy > 0 && c.req.header("x-forwarded-proto") === "https");
  setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Lax", path: "/", secure: https, maxAge });
}
