/**
 * HTTP API v1 for backends: one route per operation of the gateway's table
 * (core/gateway.ts) — decode the path, query and body with the operation's
 * schemas → run it → encode. The same table generates /api/v1/openapi.json
 * (openapi.ts), so the two cannot disagree.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { ApiKey } from "../config";
import type { Core } from "../core";
import { AppError, parseInput } from "../core/errors";
import { type HttpMethod, type Operation, type OperationName, operationList, pathParams } from "../core/gateway";
import { TokenBucket } from "../limits/token-bucket";
import { mountBackendFiles } from "./files";
import { readJsonBody } from "./json-body";
import { openApiDocument } from "./openapi";

export interface Route {
  operation: OperationName;
  method: HttpMethod;
  /** OpenAPI-style path under /api/v1, e.g. `/clients/{clientId}/send`. */
  path: string;
  params: z.ZodType<Record<string, string>>;
  query: z.ZodObject;
  body: z.ZodObject | undefined;
  /** 204 for an operation that answers nothing. */
  status: 200 | 201 | 204;
}

export const routes: Route[] = operationList().map(([name, op]: [OperationName, Operation]) => ({
  operation: name,
  method: op.http.method,
  path: op.http.path,
  params: z.strictObject(pathParams(op.http.path)),
  query: op.query,
  body: op.body,
  status: op.output === null ? 204 : (op.http.status ?? 200),
}));

export interface ApiV1Options {
  core: Core;
  apiKeys: ApiKey[];
  /** Requests per second per API key (bursts of twice that). */
  rateLimitPerSecond?: number;
  /** Counts an upload against its author's limit (none by default). */
  throttleUploads?: (userId: string) => Promise<void>;
}

/** Mounts the routes on `app` (which is mounted at /api/v1), behind API keys. */
export function mountApiV1(app: Hono, options: ApiV1Options): void {
  const keys = options.apiKeys.map((k) => ({ ...k, digest: digest(k.key) }));
  const buckets = new Map<string, TokenBucket>();
  /** The key that authenticated each request. */
  const keyOf = new WeakMap<Request, ApiKey>();

  app.get("/openapi.json", (c) => c.json(openApiDocument()));

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization");
    const key = header?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? c.req.header("x-api-key");
    if (!key) throw new AppError("unauthorized", "send an API key: `Authorization: Bearer <key>`");
    const d = digest(key);
    // Compare digests in constant time against every configured key.
    const match = keys.reduce<ApiKey | null>((found, k) => (timingSafeEqual(k.digest, d) ? k : found), null);
    if (!match) throw new AppError("unauthorized", "unknown API key");
    keyOf.set(c.req.raw, match);
    const id = d.toString("hex");
    let bucket = buckets.get(id);
    if (!bucket) buckets.set(id, (bucket = new TokenBucket(options.rateLimitPerSecond ?? 1000)));
    if (!bucket.take()) throw new AppError("rate_limited", "too many requests for this API key; slow down", bucket.secondsUntilNext());
    await next();
  });

  /** Files belong to the chat namespace's rooms: a key kept to other namespaces may not touch them, a read-only one not upload. */
  const mayUse = (c: Context, write: boolean) => {
    const key = keyOf.get(c.req.raw);
    if (!key) throw new AppError("unauthorized", "send an API key: `Authorization: Bearer <key>`");
    if (write && key.readOnly) throw new AppError("forbidden", "this API key is read-only");
    if (key.namespaces && !key.namespaces.includes("/")) throw new AppError("forbidden", 'this API key may not address namespace "/"');
  };
  mountBackendFiles(app, options.core, mayUse, options.throttleUploads ?? (async () => {}));

  for (const r of routes) {
    app.on(r.method.toUpperCase(), r.path.replace(/\{(\w+)\}/g, ":$1"), async (c) => {
      const key = keyOf.get(c.req.raw);
      // Fail closed: a request that reached a route without its key is refused.
      if (!key) throw new AppError("unauthorized", "send an API key: `Authorization: Bearer <key>`");
      if (key.readOnly && r.method !== "get") throw new AppError("forbidden", "this API key is read-only");
      const params = parseInput(r.params, c.req.param());
      const body = r.body ? parseInput(r.body, await readJsonBody(c)) : {};
      const query = parseInput(r.query, c.req.query());
      const input = { ...params, ...query, ...body } as { namespace?: string };
      // Persistent rooms and their messages belong to the chat namespace `/`.
      const namespace = input.namespace ?? "/";
      if (key.namespaces && !key.namespaces.includes(namespace)) {
        throw new AppError("forbidden", `this API key may not address namespace "${namespace}"`);
      }
      const result = await options.core.gateway.run(r.operation, input);
      if (r.status === 204) return c.body(null, 204);
      return c.json(result as object, r.status as ContentfulStatusCode);
    });
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}
