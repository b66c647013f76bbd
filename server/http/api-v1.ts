/**
 * HTTP API v1 for backends, as a table of routes. The same table mounts the
 * Hono routes (decode with the shared schemas → call the gateway → encode)
 * and generates /api/v1/openapi.json, so the two cannot disagree.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import {
  addMembersBody,
  bindBody,
  channelName,
  clientInfo,
  createRoomBody,
  emitBody,
  errorSchema,
  historyQuery,
  id,
  namespaceQuery,
  pageQuery,
  postMessageBody,
  publishBody,
} from "../../shared/gateway";
import { messageShape, roomShape } from "../../shared/shapes";
import type { ApiKey } from "../config";
import type { Core } from "../core";
import { AppError, parseInput } from "../core/errors";
import { TokenBucket } from "../limits/token-bucket";
import { readJsonBody } from "./json-body";

type Method = "get" | "post" | "put" | "delete";

interface RouteContext<B, Q> {
  core: Core;
  body: B;
  query: Q;
  params: Record<string, string>;
}

interface Route<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: Method;
  /** OpenAPI-style path under /api/v1, e.g. `/clients/{clientId}/send`. */
  path: string;
  summary: string;
  tag: "Delivery" | "Clients" | "Users" | "Groups" | "Rooms";
  body?: B;
  query?: Q;
  /** Success status and body schema (null: 204 No Content). */
  status?: 200 | 201 | 204;
  response: z.ZodType | null;
  run(ctx: RouteContext<z.output<B>, z.output<Q>>): Promise<unknown> | unknown;
}

function route<B extends z.ZodType = z.ZodNever, Q extends z.ZodType = typeof namespaceQuery>(r: Route<B, Q>): Route {
  return r as unknown as Route;
}

/**
 * Path parameters are client input too: validated like the same fields in
 * bodies and queue commands (a U+0000 in `/rooms/%00/messages` reached the
 * database and failed as `internal`).
 */
const PATH_PARAMS: Record<string, z.ZodType<string>> = { clientId: id, userId: id, roomId: id, group: channelName };

function pathParamsSchema(path: string): z.ZodType<Record<string, string>> {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return z.object(Object.fromEntries(names.map((name) => [name, PATH_PARAMS[name] ?? id])));
}

const ns = namespaceQuery;
/** Lists that grow with the number of connections come in pages. */
const listQuery = namespaceQuery.extend(pageQuery.shape);
const nextCursor = z.string().optional().describe("present when there is more: pass it as `after` for the next page");
const count = z.object({ count: z.number().int() });
const online = z.object({ online: z.boolean() });
const clients = z.object({ clients: z.array(clientInfo), nextCursor });
const nothing = z.object({});

export const routes: Route[] = [
  // ---- delivery ----
  route({
    method: "post", path: "/publish", tag: "Delivery", body: publishBody, query: z.strictObject({}),
    summary: "Deliver an event to any mix of rooms, users, clients, groups, channels or everyone",
    response: z.object({ targets: z.number().int().describe("how many targets were addressed") }),
    run: ({ core, body }) => core.gateway.publish(body),
  }),
  route({
    method: "post", path: "/broadcast", tag: "Delivery", body: emitBody, query: ns,
    summary: "Broadcast an event to every connection of a namespace", response: nothing,
    run: ({ core, body, query }) => (core.gateway.broadcast(query.namespace, body), {}),
  }),
  // ---- clients (connections) ----
  route({
    method: "get", path: "/clients", tag: "Clients", query: listQuery,
    summary: "List online clients (a page, by id)", response: clients,
    run: ({ core, query }) => core.gateway.listClients(query.namespace, query),
  }),
  route({
    method: "get", path: "/clients/count", tag: "Clients", query: ns,
    summary: "Count online clients", response: count,
    run: async ({ core, query }) => ({ count: await core.gateway.countClients(query.namespace) }),
  }),
  route({
    method: "get", path: "/clients/{clientId}", tag: "Clients", query: ns,
    summary: "Is a client online?", response: online,
    run: async ({ core, query, params }) => ({ online: await core.gateway.isClientOnline(query.namespace, params.clientId!) }),
  }),
  route({
    method: "post", path: "/clients/{clientId}/send", tag: "Clients", body: emitBody, query: ns,
    summary: "Send an event to one client (404 if it is not connected)", response: nothing,
    run: async ({ core, body, query, params }) => (await core.gateway.sendToClient(query.namespace, params.clientId!, body), {}),
  }),
  route({
    method: "post", path: "/clients/{clientId}/close", tag: "Clients", query: ns,
    summary: "Close a client's connection", status: 204, response: null,
    run: ({ core, query, params }) => core.gateway.closeClient(query.namespace, params.clientId!),
  }),
  route({
    method: "get", path: "/clients/{clientId}/user", tag: "Clients", query: ns,
    summary: "Get the user a client is bound to", response: z.object({ userId: z.string().nullable() }),
    run: async ({ core, query, params }) => ({ userId: await core.gateway.userOfClient(query.namespace, params.clientId!) }),
  }),
  route({
    method: "put", path: "/clients/{clientId}/user", tag: "Clients", body: bindBody, query: ns,
    summary: "Bind a client to a user id (it then gets what is sent to that user)", status: 204, response: null,
    run: ({ core, body, query, params }) => core.gateway.bindUser(query.namespace, params.clientId!, body.userId),
  }),
  route({
    method: "delete", path: "/clients/{clientId}/user", tag: "Clients", query: ns,
    summary: "Unbind a client from its user", status: 204, response: null,
    run: ({ core, query, params }) => core.gateway.unbindUser(query.namespace, params.clientId!),
  }),
  // ---- users ----
  route({
    method: "get", path: "/users", tag: "Users", query: listQuery,
    summary: "List online user ids (a page, sorted)", response: z.object({ users: z.array(z.string()), nextCursor }),
    run: ({ core, query }) => core.gateway.listUsers(query.namespace, query),
  }),
  route({
    method: "get", path: "/users/count", tag: "Users", query: ns,
    summary: "Count online users", response: count,
    run: async ({ core, query }) => ({ count: await core.gateway.countUsers(query.namespace) }),
  }),
  route({
    method: "get", path: "/users/{userId}", tag: "Users", query: ns,
    summary: "Is a user online (any connection)?", response: online,
    run: async ({ core, query, params }) => ({ online: await core.gateway.isUserOnline(query.namespace, params.userId!) }),
  }),
  route({
    method: "get", path: "/users/{userId}/clients", tag: "Users", query: listQuery,
    summary: "List a user's clients (a page, by id)", response: clients,
    run: ({ core, query, params }) => core.gateway.listUserClients(query.namespace, params.userId!, query),
  }),
  route({
    method: "post", path: "/users/{userId}/send", tag: "Users", body: emitBody, query: ns,
    summary: "Send an event to every connection of a user", response: nothing,
    run: ({ core, body, query, params }) => (core.gateway.sendToUser(query.namespace, params.userId!, body), {}),
  }),
  // ---- groups ----
  route({
    method: "get", path: "/groups", tag: "Groups", query: listQuery,
    summary: "List groups that have online clients (a page, sorted)", response: z.object({ groups: z.array(z.string()), nextCursor }),
    run: ({ core, query }) => core.gateway.listGroups(query.namespace, query),
  }),
  route({
    method: "get", path: "/groups/count", tag: "Groups", query: ns,
    summary: "Count groups that have online clients", response: count,
    run: async ({ core, query }) => ({ count: await core.gateway.countGroups(query.namespace) }),
  }),
  route({
    method: "get", path: "/groups/{group}/clients", tag: "Groups", query: listQuery,
    summary: "List a group's online clients (a page, by id)", response: clients,
    run: ({ core, query, params }) => core.gateway.listGroupClients(query.namespace, params.group!, query),
  }),
  route({
    method: "get", path: "/groups/{group}/clients/count", tag: "Groups", query: ns,
    summary: "Count a group's online clients", response: count,
    run: async ({ core, query, params }) => ({ count: await core.gateway.countGroupClients(query.namespace, params.group!) }),
  }),
  route({
    method: "post", path: "/groups/{group}/send", tag: "Groups", body: emitBody, query: ns,
    summary: "Send an event to every client in a group", response: nothing,
    run: ({ core, body, query, params }) => (core.gateway.sendToGroup(query.namespace, params.group!, body), {}),
  }),
  route({
    method: "put", path: "/groups/{group}/clients/{clientId}", tag: "Groups", query: ns,
    summary: "Add a client to a group", status: 204, response: null,
    run: ({ core, query, params }) => core.gateway.joinGroup(query.namespace, params.group!, params.clientId!),
  }),
  route({
    method: "delete", path: "/groups/{group}/clients/{clientId}", tag: "Groups", query: ns,
    summary: "Remove a client from a group", status: 204, response: null,
    run: ({ core, query, params }) => core.gateway.leaveGroup(query.namespace, params.group!, params.clientId!),
  }),
  route({
    method: "delete", path: "/groups/{group}", tag: "Groups", query: ns,
    summary: "Dissolve a group (every client leaves it)", status: 204, response: null,
    run: ({ core, query, params }) => core.gateway.dissolveGroup(query.namespace, params.group!),
  }),
  // ---- persistent rooms ----
  route({
    method: "post", path: "/rooms", tag: "Rooms", body: createRoomBody, query: z.strictObject({}),
    summary: "Create a persistent room (members are created as host users if new)", status: 201,
    response: z.object({ room: roomShape }),
    run: async ({ core, body }) => ({ room: await core.gateway.createRoom(body) }),
  }),
  route({
    method: "post", path: "/rooms/{roomId}/members", tag: "Rooms", body: addMembersBody, query: z.strictObject({}),
    summary: "Add members to a room", response: z.object({ added: z.array(z.string()) }),
    run: async ({ core, body, params }) => ({ added: await core.gateway.addMembers(params.roomId!, body.userIds) }),
  }),
  route({
    method: "delete", path: "/rooms/{roomId}/members/{userId}", tag: "Rooms", query: z.strictObject({}),
    summary: "Remove a member from a room", status: 204, response: null,
    run: ({ core, params }) => core.gateway.removeMember(params.roomId!, params.userId!),
  }),
  route({
    method: "post", path: "/rooms/{roomId}/messages", tag: "Rooms", body: postMessageBody, query: z.strictObject({}),
    summary: "Post a message as a user, a named bot or the system (stored and delivered live)", status: 201,
    response: z.object({ message: messageShape }),
    run: async ({ core, body, params }) => ({ message: await core.gateway.postMessage(params.roomId!, body) }),
  }),
  route({
    method: "get", path: "/rooms/{roomId}/messages", tag: "Rooms", query: historyQuery,
    summary: "Read a room's history, oldest first (page back with `before`)",
    response: z.object({ messages: z.array(messageShape), hasMore: z.boolean() }),
    run: ({ core, query, params }) => core.gateway.history(params.roomId!, query),
  }),
];

export interface ApiV1Options {
  core: Core;
  apiKeys: ApiKey[];
  /** Requests per second per API key (bursts of twice that). */
  rateLimitPerSecond?: number;
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

  for (const r of routes) {
    const honoPath = r.path.replace(/\{(\w+)\}/g, ":$1");
    const paramsSchema = pathParamsSchema(r.path);
    app.on(r.method.toUpperCase(), honoPath, async (c) => {
      const key = keyOf.get(c.req.raw);
      // Fail closed: a request that reached a route without its key is refused.
      if (!key) throw new AppError("unauthorized", "send an API key: `Authorization: Bearer <key>`");
      if (key.readOnly && r.method !== "get") throw new AppError("forbidden", "this API key is read-only");
      const params = parseInput(paramsSchema, c.req.param());
      const body = r.body ? parseInput(r.body, await readJsonBody(c)) : undefined;
      const query = parseInput(r.query ?? z.strictObject({}), c.req.query());
      if (key.namespaces) {
        // Persistent rooms and their messages belong to the chat namespace `/`.
        const namespace = (query as { namespace?: string }).namespace ?? (body as { namespace?: string } | undefined)?.namespace ?? "/";
        if (!key.namespaces.includes(namespace)) throw new AppError("forbidden", `this API key may not address namespace "${namespace}"`);
      }
      const result = await r.run({ core: options.core, body, query, params });
      if (r.status === 204) return c.body(null, 204);
      return c.json(result as object, (r.status ?? 200) as ContentfulStatusCode);
    });
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}


const ERROR_RESPONSES = {
  "400": "invalid_payload: the body or a query parameter is invalid",
  "401": "unauthorized: missing or unknown API key",
  "404": "not_found: unknown client, room, user or namespace",
  "413": "too_large: body over 64 KiB, or a string over its limit",
  "429": "rate_limited: too many requests for this key",
};

/** The OpenAPI 3.1 document, generated from the route table's schemas. */
export function openApiDocument(): object {
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: schema(PATH_PARAMS[m[1]!] ?? id),
    }));
    const queryShape = r.query instanceof z.ZodObject ? (r.query.shape as Record<string, z.ZodType>) : {};
    const queryParams = Object.entries(queryShape).map(([name, s]) => ({
      name,
      in: "query",
      required: false,
      schema: schema(s),
    }));
    const status = String(r.status ?? 200);
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...pathParams, ...queryParams],
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: schema(r.body) } } } } : {}),
      responses: {
        [status]: r.response
          ? { description: "success", content: { "application/json": { schema: schema(r.response) } } }
          : { description: "success, no content" },
        ...Object.fromEntries(
          Object.entries(ERROR_RESPONSES).map(([code, description]) => [
            code,
            { description, content: { "application/json": { schema: schema(errorSchema) } } },
          ]),
        ),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchboard HTTP API",
      version: "1",
      description: "Push events to connections and manage them from any backend. See docs/api.md.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ apiKey: [] }],
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "an API key from SWITCHBOARD_API_KEYS" } } },
    paths,
  };
}
