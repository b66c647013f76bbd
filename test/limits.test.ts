/**
 * What one address, one user or one connection may do: sign-in, sign-up and
 * connection rates per address (X-Forwarded-For believed only when told),
 * failed sign-ins per username, an event budget and a connection cap per
 * user, the limits of anonymous namespaces, paged lists, scoped API keys, and
 * the smaller hardening (JSON-only sign-in routes, the instance header).
 * Limits shared through Redis are checked across two instances.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { api, closeAll, connect, register, request, type ChatSocket } from "./support/clients";
import { instancesAvailable, startInstances, type Instances } from "./support/instances";
import { RawClient } from "./support/raw-client";
import { startTestServer, type TestServer } from "./support/server";

const PASSWORD = "correct horse battery";
let addressCounter = 0;
/** A client address of its own (documentation range), believed when the server trusts one proxy. */
const newAddress = () => `198.51.100.${++addressCounter}`;
const from = (address: string) => ({ "x-forwarded-for": address });

function login(server: TestServer, username: string, password: string, address: string) {
  return api(server.url, "POST", "/api/auth/login", { username, password }, from(address));
}

afterEach(() => closeAll());

describe("limits per address and per username (one proxy in front)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", {
      SWITCHBOARD_TRUST_PROXY: "1",
      SWITCHBOARD_AUTH_RATE_LIMIT: "6",
      SWITCHBOARD_SIGNUP_LIMIT: "3",
      SWITCHBOARD_LOGIN_FAILURE_LIMIT: "3",
      SWITCHBOARD_CONNECT_RATE_LIMIT: "5",
      SWITCHBOARD_MAX_CONNECTIONS_PER_USER: "2",
    });
  });
  afterAll(async () => server?.destroy());

  /** A user made through the core, so the HTTP limits under test stay untouched. */
  const user = async () => server.core.accounts.register({ username: `u${Date.now()}${addressCounter++}`, password: PASSWORD });

  it("locks a username after too many failed sign-ins, saying when to retry, and leaves other usernames alone", async () => {
    const { user: victim } = await user();
    const { user: bystander } = await user();
    for (let i = 0; i < 3; i++) expect((await login(server, victim.username, "wrong guess", newAddress())).status).toBe(401);
    const locked = await login(server, victim.username, PASSWORD, newAddress());
    expect(locked.status).toBe(429);
    expect(locked.body.error).toEqual({ code: "rate_limited", message: expect.any(String), retryAfter: expect.any(Number) });
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login(server, bystander.username, PASSWORD, newAddress())).status).toBe(200);
  });

  it("counts a burst of simultaneous guesses as they arrive, not once they are checked", async () => {
    const { user: u } = await user();
    const results = await Promise.all(Array.from({ length: 30 }, () => login(server, u.username, "wrong guess", newAddress())));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(27);
  });

  it("forgets a username's failures once the right password is given", async () => {
    const { user: u } = await user();
    for (let i = 0; i < 2; i++) expect((await login(server, u.username, "wrong guess", newAddress())).status).toBe(401);
    expect((await login(server, u.username, PASSWORD, newAddress())).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await login(server, u.username, "wrong guess", newAddress())).status).toBe(401);
    expect((await login(server, u.username, PASSWORD, newAddress())).status).toBe(200);
  });

  it("limits sign-in attempts per address, taking the address the proxy saw", async () => {
    const address = newAddress();
    for (let i = 0; i < 6; i++) expect((await login(server, `nobody${i}`, "whatever pw", address)).status).toBe(401);
    expect((await login(server, "nobody", "whatever pw", address)).status).toBe(429);
    // A client cannot pick another address by writing X-Forwarded-For itself: the proxy appends the real one.
    expect((await login(server, "nobody", "whatever pw", `203.0.113.99, ${address}`)).status).toBe(429);
    expect((await login(server, "nobody", "whatever pw", newAddress())).status).toBe(401);
  });

  it("limits sign-ups per address", async () => {
    const address = newAddress();
    const signUp = (n: number) =>
      api(server.url, "POST", "/api/auth/register", { username: `signup_${address.replaceAll(".", "_")}_${n}`, password: PASSWORD }, from(address));
    for (let n = 0; n < 3; n++) expect((await signUp(n)).status).toBe(201);
    const refused = await signUp(3);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limited");
    expect((await api(server.url, "GET", "/api/auth/me")).status).toBe(401); // and no account or cookie came of it
  });

  it("limits new connections per address, with a retry hint", async () => {
    const address = newAddress();
    // Three users, so the cap of two connections per user is not what refuses.
    const [t1, t2, t3] = await Promise.all([1, 2, 3].map(async () => (await user()).token));
    for (const t of [t1, t1, t2, t2, t3]) await connect(server.url, t!, { extraHeaders: from(address) });
    const refused = await connect(server.url, t3!, { extraHeaders: from(address) }).then(
      () => null,
      (err: Error & { data?: unknown }) => err,
    );
    expect(refused?.message).toBe("rate_limited");
    expect(refused?.data).toEqual({ code: "rate_limited", message: expect.any(String), retryAfter: expect.any(Number) });
    expect((await connect(server.url, t3!, { extraHeaders: from(newAddress()) })).connected).toBe(true);
  });

  it("limits new Socket.IO sessions per address, even ones that never join a namespace", async () => {
    const address = newAddress();
    // An Engine.IO handshake alone (no CONNECT packet follows): twice the connect limit of 5 are let in.
    const handshake = () => fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: from(address) });
    for (let i = 0; i < 10; i++) expect((await handshake()).status).toBe(200);
    const refused = await handshake();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ code: 4, message: "rate_limited" });
    expect((await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: from(newAddress()) })).status).toBe(200);
  });

  it("marks the cookie Secure when the trusted proxy says the client used HTTPS", async () => {
    const res = await api(server.url, "POST", "/api/auth/register", { username: `tls_${addressCounter}`, password: PASSWORD }, {
      ...from(newAddress()),
      "x-forwarded-proto": "https",
    });
    expect(res.headers.get("set-cookie")).toMatch(/;\s*Secure/i);
  });

  it("caps one user's connections in the chat namespace, and frees a place when one closes", async () => {
    const { token } = await user();
    const first = await connect(server.url, token, { extraHeaders: from(newAddress()) });
    await connect(server.url, token, { extraHeaders: from(newAddress()) });
    const refused = await connect(server.url, token, { extraHeaders: from(newAddress()) }).then(
      () => null,
      (err: Error & { data?: { code: string } }) => err,
    );
    expect(refused?.message).toBe("too_many_connections");
    first.close();
    await vi.waitFor(async () => expect((await connect(server.url, token, { extraHeaders: from(newAddress()) })).connected).toBe(true), {
      timeout: 5000,
      interval: 100,
    });
  });
});

describe("without a trusted proxy, and a user's event budget", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", {
      SWITCHBOARD_AUTH_RATE_LIMIT: "3",
      // Only the per-user budget limits events here.
      SWITCHBOARD_RATE_LIMIT: "1000",
      SWITCHBOARD_USER_RATE_LIMIT: "1",
    });
  });
  afterAll(async () => server?.destroy());

  it("ignores X-Forwarded-For: every attempt counts against the TCP peer", async () => {
    for (let i = 0; i < 3; i++) expect((await login(server, "nobody", "whatever pw", newAddress())).status).toBe(401);
    expect((await login(server, "nobody", "whatever pw", newAddress())).status).toBe(429);
  });

  it("leaves out the instance header unless asked for", async () => {
    expect((await api(server.url, "GET", "/healthz")).headers.get("x-switchboard-instance")).toBeNull();
    // The anonymous-namespace suite's server below asks for it.
  });

  it("accepts sign-in only as JSON, so a page of another site cannot post a form to it", async () => {
    const { user } = await server.core.accounts.register({ username: `json_${Date.now()}`, password: PASSWORD });
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await api(server.url, "POST", "/api/auth/login", JSON.stringify({ username: user.username, password: PASSWORD }), {
        "content-type": type,
      });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe("unsupported_media_type");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    const logout = await api(server.url, "POST", "/api/auth/logout", "", { "content-type": "text/plain" });
    expect(logout.status).toBe(415);
  });

  it("is shared by the user's tabs: more tabs do not mean more events", async () => {
    // Accounts made through the core: this server's sign-up limit is spent by the test above.
    const account = () => server.core.accounts.register({ username: `budget_${Date.now()}_${addressCounter++}`, password: PASSWORD });
    const { token } = await account();
    const tabs = await Promise.all([1, 2, 3].map(() => connect(server.url, token)));
    const results = await Promise.all(tabs.flatMap((tab) => Array.from({ length: 20 }, () => request(tab, "presence:query", { userIds: [] }))));
    const accepted = results.filter((r) => r.ok).length;
    // A budget of 1 event/s with bursts of 2: a handful at most, however the events are spread.
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThan(15);
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, error: { code: "rate_limited", message: expect.any(String), retryAfter: 1 } });
    // Another user has a budget of their own.
    const other = await connect(server.url, (await account()).token);
    expect((await request(other, "presence:query", { userIds: [] })).ok).toBe(true);
  });
});

describe("anonymous namespaces, paged lists and scoped API keys", () => {
  const FULL = "limits-full-api-key-0123456789";
  const SCOPED = "limits-push-only-key-0123456789";
  const READER = "limits-read-only-key-0123456789";
  let server: TestServer;
  let dir: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "switchboard-limits-"));
    const file = path.join(dir, "switchboard.config.json");
    writeFileSync(
      file,
      JSON.stringify({
        apiKeys: [FULL, { key: SCOPED, namespaces: ["/anon"] }, { key: READER, readOnly: true }],
        namespaces: {
          "/anon": {
            auth: "anonymous",
            maxConnectionsPerIp: 3,
            maxChannelsPerConnection: 3,
            channelPattern: "news|user:[0-9]+",
            clientPublish: true,
            history: true,
            presence: true,
          },
        },
      }),
    );
    server = await startTestServer("embedded", {
      SWITCHBOARD_CONFIG: file,
      SWITCHBOARD_INSTANCE_HEADER: "true",
      SWITCHBOARD_INSTANCE_ID: "inst-1",
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function anon(): Promise<Socket> {
    const socket = io(`${server.url}/anon`, { transports: ["websocket"], reconnection: false, forceNew: true });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once("client:hello", () => resolve(socket));
      socket.once("connect_error", reject);
    });
  }
  const emit = (s: Socket, event: string, payload: unknown) => s.timeout(5000).emitWithAck(event, payload);
  const v1 = (key: string, method: string, route: string, body?: unknown) =>
    api(server.url, method, `/api/v1${route}`, body, { authorization: `Bearer ${key}` });

  it("limits connections per address, channels per connection and channel names; history and presence are for subscribers", async () => {
    // Five CONNECT packets at once on one Engine.IO connection: the handshakes count each other, three get in.
    const raw = await RawClient.open(server.url);
    try {
      await raw.take((f) => f.startsWith("0{"));
      for (let i = 0; i < 5; i++) raw.send("40/anon,");
      const answers = await Promise.all(Array.from({ length: 5 }, () => raw.take((f) => f.startsWith("40/anon,") || f.startsWith("44/anon,"))));
      expect(answers.filter((f) => f.startsWith("40/anon,"))).toHaveLength(3);
      expect(answers.filter((f) => f.startsWith("44/anon,"))).toHaveLength(2);
    } finally {
      raw.close();
    }
    await vi.waitFor(async () => expect(await server.io.of("/anon").fetchSockets()).toHaveLength(0));
    const [a, b] = [await anon(), await anon()];
    await anon();
    await expect(anon()).rejects.toThrow("too_many_connections");

    expect(await emit(a, "channel:subscribe", { channel: "other" })).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    for (const channel of ["news", "user:1", "user:2"]) expect(await emit(a, "channel:subscribe", { channel })).toEqual({ ok: true });
    expect(await emit(a, "channel:subscribe", { channel: "news" })).toEqual({ ok: true }); // already in: no new place taken
    expect(await emit(a, "channel:subscribe", { channel: "user:3" })).toMatchObject({ ok: false, error: { code: "limit_exceeded" } });
    expect(await emit(a, "channel:unsubscribe", { channel: "user:2" })).toEqual({ ok: true });
    expect(await emit(a, "channel:subscribe", { channel: "user:3" })).toEqual({ ok: true });

    expect((await emit(a, "channel:publish", { channel: "news", data: { n: 1 } })).ok).toBe(true);
    expect(await emit(a, "channel:publish", { channel: "other", data: 1 })).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    expect(await emit(b, "channel:history", { channel: "news" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await emit(b, "channel:presence", { channel: "news" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    await emit(b, "channel:subscribe", { channel: "news" });
    expect((await emit(b, "channel:history", { channel: "news" })).publications).toHaveLength(1);
    const first = await emit(b, "channel:presence", { channel: "news", limit: 1 });
    const second = await emit(b, "channel:presence", { channel: "news", limit: 1, after: first.nextCursor });
    expect([...first.clients, ...second.clients].map((c: { clientId: string }) => c.clientId).sort()).toEqual([a.id, b.id].sort());
    expect(second.nextCursor).toBeUndefined();
  });

  it("pages the HTTP API's connection lists", async () => {
    const tabs: ChatSocket[] = [];
    const { token, user } = await register(server.url);
    for (let i = 0; i < 3; i++) tabs.push(await connect(server.url, token));
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const res = await v1(FULL, "GET", `/users/${user.id}/clients?limit=2${after ? `&after=${after}` : ""}`);
      expect(res.status).toBe(200);
      ids.push(...res.body.clients.map((c: { id: string }) => c.id));
      after = res.body.nextCursor;
    } while (after);
    expect(ids).toEqual(tabs.map((t) => t.id!).sort());
    expect((await v1(FULL, "GET", "/clients?after=nonsense")).status).toBe(400);
  });

  it("does not believe a client's X-Forwarded-Proto (no proxy is trusted here)", async () => {
    const res = await api(server.url, "POST", "/api/auth/register", { username: `plain_${Date.now()}`, password: PASSWORD }, {
      "x-forwarded-proto": "https",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("set-cookie")).not.toMatch(/;\s*Secure/i);
  });

  it("names the instance in a header when asked to", async () => {
    expect((await api(server.url, "GET", "/healthz")).headers.get("x-switchboard-instance")).toBe("inst-1");
  });

  it("keeps a scoped key to its namespaces and a read-only key to reading", async () => {
    expect((await v1(SCOPED, "POST", "/publish", { event: "x", all: true, namespace: "/anon" })).status).toBe(200);
    const outside = await v1(SCOPED, "POST", "/publish", { event: "x", all: true });
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe("forbidden");
    expect((await v1(SCOPED, "GET", "/clients")).status).toBe(403); // the chat namespace is "/"
    expect((await v1(SCOPED, "POST", "/rooms", { name: "not mine" })).status).toBe(403);
    expect((await v1(READER, "GET", "/clients/count")).status).toBe(200);
    expect((await v1(READER, "POST", "/broadcast", { event: "x" })).status).toBe(403);
    expect((await v1(FULL, "POST", "/broadcast", { event: "x" })).status).toBe(200);
  });
});

describe.runIf(await instancesAvailable())("limits shared by two instances through Redis", () => {
  let instances: Instances;
  beforeAll(async () => {
    instances = await startInstances({
      SWITCHBOARD_TRUST_PROXY: "1",
      SWITCHBOARD_LOGIN_FAILURE_LIMIT: "3",
      SWITCHBOARD_MAX_CONNECTIONS_PER_USER: "2",
    });
  });
  afterAll(async () => {
    closeAll();
    await instances?.stop();
  });

  it("caps one user's connections even when many arrive at once", async () => {
    const [a] = instances.servers;
    const { token } = await a.core.accounts.register({ username: `burst_${Date.now()}`, password: PASSWORD });
    // Five CONNECT packets on one Engine.IO connection: their handshakes (on PostgreSQL, truly concurrent) overlap.
    const raw = await RawClient.open(a.url, from(newAddress()));
    try {
      await raw.take((f) => f.startsWith("0{"));
      for (let i = 0; i < 5; i++) raw.send(`40${JSON.stringify({ token })}`);
      const answers = await Promise.all(Array.from({ length: 5 }, () => raw.take((f) => f.startsWith("40") || f.startsWith("44"))));
      expect(answers.filter((f) => f.startsWith("40"))).toHaveLength(2);
      expect(answers.filter((f) => f.startsWith("44")).map((f) => JSON.parse(f.slice(2)).message)).toEqual(Array(3).fill("too_many_connections"));
    } finally {
      raw.close();
    }
  });

  it("count failed sign-ins and a user's connections over both instances", async () => {
    const [a, b] = instances.servers;
    const { user, token } = await a.core.accounts.register({ username: `shared_${Date.now()}`, password: PASSWORD });
    expect((await login(a, user.username, "wrong", newAddress())).status).toBe(401);
    expect((await login(b, user.username, "wrong", newAddress())).status).toBe(401);
    expect((await login(a, user.username, "wrong", newAddress())).status).toBe(401);
    expect((await login(b, user.username, PASSWORD, newAddress())).status).toBe(429);

    await connect(a.url, token);
    await connect(b.url, token);
    await vi.waitFor(async () => expect(await a.core.gateway.countClients({ namespace: "/" })).toEqual({ count: 2 }), { timeout: 5000, interval: 100 });
    await expect(connect(a.url, token)).rejects.toThrow("too_many_connections");
  });
});
