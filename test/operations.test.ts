/**
 * The gateway's table of operations and what is derived from it: the HTTP
 * routes, the queue commands, the OpenAPI document and the tables in
 * docs/api.md. (The operations themselves are tested over real HTTP, the
 * queue and sockets in gateway.test.ts and queue.test.ts.)
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderApiDocs } from "../scripts/api-docs";
import { operationList } from "../server/core/gateway";
import { routes } from "../server/http/api-v1";
import { openApiDocument } from "../server/http/openapi";
import { queueCommands } from "../server/inlet/commands";

describe("the operation table", () => {
  it("gives every operation one route, and every operation that is not a GET one queue command", () => {
    const all = operationList().map(([name]) => name);
    expect(routes.map((r) => r.operation)).toEqual(all);
    expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(routes.length);
    expect(Object.keys(queueCommands).sort()).toEqual(
      operationList()
        .filter(([, op]) => op.http.method !== "get")
        .map(([name]) => name)
        .sort(),
    );
    expect(routes.find((r) => r.operation === "closeClient")?.status).toBe(204);
    expect(routes.find((r) => r.operation === "createRoom")?.status).toBe(201);
  });

  it("makes a queue command of the call's path parameters, query and body fields, keeping the body's own checks", () => {
    const sendToUser = queueCommands.sendToUser!.schema;
    expect(sendToUser.parse({ userId: "42", event: "notice", data: { a: 1 } })).toEqual({ userId: "42", namespace: "/", event: "notice", data: { a: 1 } });
    expect(sendToUser.safeParse({ userId: "42", event: "notice", extra: 1 }).success).toBe(false);
    expect(sendToUser.safeParse({ event: "notice" }).success).toBe(false);
    // publish needs a target; a post is by a user or a bot, not both.
    expect(queueCommands.publish!.schema.safeParse({ event: "e" }).success).toBe(false);
    expect(queueCommands.publish!.schema.safeParse({ event: "e", users: ["1"] }).success).toBe(true);
    const post = queueCommands.postMessage!.schema;
    expect(post.safeParse({ roomId: "r", body: "hi", userId: "u", bot: { id: "b", name: "B" } }).success).toBe(false);
    expect(post.safeParse({ roomId: "r", body: "hi", bot: { id: "b", name: "B" } }).success).toBe(true);
    expect(post.safeParse({ body: "hi" }).success).toBe(false);
  });

  it("describes every route in the OpenAPI document under its operation's name", () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { operationId: string; parameters: Array<{ name: string; in: string }> }>> };
    for (const r of routes) {
      const entry = doc.paths[r.path]?.[r.method];
      expect(entry?.operationId).toBe(r.operation);
      const inPath = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(entry?.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(inPath);
    }
  });

  it("is what docs/api.md's tables say (`npm run docs:api` rewrites them)", () => {
    const doc = readFileSync(new URL("../docs/api.md", import.meta.url), "utf8");
    expect(renderApiDocs(doc)).toBe(doc);
    for (const [name] of operationList()) expect(doc).toContain(`\`${name}\``);
  });
});
