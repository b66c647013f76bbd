/**
 * The gateway for backends: HTTP API v1 over real HTTP, reaching real
 * socket.io-client connections in the chat namespace and in configured ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { api, call, closeAll, collect, connect, register, request, settle } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

const KEY = "test-api-key-0123456789abcdef";

/** A socket on another namespace; resolves once connected with its `client:hello`. */
function connectTo(
  url: string,
  namespace: string,
  token?: string,
): Promise<{ socket: Socket; hello: { clientId: string; userId: string | null } }> {
  const socket = io(`${url}${namespace}`, {
    auth: token ? { token } : {},
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  opened.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("client:hello", (hello) => resolve({ socket, hello }));
    socket.once("connect_error", (err) => reject(err));
  });
}
const opened: Socket[] = [];

function nextEvent<T = unknown>(socket: Socket, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), ms);
    socket.once(event, (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}

describe.each(await backends())("HTTP API v1 (%s)", (backend) => {
  let server: TestServer;
  let configDir: string;
  const v1 = (method: string, route: string, body?: unknown, key: string | null = KEY) =>
    api(server.url, method, `/api/v1${route}`, body, key ? { authorization: `Bearer ${key}` } : {});

  beforeAll(async () => {
    configDir = mkdtempSync(path.join(tmpdir(), "switchboard-gw-"));
    const configFile = path.join(configDir, "switchboard.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        namespaces: {
          "/push": { auth: "anonymous" },
          "/members": { auth: "account" },
          "/live": { auth: "anonymous", clientPublish: true, presence: true, history: true },
        },
      }),
    );
    server = await startTestServer(backend, {
      SWITCHBOARD_API_KEYS: KEY,
      SWITCHBOARD_CONFIG: configFile,
      SWITCHBOARD_API_RATE_LIMIT: "50",
    });
  });
  afterEach(() => {
    closeAll();
    for (const s of opened.splice(0)) s.close();
  });
  afterAll(async () => {
    await server?.destroy();
    rmSync(configDir, { recursive: true, force: true });
  });

  it("refuses a missing or wrong API key with 401, and publishes the OpenAPI document openly", async () => {
    expect((await v1("GET", "/clients", undefined, null)).status).toBe(401);
    const wrong = await v1("GET", "/clients", undefined, "not-the-key-at-all-123");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    expect((await v1("GET", "/clients")).status).toBe(200);
    const viaHeader = await api(server.url, "GET", "/api/v1/clients/count", undefined, { "x-api-key": KEY });
    expect(viaHeader.status).toBe(200);

    const doc = await api(server.url, "GET", "/api/v1/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    const paths = Object.keys(doc.body.paths);
    for (const p of ["/publish", "/clients/{clientId}/send", "/groups/{group}/clients/{clientId}", "/rooms/{roomId}/messages"]) {
      expect(paths).toContain(p);
    }
    // The request schema is the validator's: publish requires `event`.
    expect(doc.body.paths["/publish"].post.requestBody.content["application/json"].schema.required).toContain("event");
  });

  it("pushes to an anonymous page by its client id (scan to log in), then by user id", async () => {
    const { socket: page, hello } = await connectTo(server.url, "/push");
    expect(hello).toEqual({ clientId: page.id, userId: null });

    const got = nextEvent(page, "login:approved");
    expect((await v1("POST", `/clients/${hello.clientId}/send?namespace=/push`, { event: "login:approved", data: { token: "abc" } })).status).toBe(200);
    expect(await got).toEqual({ token: "abc" });

    expect((await v1("GET", `/clients/${hello.clientId}?namespace=/push`)).body).toEqual({ online: true });
    expect((await v1("GET", `/clients/${hello.clientId}/user?namespace=/push`)).body).toEqual({ userId: null });
    expect((await v1("PUT", `/clients/${hello.clientId}/user?namespace=/push`, { userId: "u-42" })).status).toBe(204);
    expect((await v1("GET", `/clients/${hello.clientId}/user?namespace=/push`)).body).toEqual({ userId: "u-42" });
    expect((await v1("GET", "/users/u-42?namespace=/push")).body).toEqual({ online: true });
    expect((await v1("GET", "/users?namespace=/push")).body.users).toContain("u-42");
    expect((await v1("GET", "/users/count?namespace=/push")).body.count).toBeGreaterThanOrEqual(1);
    expect((await v1("GET", "/users/u-42/clients?namespace=/push")).body).toEqual({
      clients: [{ id: hello.clientId, userId: "u-42", groups: [] }],
    });
    const toUser = nextEvent(page, "notice");
    await v1("POST", "/users/u-42/send?namespace=/push", { event: "notice", data: "for uid 42" });
    expect(await toUser).toBe("for uid 42");

    expect((await v1("DELETE", `/clients/${hello.clientId}/user?namespace=/push`)).status).toBe(204);
    expect((await v1("GET", "/users/u-42?namespace=/push")).body).toEqual({ online: false });

    const closed = nextEvent(page, "disconnect");
    expect((await v1("POST", `/clients/${hello.clientId}/close?namespace=/push`)).status).toBe(204);
    await closed;
    expect((await v1("GET", `/clients/${hello.clientId}?namespace=/push`)).body).toEqual({ online: false });
  });

  it("lists and counts clients, and answers 404 for unknown clients and namespaces", async () => {
    const before = (await v1("GET", "/clients/count?namespace=/push")).body.count as number;
    const a = await connectTo(server.url, "/push");
    const b = await connectTo(server.url, "/push");
    expect((await v1("GET", "/clients/count?namespace=/push")).body.count).toBe(before + 2);
    const list = (await v1("GET", "/clients?namespace=/push")).body.clients.map((c: { id: string }) => c.id);
    expect(list).toEqual(expect.arrayContaining([a.hello.clientId, b.hello.clientId]));

    for (const [method, route] of [
      ["POST", "/clients/nope/send?namespace=/push"],
      ["POST", "/clients/nope/close?namespace=/push"],
      ["GET", "/clients/nope/user?namespace=/push"],
      ["PUT", "/groups/g/clients/nope?namespace=/push"],
      ["GET", "/clients?namespace=/nowhere"],
    ] as const) {
      const res = await v1(method, route, method === "POST" && route.includes("send") ? { event: "x" } : undefined);
      expect(res.status, `${method} ${route}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
  });

  it("manages groups: join, send, list, count, leave, dissolve", async () => {
    const a = await connectTo(server.url, "/push");
    const b = await connectTo(server.url, "/push");
    const c = await connectTo(server.url, "/push");
    for (const x of [a, b]) expect((await v1("PUT", `/groups/team/clients/${x.hello.clientId}?namespace=/push`)).status).toBe(204);
    await v1("PUT", `/groups/other/clients/${c.hello.clientId}?namespace=/push`);

    expect((await v1("GET", "/groups/team/clients/count?namespace=/push")).body).toEqual({ count: 2 });
    expect((await v1("GET", "/groups/team/clients?namespace=/push")).body.clients.map((x: { id: string }) => x.id).sort()).toEqual(
      [a.hello.clientId, b.hello.clientId].sort(),
    );
    expect((await v1("GET", "/groups?namespace=/push")).body.groups).toEqual(expect.arrayContaining(["team", "other"]));
    expect((await v1("GET", "/groups/count?namespace=/push")).body.count).toBeGreaterThanOrEqual(2);

    const cEvents: unknown[] = [];
    c.socket.on("standup", (d: unknown) => cEvents.push(d));
    const got = [nextEvent(a.socket, "standup"), nextEvent(b.socket, "standup")];
    await v1("POST", "/groups/team/send?namespace=/push", { event: "standup", data: { at: "10:00" } });
    expect(await Promise.all(got)).toEqual([{ at: "10:00" }, { at: "10:00" }]);

    expect((await v1("DELETE", `/groups/team/clients/${a.hello.clientId}?namespace=/push`)).status).toBe(204);
    expect((await v1("GET", "/groups/team/clients/count?namespace=/push")).body).toEqual({ count: 1 });
    expect((await v1("DELETE", "/groups/team?namespace=/push")).status).toBe(204);
    expect((await v1("GET", "/groups/team/clients/count?namespace=/push")).body).toEqual({ count: 0 });
    expect(cEvents).toEqual([]);
  });

  it("publishes to any mix of targets in the chat namespace and says how many it addressed", async () => {
    const alice = await register(server.url);
    const bob = await register(server.url);
    const aliceSocket = await connect(server.url, alice.token);
    const bobSocket = await connect(server.url, bob.token);
    const { room } = await call<{ room: Room }>(aliceSocket, "room:create", { name: "gw", memberIds: [bob.user.id] });

    const bobGot = nextEvent(bobSocket as unknown as Socket, "deploy");
    const res = await v1("POST", "/publish", { event: "deploy", data: { v: 2 }, rooms: [room.id], users: [alice.user.id] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ targets: 2 });
    expect(await bobGot).toEqual({ v: 2 });

    const all = [nextEvent(aliceSocket as unknown as Socket, "hello-all"), nextEvent(bobSocket as unknown as Socket, "hello-all")];
    expect((await v1("POST", "/broadcast", { event: "hello-all", data: 1 })).status).toBe(200);
    expect(await Promise.all(all)).toEqual([1, 1]);

    // Chat users are users: listed and reachable by id.
    expect((await v1("GET", `/users/${alice.user.id}`)).body).toEqual({ online: true });
    const viaUser = nextEvent(aliceSocket as unknown as Socket, "ping-user");
    await v1("POST", `/users/${alice.user.id}/send`, { event: "ping-user", data: "hi" });
    expect(await viaUser).toBe("hi");
  });

  it("refuses bad requests with 400 and a stable code, changing nothing", async () => {
    const cases: Array<[string, string, unknown]> = [
      ["POST", "/publish", { event: "x" }], // no target: nothing to do
      ["POST", "/publish", { data: 1, all: true }], // no event
      ["POST", "/publish", { event: "disconnect", all: true }], // reserved name
      ["POST", "/publish", { event: "x", users: "u1" }], // wrong type
      ["POST", "/publish", "{not json"],
      ["POST", "/publish", { event: "x", all: true, extra: 1 }],
      ["POST", "/rooms", { name: "" }],
      ["PUT", "/clients/x/user?namespace=/push", {}],
      ["GET", "/clients?namespace=bad", undefined],
    ];
    for (const [method, route, body] of cases) {
      const res = await v1(method, route, body);
      expect(res.status, `${method} ${route} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe("invalid_payload");
    }
    const big = await v1("POST", "/publish", { event: "x", all: true, data: "y".repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("too_large");
  });

  it("gives code inside the process the same operations, validated as HTTP validates them", async () => {
    const { socket: page } = await connectTo(server.url, "/push");
    const got = nextEvent(page, "notice");
    await expect(server.core.gateway.sendToClient({ namespace: "/push", clientId: page.id!, event: "notice", data: { n: 1 } })).resolves.toEqual({});
    expect(await got).toEqual({ n: 1 });
    expect(await server.core.gateway.isClientOnline({ namespace: "/push", clientId: page.id! })).toEqual({ online: true });
    // Defaults apply (the chat namespace), and bad input is refused before anything runs.
    expect(await server.core.gateway.countUsers({})).toEqual({ count: expect.any(Number) });
    await expect(server.core.gateway.sendToUser({ userId: "a\u0000b", event: "notice" })).rejects.toMatchObject({ code: "invalid_payload" });
    await expect(server.core.gateway.publish({ event: "notice" })).rejects.toMatchObject({ code: "invalid_payload" });
    await expect(server.core.gateway.closeClient({ namespace: "/nope", clientId: page.id! })).rejects.toMatchObject({ code: "not_found" });
    expect(page.connected).toBe(true);
  });

  it("lets a backend create rooms, manage members, post as a bot and read history", async () => {
    const member = await register(server.url);
    const memberSocket = await connect(server.url, member.token);
    const joined = nextEvent<Room>(memberSocket as unknown as Socket, "room:joined");
    const created = await v1("POST", "/rooms", { name: "Support", visibility: "private", memberIds: [member.user.id, "crm-7"] });
    expect(created.status).toBe(201);
    const room: Room = created.body.room;
    expect(await joined).toEqual(room);

    // "crm-7" did not exist: it became a host user, and can be removed again.
    expect((await v1("DELETE", `/rooms/${room.id}/members/crm-7`)).status).toBe(204);
    expect((await v1("DELETE", `/rooms/${room.id}/members/crm-7`)).status).toBe(404);
    expect((await v1("POST", `/rooms/${room.id}/members`, { userIds: ["crm-8"] })).body).toEqual({ added: ["crm-8"] });

    const live = nextEvent<Message>(memberSocket as unknown as Socket, "message:new");
    const posted = await v1("POST", `/rooms/${room.id}/messages`, { body: "Ticket #12 opened", bot: { id: "helpdesk", name: "Helpdesk" } });
    expect(posted.status).toBe(201);
    expect(posted.body.message).toMatchObject({ roomId: room.id, authorId: "bot:helpdesk", author: { displayName: "Helpdesk" }, body: "Ticket #12 opened" });
    expect(await live).toEqual(posted.body.message);
    const system = await v1("POST", `/rooms/${room.id}/messages`, { body: "Maintenance at 22:00", clientMsgId: "m-1" });
    expect(system.body.message.author).toEqual({ id: "system", displayName: "System" });
    const again = await v1("POST", `/rooms/${room.id}/messages`, { body: "Maintenance at 22:00", clientMsgId: "m-1" });
    expect(again.body.message.id).toBe(system.body.message.id);
    const asUser = await v1("POST", `/rooms/${room.id}/messages`, { body: "on behalf", userId: member.user.id });
    expect(asUser.body.message.authorId).toBe(member.user.id);

    const empty = await v1("POST", `/rooms/${room.id}/messages`, { body: "   " });
    expect(empty.status).toBe(400);
    expect((await v1("POST", "/rooms/no-such-room/messages", { body: "x" })).status).toBe(404);

    const page = await v1("GET", `/rooms/${room.id}/messages?limit=2`);
    expect(page.body.messages.map((m: Message) => m.body)).toEqual(["Maintenance at 22:00", "on behalf"]);
    expect(page.body.hasMore).toBe(true);
    const older = await v1("GET", `/rooms/${room.id}/messages?limit=2&before=${page.body.messages[0].id}`);
    expect(older.body).toMatchObject({ messages: [posted.body.message], hasMore: false });
    // With the lines of the room's beginning: the backend's members joined, one was removed, another added.
    const lines = older.body.events.map((e: { kind: string; user: { id: string } }) => `${e.kind} ${e.user.id}`);
    expect(lines).toEqual([`joined ${member.user.id}`, "joined crm-7", "removed crm-7", "joined crm-8"]);
    expect((await v1("GET", "/rooms/nope/messages")).status).toBe(404);

    // A DM keeps its two members: 403.
    const other = await register(server.url);
    const dm = await call<{ room: Room }>(memberSocket, "dm:open", { userId: other.user.id });
    const intoDm = await v1("POST", `/rooms/${dm.room.id}/members`, { userIds: ["crm-9"] });
    expect(intoDm.status).toBe(403);
    expect(intoDm.body.error.code).toBe("forbidden");

    // The member's chat client sees the same history.
    const h = await call<{ messages: Message[] }>(memberSocket, "message:history", { roomId: room.id });
    expect(h.messages).toHaveLength(3);
  });

  it("enforces namespace settings: anonymous refused where accounts are required, client publish only where allowed", async () => {
    await expect(connectTo(server.url, "/members")).rejects.toThrow("unauthorized");
    const account = await register(server.url);
    const { hello } = await connectTo(server.url, "/members", account.token);
    expect(hello.userId).toBe(account.user.id);
    await expect(connectTo(server.url, "/push", "forged-token")).rejects.toThrow("unauthorized");

    const push = await connectTo(server.url, "/push");
    expect(await push.socket.timeout(5000).emitWithAck("channel:subscribe", { channel: "news" })).toEqual({ ok: true });
    const refused = await push.socket.timeout(5000).emitWithAck("channel:publish", { channel: "news", data: "hi" });
    expect(refused).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const noPresence = await push.socket.timeout(5000).emitWithAck("channel:presence", { channel: "news" });
    expect(noPresence).toMatchObject({ ok: false, error: { code: "forbidden" } });

    const a = await connectTo(server.url, "/live");
    const b = await connectTo(server.url, "/live");
    for (const x of [a, b]) await x.socket.timeout(5000).emitWithAck("channel:subscribe", { channel: "room-1" });
    const got = nextEvent(b.socket, "publication");
    const ack = await a.socket.timeout(5000).emitWithAck("channel:publish", { channel: "room-1", data: { move: "e4" } });
    const expected = {
      id: expect.stringMatching(/^\d+$/),
      channel: "room-1",
      data: { move: "e4" },
      clientId: a.hello.clientId,
      userId: null,
      createdAt: expect.any(String),
    };
    expect(ack).toEqual({ ok: true, publication: expected });
    expect(await got).toEqual(ack.publication);
    const notSubscribed = await a.socket.timeout(5000).emitWithAck("channel:publish", { channel: "other", data: 1 });
    expect(notSubscribed).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const presence = await a.socket.timeout(5000).emitWithAck("channel:presence", { channel: "room-1" });
    expect(presence.clients.map((c: { clientId: string }) => c.clientId).sort()).toEqual([a.hello.clientId, b.hello.clientId].sort());

    // A backend publishes to the channel too.
    const fromBackend = nextEvent(a.socket, "score");
    expect((await v1("POST", "/publish", { event: "score", data: 3, channels: ["room-1"], namespace: "/live" })).body).toEqual({ targets: 1 });
    expect(await fromBackend).toBe(3);

    // The namespace keeps history: both publications, oldest first, paged.
    const history = await b.socket.timeout(5000).emitWithAck("channel:history", { channel: "room-1" });
    expect(history.ok).toBe(true);
    expect(history.publications.map((p: { data: unknown }) => p.data)).toEqual([{ move: "e4" }, { event: "score", data: 3 }]);
    const older = await b.socket.timeout(5000).emitWithAck("channel:history", { channel: "room-1", before: history.publications[1].id, limit: 1 });
    expect(older).toEqual({ ok: true, publications: [ack.publication], hasMore: false });
    // An id past PostgreSQL's bigint failed the query as `internal` (found by test/fuzz.test.ts).
    const pastBigint = await b.socket.timeout(5000).emitWithAck("channel:history", { channel: "room-1", before: "9223372036854775808" });
    expect(pastBigint).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    // /push keeps none.
    const none = await push.socket.timeout(5000).emitWithAck("channel:history", { channel: "news" });
    expect(none).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("keeps the chat contract intact beside the gateway", async () => {
    const u = await register(server.url);
    const s = await connect(server.url, u.token);
    const errors = collect(s, "protocol:error");
    (s as unknown as Socket).emit("channel:subscribe", { channel: "x" });
    await settle(s);
    expect(errors).toEqual([{ event: "channel:subscribe", error: expect.objectContaining({ code: "unknown_event" }) }]);
    expect((await request(s, "room:list", {})).ok).toBe(true);
  });
});

// The limit lives in the transport, not the database: one server (PostgreSQL's, quicker to start, when there is one).
describe("HTTP API v1 rate limit", () => {
  let strict: TestServer;
  beforeAll(async () => {
    // 1 request/s (bursts of 2): 20 requests overflow it however slowly they arrive.
    strict = await startTestServer((await backends()).at(-1)!, { SWITCHBOARD_API_KEYS: KEY, SWITCHBOARD_API_RATE_LIMIT: "1" });
  });
  afterAll(async () => strict?.destroy());

  it("rate-limits an API key with 429", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => api(strict.url, "GET", "/api/v1/clients/count", undefined, { authorization: `Bearer ${KEY}` })),
    );
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.body).toEqual({ error: { code: "rate_limited", message: expect.any(String), retryAfter: expect.any(Number) } });
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
