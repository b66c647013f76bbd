/**
 * Namespace settings that involve the outside world: the connect proxy
 * against a small HTTP server standing in for the host application, and the
 * per-user connection limit (reject, or replace the oldest).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { api, register } from "./support/clients";
import { startTestServer, type TestServer } from "./support/server";

const KEY = "namespaces-api-key-0123456789";
const opened: Socket[] = [];

function connectTo(url: string, namespace: string, auth: Record<string, unknown> = {}, headers?: Record<string, string>) {
  const socket = io(`${url}${namespace}`, {
    auth,
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    ...(headers ? { extraHeaders: headers } : {}),
  });
  opened.push(socket);
  return new Promise<{ socket: Socket; hello: { clientId: string; userId: string | null } }>((resolve, reject) => {
    socket.once("client:hello", (hello) => resolve({ socket, hello }));
    socket.once("connect_error", reject);
  });
}

describe("namespace settings: connect proxy and connection limits", () => {
  let server: TestServer;
  let app: Server;
  let dir: string;
  const asked: Array<{ body: any; headers: IncomingMessage["headers"] }> = [];

  beforeAll(async () => {
    // The host application's connect check.
    app = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const body = JSON.parse(raw);
        asked.push({ body, headers: req.headers });
        const answer = (status: number, json: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
        switch (body.auth?.ticket) {
          case "ok":
            return answer(200, { user: { id: "app-7", name: "Pat" }, groups: ["vip"], channels: ["news"] });
          case "banned":
            return answer(200, { reject: { reason: "banned until tomorrow" } });
          case "403":
            return answer(403, {});
          case "slow":
            return void setTimeout(() => answer(200, {}), 3000);
          default:
            return answer(200, "not an object");
        }
      });
    });
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/switchboard/connect`;

    dir = mkdtempSync(path.join(tmpdir(), "switchboard-ns-"));
    const file = path.join(dir, "switchboard.config.yaml");
    writeFileSync(
      file,
      [
        "namespaces:",
        "  /proxied:",
        "    auth: anonymous",
        "    connectProxy:",
        `      url: ${appUrl}`,
        "      timeoutMs: 500",
        "      forwardHeaders: [X-Tenant]",
        "  /down:",
        "    auth: anonymous",
        "    connectProxy: { url: 'http://127.0.0.1:9/nothing', timeoutMs: 500 }",
        "  /single:",
        "    maxConnectionsPerUser: 1",
        "    onConnectionLimit: replace-oldest",
        "  /strict:",
        "    maxConnectionsPerUser: 2",
        "",
      ].join("\n"),
    );
    server = await startTestServer("embedded", { SWITCHBOARD_CONFIG: file, SWITCHBOARD_API_KEYS: KEY });
  });
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });
  afterAll(async () => {
    await server?.destroy();
    await new Promise((r) => app?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("accepts what the application accepts, as the user and in the groups it names", async () => {
    const { socket, hello } = await connectTo(server.url, "/proxied", { ticket: "ok" }, { "x-tenant": "acme" });
    expect(hello).toEqual({ clientId: socket.id, userId: "app-7" });
    const seen = asked.at(-1)!;
    expect(seen.body).toMatchObject({ clientId: socket.id, namespace: "/proxied", auth: { ticket: "ok" }, headers: { "x-tenant": "acme" } });
    expect(seen.body.remoteAddress).toMatch(/127\.0\.0\.1/);
    const res = await api(server.url, "GET", `/api/v1/groups/vip/clients?namespace=/proxied`, undefined, { authorization: `Bearer ${KEY}` });
    expect(res.body.clients).toEqual([{ id: socket.id, userId: "app-7", groups: ["vip"] }]);
    const news = new Promise((r) => socket.once("headline", r));
    await api(server.url, "POST", "/api/v1/publish", { event: "headline", data: "x", channels: ["news"], namespace: "/proxied" }, { authorization: `Bearer ${KEY}` });
    expect(await news).toBe("x");
  });

  it("refuses what the application refuses, with its reason", async () => {
    const err = await connectTo(server.url, "/proxied", { ticket: "banned" }).catch((e: Error & { data?: unknown }) => e);
    expect(err).toMatchObject({ message: "forbidden", data: { code: "forbidden", message: "banned until tomorrow" } });
    const forbidden = await connectTo(server.url, "/proxied", { ticket: "403" }).catch((e: Error) => e);
    expect(forbidden).toMatchObject({ message: "forbidden" });
  });

  it("answers a clear error when the application is slow, down or answers nonsense", async () => {
    for (const [ns, ticket] of [["/proxied", "slow"], ["/down", "ok"], ["/proxied", "garbage"]] as const) {
      const err = await connectTo(server.url, ns, { ticket }).catch((e: Error & { data?: unknown }) => e);
      expect(err, `${ns} ${ticket}`).toMatchObject({ message: "unavailable", data: { code: "unavailable" } });
    }
    // The server is fine afterwards.
    expect((await connectTo(server.url, "/proxied", { ticket: "ok" })).hello.userId).toBe("app-7");
  });

  it("replaces a user's oldest connection when the limit says so", async () => {
    const { token } = await register(server.url);
    const first = await connectTo(server.url, "/single", { token });
    const replaced = new Promise((r) => first.socket.once("connection:replaced", r));
    const closed = new Promise((r) => first.socket.once("disconnect", r));
    const second = await connectTo(server.url, "/single", { token });
    expect(await replaced).toEqual({ by: second.socket.id });
    expect(await closed).toBe("io server disconnect");
    expect(second.socket.connected).toBe(true);
  });

  it("refuses connections over the limit when it says reject", async () => {
    const { token } = await register(server.url);
    await connectTo(server.url, "/strict", { token });
    await connectTo(server.url, "/strict", { token });
    const err = await connectTo(server.url, "/strict", { token }).catch((e: Error) => e);
    expect(err).toMatchObject({ message: "too_many_connections" });
  });

  it("stops start-up with a message naming a bad setting", async () => {
    const { loadConfig, ConfigError } = await import("../server/config");
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ namespaces: { "/x": { auth: "sometimes" }, "/y": { connectProxy: { url: "ftp://x" } } } }));
    let error: unknown;
    try {
      loadConfig({ SWITCHBOARD_CONFIG: bad, DATA_DIR: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as InstanceType<typeof ConfigError>).problems.join("\n");
    expect(text).toContain('"namespaces"."/x"."auth"');
    expect(text).toContain('"namespaces"."/y"."connectProxy"."url"');
  });
});
