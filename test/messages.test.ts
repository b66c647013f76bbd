import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { call, closeAll, collect, connect, next, register, request, settle } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

describe.each(await backends())("messages and history (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { SWITCHBOARD_USER_RATE_LIMIT: "1000" });
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  async function roomWithUser() {
    const account = await register(server.url, undefined, "Alice");
    const socket = await connect(server.url, account.token);
    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "history" });
    return { ...account, socket, room };
  }

  it("acks the stored message in contract shape and delivers it to the room", async () => {
    const { socket, room, user } = await roomWithUser();
    const live = collect(socket, "message:new");
    const { message } = await call<{ message: Message }>(socket, "message:send", {
      roomId: room.id,
      body: "hello <b>world</b>",
      clientMsgId: "c-1",
    });
    expect(message).toEqual({
      id: expect.stringMatching(/^\d+$/),
      roomId: room.id,
      authorId: user.id,
      author: { id: user.id, displayName: "Alice" },
      body: "hello <b>world</b>",
      createdAt: expect.stringMatching(/Z$/),
      clientMsgId: "c-1",
    });
    await settle(socket);
    expect(live).toEqual([message]);
  });

  it("pages history oldest-first with hasMore, going back with `before`", async () => {
    const { socket, room } = await roomWithUser();
    const sent: string[] = [];
    for (let i = 1; i <= 25; i++) {
      sent.push((await call<{ message: Message }>(socket, "message:send", { roomId: room.id, body: `m${i}` })).message.id);
    }
    const page1 = await call<{ messages: Message[]; hasMore: boolean }>(socket, "message:history", { roomId: room.id, limit: 10 });
    expect(page1.messages.map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 16}`));
    expect(page1.hasMore).toBe(true);
    const page2 = await call<{ messages: Message[]; hasMore: boolean }>(socket, "message:history", {
      roomId: room.id,
      limit: 10,
      before: page1.messages[0]!.id,
    });
    expect(page2.messages.map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 6}`));
    expect(page2.hasMore).toBe(true);
    const page3 = await call<{ messages: Message[]; hasMore: boolean }>(socket, "message:history", {
      roomId: room.id,
      limit: 10,
      before: page2.messages[0]!.id,
    });
    expect(page3.messages.map((m) => m.body)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    expect(page3.hasMore).toBe(false);
    // Ids ascend with sending order.
    const all = [...page3.messages, ...page2.messages, ...page1.messages].map((m) => m.id);
    expect(all).toEqual(sent);
    // Default page size is 50: everything fits.
    const all1 = await call<{ messages: Message[]; hasMore: boolean }>(socket, "message:history", { roomId: room.id });
    expect(all1.messages).toHaveLength(25);
    expect(all1.hasMore).toBe(false);
  });

  it("lets anyone read a public room's history but only members send", async () => {
    const { socket, room } = await roomWithUser();
    await call(socket, "message:send", { roomId: room.id, body: "public words" });
    const other = await register(server.url);
    const otherSocket = await connect(server.url, other.token);
    const h = await call<{ messages: Message[] }>(otherSocket, "message:history", { roomId: room.id });
    expect(h.messages.map((m) => m.body)).toEqual(["public words"]);
    const res = await (otherSocket as any).timeout(5000).emitWithAck("message:send", { roomId: room.id, body: "hi" });
    expect(res).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("treats a resent clientMsgId as the same message: same ack, stored once, delivered under the same id", async () => {
    const { socket, room, token } = await roomWithUser();
    const otherTab = await connect(server.url, token);
    const delivered = collect(otherTab, "message:new");
    const first = await call<{ message: Message }>(socket, "message:send", { roomId: room.id, body: "once", clientMsgId: "retry-1" });
    const second = await call<{ message: Message }>(socket, "message:send", { roomId: room.id, body: "once", clientMsgId: "retry-1" });
    expect(second.message).toEqual(first.message);
    // Two copies racing in the same batch also store one message.
    const [a, b] = await Promise.all([
      call<{ message: Message }>(socket, "message:send", { roomId: room.id, body: "race", clientMsgId: "retry-2" }),
      call<{ message: Message }>(socket, "message:send", { roomId: room.id, body: "race", clientMsgId: "retry-2" }),
    ]);
    expect(a.message.id).toBe(b.message.id);
    await settle(otherTab);
    // A resend is delivered again (see the next test); clients keep one message per id.
    expect([...new Map(delivered.map((m) => [m.id, m.body])).values()]).toEqual(["once", "race"]);
    expect(new Set(delivered.map((m) => m.id))).toEqual(new Set([first.message.id, a.message.id]));
    const h = await call<{ messages: Message[] }>(socket, "message:history", { roomId: room.id });
    expect(h.messages.map((m) => m.clientMsgId)).toEqual(["retry-1", "retry-2"]);
  });

  it("refuses a clientMsgId already used in another room, delivering nothing there", async () => {
    const { socket, room, token } = await roomWithUser();
    const { room: other } = await call<{ room: Room }>(socket, "room:create", { name: "elsewhere" });
    const watcher = await connect(server.url, token);
    const delivered = collect(watcher, "message:new");
    await call(socket, "message:send", { roomId: room.id, body: "first", clientMsgId: "once-only" });
    const reused = await request(socket, "message:send", { roomId: other.id, body: "first", clientMsgId: "once-only" });
    expect(reused).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    await settle(watcher);
    expect(delivered.map((m) => m.roomId)).toEqual([room.id]);
  });

  it("delivers a message that was stored but never delivered when the client resends it", async () => {
    const { socket, room, user } = await roomWithUser();
    const bob = await register(server.url, undefined, "Bob");
    const bobSocket = await connect(server.url, bob.token);
    await call(bobSocket, "room:join", { roomId: room.id });
    // As if a server stored it and died before delivering it (or its ack was lost).
    const row = await server.db.prisma.message.create({
      data: { roomId: room.id, authorId: user.id, body: "stored, never delivered", clientMsgId: "lost-1" },
    });
    const seen = next(bobSocket, "message:new", (m) => m.clientMsgId === "lost-1");
    const retry = await call<{ message: Message }>(socket, "message:send", { roomId: room.id, body: "stored, never delivered", clientMsgId: "lost-1" });
    expect(retry.message.id).toBe(row.id.toString());
    expect(await seen).toEqual(retry.message);
    const h = await call<{ messages: Message[] }>(bobSocket, "message:history", { roomId: room.id });
    expect(h.messages.filter((m) => m.clientMsgId === "lost-1")).toHaveLength(1);
  });

  it("batches concurrent sends into few database writes, acking each after it is stored", async () => {
    const { token, room } = await roomWithUser();
    // Several connections so the per-connection rate limit is not what is
    // tested (the suite's server raises the per-user budget for the same reason).
    const sockets = await Promise.all(Array.from({ length: 10 }, () => connect(server.url, token)));
    const before = { ...server.core.messages.writerStats };
    const acks = await Promise.all(
      sockets.flatMap((s, i) =>
        Array.from({ length: 10 }, (_, j) =>
          call<{ message: Message }>(s, "message:send", { roomId: room.id, body: `b${i}-${j}`, clientMsgId: `b${i}-${j}` }),
        ),
      ),
    );
    const after = server.core.messages.writerStats;
    expect(after.messages - before.messages).toBe(100);
    expect(after.batches - before.batches).toBeLessThan(25);
    expect(new Set(acks.map((a) => a.message.id)).size).toBe(100);
    const h = await call<{ messages: Message[] }>(sockets[0]!, "message:history", { roomId: room.id, limit: 100 });
    expect(h.messages.map((m) => m.body).sort()).toEqual(acks.map((a) => a.message.body).sort());
  });
});

describe.each(await backends())("persistence across restarts (%s)", (backend) => {
  let server: TestServer;
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("keeps accounts, rooms, history and tokens after the server restarts", async () => {
    server = await startTestServer(backend);
    const { token } = await register(server.url);
    const socket = await connect(server.url, token);
    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "durable" });
    for (const body of ["before", "the", "restart"]) await call(socket, "message:send", { roomId: room.id, body });
    closeAll();

    server = await server.restart();
    const again = await connect(server.url, token);
    const { rooms } = await call<{ rooms: Room[] }>(again, "room:list");
    expect(rooms.map((r) => r.id)).toEqual([room.id]);
    const h = await call<{ messages: Message[] }>(again, "message:history", { roomId: room.id });
    expect(h.messages.map((m) => m.body)).toEqual(["before", "the", "restart"]);
  });
});
