/**
 * Text PostgreSQL cannot store (U+0000, unpaired surrogates) is refused where
 * it enters, with `invalid_payload`; and if such text reaches the message
 * writer anyway (here: rewritten by a plugin), only that message fails, never
 * the other people's messages written in the same batch.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../server/config";
import type { Message, Room, User } from "../shared/protocol";
import { api, call, closeAll, connect, register, request } from "./support/clients";
import { testPlugins, type TestPlugins } from "./support/plugins";
import { redisAvailable, redisClient } from "./support/redis";
import { backends, startTestServer, type TestServer } from "./support/server";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { tmpdir } from "node:os";

const NUL = "a\u0000b";
const LONE = "x\ud800y";
const KEY = "hostile-text-api-key-0123456789";

describe.each(await backends())("a bad row in a write batch (%s)", (backend) => {
  let server: TestServer;
  let plugins: TestPlugins;
  beforeAll(async () => {
    plugins = testPlugins();
    // A buggy plugin: rewrites "poison" into text the database refuses.
    const poison = plugins.write(
      "poison",
      `import { definePlugin } from "../../server/plugins/api";
export default definePlugin({
  name: "poison",
  hooks: { beforeMessage: ({ body }) => (body === "poison" ? { body: "a\\u0000b" } : undefined) },
});
`,
    );
    server = await startTestServer(backend, { SWITCHBOARD_PLUGINS: poison });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
    plugins?.remove();
  });

  it("stores and acks everyone else's messages; only the bad one fails, as invalid_payload", async () => {
    const users: User[] = [];
    for (let i = 0; i < 4; i++) users.push((await register(server.url)).user);
    const { room } = await server.core.gateway.createRoom({ name: "batch", visibility: "public", memberIds: users.map((u) => u.id) });
    const before = server.core.messages.writerStats;
    // Straight to the core, past every transport's schema (as a bug elsewhere
    // would), and in one turn, so the writer takes them as one batch.
    const results = await Promise.allSettled(
      users.map((u, i) => server.core.messages.send(u, { roomId: room.id, body: i === 2 ? "a\u0000b" : `fine ${i}` })),
    );
    const after = server.core.messages.writerStats;
    expect({ batches: after.batches - before.batches, messages: after.messages - before.messages }).toEqual({ batches: 1, messages: 4 });
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: "invalid_payload" });
    const { messages } = await server.core.gateway.history({ roomId: room.id, limit: 50 });
    expect(messages.map((m) => m.body).sort()).toEqual(["fine 0", "fine 1", "fine 3"]);
  });

  it("treats a plugin's unstorable rewrite as the plugin's bug: internal for that send only", async () => {
    const { token } = await register(server.url);
    const socket = await connect(server.url, token);
    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "poisoned" });
    const res = await request(socket, "message:send", { roomId: room.id, body: "poison" });
    expect(res).toEqual({ ok: false, error: { code: "internal", message: expect.any(String) } });
    expect((await request(socket, "message:send", { roomId: room.id, body: "after" })).ok).toBe(true);
  });
});

describe("unstorable text is refused where it enters", () => {
  let server: TestServer;
  let room: Room;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer("embedded", {
      SWITCHBOARD_API_KEYS: KEY,
      ...((await redisAvailable()) ? { REDIS_URL: "redis://127.0.0.1:6379", SWITCHBOARD_QUEUE_STREAM: `hostile-text-${process.pid}-${Date.now()}` } : {}),
    });
    token = (await register(server.url)).token;
    const socket = await connect(server.url, token);
    room = (await call<{ room: Room }>(socket, "room:create", { name: "entry points" })).room;
  });
  afterAll(async () => {
    closeAll();
    if (server?.inlet) {
      const r = await redisClient();
      await r.del([server.config.queue.stream, `${server.config.queue.stream}:dead`]);
      r.destroy();
    }
    await server?.destroy();
  });

  const v1 = (method: string, route: string, body?: unknown) =>
    api(server.url, method, `/api/v1${route}`, body, { authorization: `Bearer ${KEY}` });

  it.each([
    ["message:send", "a NUL in the body", (r: Room) => ({ roomId: r.id, body: NUL })],
    ["message:send", "an unpaired surrogate in the body", (r: Room) => ({ roomId: r.id, body: LONE })],
    ["message:send", "a NUL in the clientMsgId", (r: Room) => ({ roomId: r.id, body: "ok", clientMsgId: NUL })],
    ["room:create", "a NUL in the name", () => ({ name: NUL })],
    ["room:join", "a NUL in the id", () => ({ roomId: NUL })],
    ["user:search", "an unpaired surrogate in the query", () => ({ query: LONE })],
    ["dm:open", "a control character in an id", () => ({ userId: "tab\tinside" })],
  ])("socket event %s refuses %s", async (event, _what, payload) => {
    const socket = await connect(server.url, token);
    const res = await request(socket, event, payload(room));
    expect(res).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
  });

  it("the HTTP API refuses it in bodies, nested event data and ids", async () => {
    for (const [route, body] of [
      [`/rooms/${room.id}/messages`, { body: NUL }],
      [`/rooms/${room.id}/messages`, { body: "fine", bot: { id: "b", name: LONE } }],
      ["/publish", { event: "x", all: true, data: { nested: [{ deep: NUL }] } }],
      ["/publish", { event: "x", all: true, data: { [LONE]: 1 } }],
      ["/publish", { event: NUL, all: true }],
      ["/rooms", { name: "r", memberIds: [NUL] }],
    ] as const) {
      const res = await v1("POST", route, body);
      expect({ route, status: res.status, code: res.body?.error?.code }).toEqual({ route, status: 400, code: "invalid_payload" });
    }
    const { messages } = await server.core.gateway.history({ roomId: room.id, limit: 50 });
    expect(messages).toEqual([]);
  });

  it("the HTTP API refuses it in path parameters (they reached the database and failed as internal: found by test/fuzz.test.ts)", async () => {
    for (const [method, route] of [
      ["GET", "/rooms/%00/messages"],
      ["POST", "/rooms/%00/messages"],
      ["POST", "/rooms/%00/members"],
      ["DELETE", `/rooms/${room.id}/members/%00`],
      ["GET", "/clients/a%00b"],
      ["GET", "/users/%00/clients"],
      ["POST", "/groups/%00/send"],
    ] as const) {
      const res = await v1(method, route, method === "POST" ? { body: "x", event: "x", userIds: ["u"] } : undefined);
      expect({ route, status: res.status, code: res.body?.error?.code }).toEqual({ route, status: 400, code: "invalid_payload" });
    }
  });

  it("sign-up refuses it, and cleans invisible and direction-changing characters out of display names", async () => {
    const nul = await api(server.url, "POST", "/api/auth/register", { username: "nul_user", password: "long enough pw", displayName: NUL });
    expect(nul.status).toBe(400);
    expect(nul.body.error.code).toBe("invalid_payload");
    const res = await api(server.url, "POST", "/api/auth/register", {
      username: "bidi_user",
      password: "long enough pw",
      displayName: "\u202Eevil\u2066 name\u200B\n\tx",
    });
    expect(res.status).toBe(201);
    expect((res.body.user as User).displayName).toBe("evil name x");
    const empty = await api(server.url, "POST", "/api/auth/register", { username: "bidi_only", password: "long enough pw", displayName: "\u202E\u202C" });
    expect(empty.status).toBe(400);
    // Room names too.
    const socket = await connect(server.url, res.body.token as string);
    const { room: named } = await call<{ room: Room }>(socket, "room:create", { name: "\u202Elatot\u202C room\u200B" });
    expect(named.name).toBe("latot room");
  });

  it("the queue inlet dead-letters it with invalid_payload", async ({ skip }) => {
    if (!server.inlet) return skip();
    const r = await redisClient();
    try {
      const stream = server.config.queue.stream;
      await r.xAdd(stream, "*", { command: JSON.stringify({ op: "postMessage", roomId: room.id, body: NUL }) });
      await vi.waitFor(async () => expect(await r.xLen(`${stream}:dead`)).toBe(1), { timeout: 10_000, interval: 100 });
      const [dead] = await r.xRange(`${stream}:dead`, "-", "+");
      expect(dead?.message.code).toBe("invalid_payload");
    } finally {
      r.destroy();
    }
    const { messages } = await server.core.gateway.history({ roomId: room.id, limit: 50 });
    expect(messages.map((m: Message) => m.body)).toEqual([]);
  });

  it("a config file with such text does not start", () => {
    const file = path.join(tmpdir(), `switchboard-hostile-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ apiKeys: [`key-with-${NUL}-inside-0123`] }));
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: file, SWITCHBOARD_SECRET: "s".repeat(40) })).toThrow(ConfigError);
    writeFileSync(file, JSON.stringify({ namespaces: { "/ok": { channelPattern: LONE } } }));
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: file, SWITCHBOARD_SECRET: "s".repeat(40) })).toThrow(ConfigError);
  });
});
