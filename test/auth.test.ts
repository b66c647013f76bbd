import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, call, closeAll, connect, register, uniqueName } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

const HOST_SECRET = "host-application-secret-of-at-least-32-chars";

function hostToken(claims: Record<string, unknown>, secret = HOST_SECRET, expiresIn = "1h") {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));
}

describe.each(await backends())("accounts and tokens (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { SWITCHBOARD_JWT_SECRET: HOST_SECRET });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("registers, returns a token and sets an HttpOnly cookie", async () => {
    const username = uniqueName();
    const res = await api(server.url, "POST", "/api/auth/register", {
      username,
      password: "correct horse battery",
      displayName: "Ada Lovelace",
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.any(String), username, displayName: "Ada Lovelace" });
    expect(res.body.token).toEqual(expect.any(String));
    expect(res.body.user).not.toHaveProperty("passwordHash");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^sb_token=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it("refuses a taken username with 409 username_taken", async () => {
    const { user } = await register(server.url);
    const res = await api(server.url, "POST", "/api/auth/register", {
      username: user.username,
      password: "another password",
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { code: "username_taken", message: expect.any(String) } });
  });

  it.each([
    ["a missing password", { username: "someone" }],
    ["a short password", { username: "someone", password: "short" }],
    ["a bad username", { username: "no spaces allowed", password: "long enough pw" }],
    ["a username with @", { username: "a@b", password: "long enough pw" }],
    ["a number for username", { username: 12345, password: "long enough pw" }],
    ["an unknown field", { username: "someone", password: "long enough pw", admin: true }],
    ["an array", [1, 2]],
    ["not JSON", "{oops"],
  ])("refuses registration with %s (400 invalid_payload)", async (_, body) => {
    const res = await api(server.url, "POST", "/api/auth/register", body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_payload");
  });

  it("logs in with the right password only", async () => {
    const { user } = await register(server.url);
    const ok = await api(server.url, "POST", "/api/auth/login", {
      username: user.username,
      password: "correct horse battery",
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toEqual(user);
    const wrong = await api(server.url, "POST", "/api/auth/login", { username: user.username, password: "wrong password" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("invalid_credentials");
    const nobody = await api(server.url, "POST", "/api/auth/login", { username: uniqueName(), password: "whatever pw" });
    expect(nobody.status).toBe(401);
    expect(nobody.body.error.code).toBe("invalid_credentials");
  });

  it("answers unknown API routes with a JSON 404", async () => {
    const res = await api(server.url, "GET", "/api/nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("refuses a too large body with 413 too_large", async () => {
    const res = await api(server.url, "POST", "/api/auth/login", { username: "x", password: "y".repeat(70_000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("too_large");
  });

  it("refuses a body that is not JSON with 400 invalid_payload", async () => {
    const res = await fetch(`${server.url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_payload");
  });

  it("refuses a too large chunked body (no content-length) with 413 too_large, and still serves the next request", async () => {
    const chunk = new TextEncoder().encode(`{"username":"x","password":"${"y".repeat(16_000)}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk); // ~96 KiB, sent without a length
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("too_large");
    const next = await api(server.url, "POST", "/api/auth/login", { username: "nobody-here", password: "wrong-password" });
    expect(next.status).toBe(401);
  });

  it("connects with a token and refuses a missing, forged or expired one", async () => {
    const { token, user } = await register(server.url);
    const socket = await connect(server.url, token);
    expect(socket.connected).toBe(true);
    const me = await api(server.url, "GET", "/api/auth/me", undefined, { authorization: `Bearer ${token}` });
    expect(me.body.user).toEqual(user);

    await expect(connect(server.url, undefined)).rejects.toThrow("unauthorized");
    await expect(connect(server.url, "not-a-jwt")).rejects.toThrow("unauthorized");
    const forged = await hostToken({ sub: user.id }, "some-other-secret-that-is-long-enough!!");
    await expect(connect(server.url, forged)).rejects.toThrow("unauthorized");
    const expired = await hostToken({ sub: "expired-user" }, HOST_SECRET, "-1m");
    await expect(connect(server.url, expired)).rejects.toThrow("unauthorized");
  });

  it("accepts a host application's token and creates its user on first connect", async () => {
    const sub = `ext-${uniqueName()}`;
    const token = await hostToken({ sub, name: "Grace Hopper" });
    const socket = await connect(server.url, token);
    const room = await call<{ room: { id: string } }>(socket, "room:create", { name: "host room" });
    expect(room.room.id).toEqual(expect.any(String));
    const me = await api(server.url, "GET", "/api/auth/me", undefined, { authorization: `Bearer ${token}` });
    expect(me.body.user).toEqual({ id: sub, username: `${sub}@host`, displayName: "Grace Hopper" });
    // Connecting again reuses the same user.
    await connect(server.url, token);
    const again = await api(server.url, "GET", "/api/auth/me", undefined, { authorization: `Bearer ${token}` });
    expect(again.body.user.id).toBe(sub);
  });

  it("never lets a host token speak for a local account", async () => {
    const { user } = await register(server.url);
    const token = await hostToken({ sub: user.id });
    await expect(connect(server.url, token)).rejects.toThrow("unauthorized");
  });

  it("accepts the cookie from the same origin and refuses it from another site", async () => {
    const { token } = await register(server.url);
    const host = new URL(server.url).host;
    const same = await connect(server.url, undefined, {
      transports: ["polling"],
      extraHeaders: { cookie: `sb_token=${token}`, origin: `http://${host}` },
    });
    expect(same.connected).toBe(true);
    await expect(
      connect(server.url, undefined, {
        transports: ["polling"],
        extraHeaders: { cookie: `sb_token=${token}`, origin: "http://evil.example" },
      }),
    ).rejects.toThrow("unauthorized");
  });
});
