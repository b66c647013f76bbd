/**
 * A PostgreSQL outage, made real by cutting a TCP proxy between the server
 * and the database: sends answer `unavailable`, the server keeps running and
 * reports it, and everything works again once the database is back.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Room } from "../shared/protocol";
import { api, call, closeAll, connect, register, request } from "./support/clients";
import { createTestDatabase, postgresAvailable } from "./support/postgres";
import { startTestServer, type TestServer } from "./support/server";
import { TcpProxy } from "./support/tcp-proxy";

const ready = await postgresAvailable();

describe.runIf(ready)("PostgreSQL outage", () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    const through = await TcpProxy.forUrl(db.url);
    proxy = through.proxy;
    server = await startTestServer("postgres", { DATABASE_URL: through.proxied });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy().catch(() => {});
    await proxy?.cut();
    await drop?.();
  });

  it("answers unavailable while the database is down, keeps running, and recovers", async () => {
    const { token } = await register(server.url);
    const socket = await connect(server.url, token);
    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "outage" });
    expect((await request(socket, "message:send", { roomId: room.id, body: "before" })).ok).toBe(true);

    await proxy.cut();
    const during = await request(socket, "message:send", { roomId: room.id, body: "during" });
    expect(during).toEqual({ ok: false, error: { code: "unavailable", message: expect.any(String) } });
    const ready = await api(server.url, "GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: "unavailable", checks: { database: "down" } });
    expect((await api(server.url, "GET", "/healthz")).status).toBe(200);
    expect(socket.connected).toBe(true);
    const login = await api(server.url, "POST", "/api/auth/login", { username: "nobody-here", password: "whatever pw" });
    expect(login.status).toBe(503);
    expect(login.body.error.code).toBe("unavailable");

    await proxy.start(); // same port: the database is back
    await vi.waitFor(
      async () => expect((await request(socket, "message:send", { roomId: room.id, body: "after" })).ok).toBe(true),
      { timeout: 20_000, interval: 250 },
    );
    expect((await api(server.url, "GET", "/readyz")).status).toBe(200);
    const h = await call<{ messages: { body: string }[] }>(socket, "message:history", { roomId: room.id });
    expect(h.messages.map((m) => m.body)).toEqual(["before", "after"]);
  });
});
