/**
 * Sessions can be ended: signing out revokes the token at once (here or
 * everywhere), a password change ends the other sessions, and the live
 * connections of an ended or expired session are closed — on every instance.
 * Host-application tokens: issuer, audience, lifetime, reserved subjects; DM
 * keys that no pair of ids can share.
 */
import { SignJWT } from "jose";
import pg from "pg";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../server/config";
import type { Room, User } from "../shared/protocol";
import { api, call, closeAll, connect, next, register, request, type ChatSocket } from "./support/clients";
import { instancesAvailable, startInstances, type Instances } from "./support/instances";
import { postgresAvailable } from "./support/postgres";
import { backends, startTestServer, type TestServer } from "./support/server";

const PASSWORD = "correct horse battery";
const HOST_SECRET = "host-application-secret-of-at-least-32-chars";

function hostToken(claims: Record<string, unknown>, expiresIn: string | number = "1h", secret = HOST_SECRET) {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));
}

const auth = (server: TestServer, method: string, route: string, token: string, body?: unknown) =>
  api(server.url, method, route, method === "GET" ? undefined : (body ?? {}), { authorization: `Bearer ${token}` });

async function login(server: TestServer, username: string, password = PASSWORD): Promise<string> {
  const res = await api(server.url, "POST", "/api/auth/login", { username, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

/** Resolves with the reason of the next `session:ended`, once the socket is also disconnected. */
async function ended(socket: ChatSocket): Promise<string> {
  const disconnected = new Promise<void>((resolve) => (socket.disconnected ? resolve() : socket.once("disconnect", () => resolve())));
  const { reason } = await next(socket, "session:ended", () => true, 10_000);
  await disconnected;
  return reason;
}

describe.each(await backends())("sessions (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { SWITCHBOARD_JWT_SECRET: HOST_SECRET });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("signing out revokes the presented token and closes its connections, and only those", async () => {
    const { user, token: first } = await register(server.url);
    const second = await login(server, user.username);
    const [a, b] = [await connect(server.url, first), await connect(server.url, second)];

    const gone = ended(a);
    expect((await auth(server, "POST", "/api/auth/logout", first)).status).toBe(204);
    expect(await gone).toBe("signed_out");

    expect((await auth(server, "GET", "/api/auth/me", first)).status).toBe(401);
    await expect(connect(server.url, first)).rejects.toThrow("unauthorized");
    // The other session goes on.
    expect((await auth(server, "GET", "/api/auth/me", second)).body.user.id).toBe(user.id);
    expect(b.connected).toBe(true);
    expect((await request(b, "room:list", {})).ok).toBe(true);
  });

  it("signs out every session of the account with {everywhere: true}", async () => {
    const { user, token: first } = await register(server.url);
    const second = await login(server, user.username);
    const sockets = [await connect(server.url, first), await connect(server.url, first), await connect(server.url, second)];
    const all = sockets.map(ended);
    expect((await auth(server, "POST", "/api/auth/logout", second, { everywhere: true })).status).toBe(204);
    expect(await Promise.all(all)).toEqual(["signed_out", "signed_out", "signed_out"]);
    for (const token of [first, second]) expect((await auth(server, "GET", "/api/auth/me", token)).status).toBe(401);
  });

  it("changing the password checks the current one and signs out the other sessions", async () => {
    const { user, token: here } = await register(server.url);
    const elsewhere = await login(server, user.username);
    const [mine, theirs] = [await connect(server.url, here), await connect(server.url, elsewhere)];

    const wrong = await auth(server, "POST", "/api/auth/password", here, { currentPassword: "not it", newPassword: "a new password" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("invalid_credentials");
    expect((await auth(server, "GET", "/api/auth/me", elsewhere)).status).toBe(200);

    const theirsEnded = ended(theirs);
    const ok = await auth(server, "POST", "/api/auth/password", here, { currentPassword: PASSWORD, newPassword: "a new password" });
    expect(ok.status).toBe(204);
    expect(await theirsEnded).toBe("password_changed");
    expect((await auth(server, "GET", "/api/auth/me", elsewhere)).status).toBe(401);
    expect((await auth(server, "GET", "/api/auth/me", here)).status).toBe(200);
    expect(mine.connected).toBe(true);
    expect((await api(server.url, "POST", "/api/auth/login", { username: user.username, password: PASSWORD })).status).toBe(401);
    expect((await api(server.url, "POST", "/api/auth/login", { username: user.username, password: "a new password" })).status).toBe(200);
  });

  it("closes a connection whose session is signed out while it is still being admitted", async () => {
    const { user, token } = await register(server.url);
    const other = await login(server, user.username);
    // Hold the handshake right after the token was checked (the session still existed).
    const accounts = server.core.accounts;
    const identify = accounts.identify.bind(accounts);
    let checked!: () => void;
    const checkedNow = new Promise<void>((resolve) => (checked = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    accounts.identify = async (t: unknown) => {
      const identity = await identify(t);
      if (t === token) {
        checked();
        await released;
      }
      return identity;
    };
    // Listening from the start: the closing may come right behind the connect.
    const socket = io(server.url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
    const reason = new Promise<string>((resolve) => socket.on("session:ended", (p: { reason: string }) => resolve(p.reason)));
    const closed = new Promise<void>((resolve) => socket.on("disconnect", () => resolve()));
    try {
      await checkedNow;
      // Signed out meanwhile (from another device): the closing broadcast finds no established connection.
      expect((await auth(server, "POST", "/api/auth/logout", other, { everywhere: true })).status).toBe(204);
      release();
      expect(await reason).toBe("signed_out");
      await closed;
    } finally {
      accounts.identify = identify;
      socket.close();
    }
  });

  it("closes a connection when its token expires", async () => {
    // Long enough to connect on a loaded machine, short enough to wait for.
    const token = await hostToken({ sub: `expiring-${backend}`, name: "Soon Gone" }, Math.floor(Date.now() / 1000) + 5);
    const socket = await connect(server.url, token);
    expect(await ended(socket)).toBe("expired");
    await expect(connect(server.url, token)).rejects.toThrow("unauthorized");
  });

  it("never lets a host token speak as the system, a bot or a local account", async () => {
    // The backend posts as the system and as a bot, creating those authors.
    const admin = await register(server.url);
    const { room } = await server.core.gateway.createRoom({ name: "authors", visibility: "public", memberIds: [admin.user.id] });
    await server.core.gateway.postMessage({ roomId: room.id, body: "from the system" });
    await server.core.gateway.postMessage({ roomId: room.id, body: "from a bot", bot: { id: "helper", name: "Helper" } });
    for (const sub of ["system", "bot:helper", "bot:new-one", admin.user.id]) {
      await expect(connect(server.url, await hostToken({ sub })), sub).rejects.toThrow("unauthorized");
    }
    // An ordinary host id still works, its name cleaned of direction overrides.
    const ok = await connect(server.url, await hostToken({ sub: "host-user-1", name: "\u202Egnirts\u202C Host" }));
    const me = (await auth(server, "GET", "/api/auth/me", await hostToken({ sub: "host-user-1", name: "\u202Egnirts\u202C Host" }))).body.user as User;
    expect(me).toEqual({ id: "host-user-1", username: "host-user-1@host", displayName: "gnirts Host" });
    expect(ok.connected).toBe(true);
  });

  it("keeps the DMs of ids that contain spaces apart", async () => {
    // "Ta" with "Tb Tc", and "Ta Tb" with "Tc": both pairs were once the key "Ta Tb Tc".
    const t = backend[0]!;
    const ids = { a: `${t}a`, bc: `${t}b ${t}c`, ab: `${t}a ${t}b`, c: `${t}c` };
    const [a, bc, ab, c] = await Promise.all(
      Object.values(ids).map(async (sub) => connect(server.url, await hostToken({ sub }))),
    );
    const first = await call<{ room: Room }>(a!, "dm:open", { userId: ids.bc });
    const second = await call<{ room: Room }>(ab!, "dm:open", { userId: ids.c });
    expect(second.room.id).not.toBe(first.room.id);
    // The other side of each pair finds its own DM.
    expect((await call<{ room: Room }>(bc!, "dm:open", { userId: ids.a })).room.id).toBe(first.room.id);
    expect((await call<{ room: Room }>(c!, "dm:open", { userId: ids.ab })).room.id).toBe(second.room.id);
    expect(await request(ab!, "message:history", { roomId: first.room.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });
});

describe("host-application token checks", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", {
      SWITCHBOARD_JWT_SECRET: HOST_SECRET,
      SWITCHBOARD_JWT_ISSUER: "https://app.example.com",
      SWITCHBOARD_JWT_AUDIENCE: "switchboard",
      SWITCHBOARD_JWT_MAX_TTL: "3600",
    });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("requires the configured issuer and audience, and refuses tokens that live too long", async () => {
    const good = { sub: "checked-user", iss: "https://app.example.com", aud: "switchboard" };
    expect((await connect(server.url, await hostToken(good))).connected).toBe(true);
    await expect(connect(server.url, await hostToken({ ...good, iss: "https://evil.example.com" }))).rejects.toThrow("unauthorized");
    await expect(connect(server.url, await hostToken({ sub: "checked-user", aud: "switchboard" }))).rejects.toThrow("unauthorized");
    await expect(connect(server.url, await hostToken({ ...good, aud: "another-service" }))).rejects.toThrow("unauthorized");
    await expect(connect(server.url, await hostToken(good, "2h"))).rejects.toThrow("unauthorized");
    // An `iat` in the future does not make a long-lived token look short.
    const now = Math.floor(Date.now() / 1000);
    const future = await new SignJWT({ ...good, iat: now + 7000 })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(now + 7200)
      .sign(new TextEncoder().encode(HOST_SECRET));
    await expect(connect(server.url, future)).rejects.toThrow("unauthorized");
  });

  it("refuses to start when the host secret is Switchboard's own", () => {
    const secret = "the-same-secret-for-both-0123456789";
    expect(() => loadConfig({ SWITCHBOARD_SECRET: secret, SWITCHBOARD_JWT_SECRET: secret })).toThrow(ConfigError);
  });
});

describe.runIf(await instancesAvailable())("sessions across instances", () => {
  let instances: Instances;
  beforeAll(async () => {
    instances = await startInstances();
  });
  afterAll(async () => {
    closeAll();
    await instances?.stop();
  });

  it("closes a signed-out session's connections on the other instance too", async () => {
    const [a, b] = instances.servers;
    const { user, token } = await register(a.url);
    const other = await login(a, user.username);
    const onB = await connect(b.url, token);
    const stays = await connect(b.url, other);
    const gone = ended(onB);
    expect((await auth(a, "POST", "/api/auth/logout", token)).status).toBe(204);
    expect(await gone).toBe("signed_out");
    expect(stays.connected).toBe(true);
    await expect(connect(b.url, token)).rejects.toThrow("unauthorized");
  });
});

describe.runIf(await postgresAvailable())("a password change racing a sign-in (postgres)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("postgres");
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("leaves no session to a sign-in that checked the old password while the change was being saved", async () => {
    const { user } = await register(server.url);
    const client = new pg.Client({ connectionString: server.config.databaseUrl! });
    await client.connect();
    try {
      // A password change, saved but not yet committed.
      await client.query("BEGIN");
      await client.query(`UPDATE "User" SET "passwordHash" = 'scrypt$changed' WHERE id = $1`, [user.id]);
      const signingIn = api(server.url, "POST", "/api/auth/login", { username: user.username, password: PASSWORD });
      // The sign-in has checked the old password and waits for the row the change holds.
      await vi.waitFor(
        async () => {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          expect(rows[0]!.n).toBeGreaterThan(0);
        },
        { timeout: 10_000, interval: 50 },
      );
      await client.query("COMMIT");
      const res = await signingIn;
      expect(res.status).toBe(401);
      const { rows } = await client.query(`SELECT 1 FROM "Session" WHERE "userId" = $1 AND "createdAt" > now() - interval '1 minute'`, [user.id]);
      expect(rows).toHaveLength(1); // the registration's own session only
    } finally {
      await client.query("ROLLBACK").catch(() => {});
      await client.end();
    }
  });
});
