/**
 * Threads: replying to a message, what the room's timeline and unread counts
 * show (only replies also sent to the room), the thread's own history, the
 * summary on its first message, and refusals, on both databases.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FollowedThread, Message, Room, RoomSummary } from "../shared/protocol";
import { call, closeAll, collect, connect, next, register, request, settle } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

type Thread = { root: Message; replies: Message[]; hasMore: boolean };

describe.each(await backends())("threads (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  async function setup(visibility: "public" | "private" = "public") {
    const [ada, bob] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob")];
    const [a, b] = [await connect(server.url, ada.token), await connect(server.url, bob.token)];
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "threads", visibility, memberIds: [bob.user.id] });
    const send = async (s: typeof a, body: string, extra: object = {}) =>
      (await call<{ message: Message }>(s, "message:send", { roomId: room.id, body, ...extra })).message;
    const history = async () => (await call<{ messages: Message[] }>(a, "message:history", { roomId: room.id })).messages;
    return { ada, bob, a, b, room, send, history };
  }

  it("replies in a thread: delivered live with threadId, kept out of the room's timeline and unread count unless also sent there", async () => {
    const { bob, a, b, room, send, history } = await setup();
    const root = await send(a, "release tonight?");
    const live = collect(a, "message:new");
    const reply = await send(b, "yes, at 8", { threadId: root.id });
    expect(reply).toMatchObject({ threadId: root.id, body: "yes, at 8" });
    expect(reply.alsoInRoom).toBeUndefined();
    const shared = await send(b, "release at 8 tonight, everyone", { threadId: root.id, alsoToRoom: true });
    expect(shared).toMatchObject({ threadId: root.id, alsoInRoom: true });
    await settle(a);
    expect(live.map((m) => m.id)).toEqual([reply.id, shared.id]);

    // The room's timeline: the first message, with its thread's summary, and the reply sent to the room.
    const messages = await history();
    expect(messages.map((m) => m.body)).toEqual(["release tonight?", "release at 8 tonight, everyone"]);
    expect(messages[0]!.thread).toEqual({ replies: 2, lastReplyAt: shared.createdAt, lastReplier: { id: bob.user.id, displayName: "Bob" } });
    const unread = (await call<{ rooms: RoomSummary[] }>(a, "room:list", {})).rooms.find((r) => r.id === room.id)!.unread;
    expect(unread).toBe(1);

    // The thread: its first message and the replies in order, paged back.
    const more: Message[] = [];
    for (let i = 0; i < 3; i++) more.push(await send(a, `follow-up ${i}`, { threadId: root.id }));
    const page = await call<Thread>(b, "message:thread", { roomId: room.id, threadId: root.id, limit: 3 });
    expect(page.root).toMatchObject({ id: root.id, thread: { replies: 5 } });
    expect([page.replies.map((m) => m.body), page.hasMore]).toEqual([["follow-up 0", "follow-up 1", "follow-up 2"], true]);
    const older = await call<Thread>(b, "message:thread", { roomId: room.id, threadId: root.id, before: more[0]!.id });
    expect([older.replies.map((m) => m.body), older.hasMore]).toEqual([["yes, at 8", "release at 8 tonight, everyone"], false]);

    // A backend replies as a bot.
    const { message } = await server.core.gateway.postMessage({ roomId: room.id, body: "deploy started", bot: { id: "ci", name: "CI" }, threadId: root.id });
    expect(message.threadId).toBe(root.id);
  });

  it("refuses replies to what is not a thread's first message of the room, and threads of unreadable rooms", async () => {
    const { a, b, room, send, history } = await setup("private");
    const root = await send(a, "root");
    const reply = await send(b, "reply", { threadId: root.id });
    const gone = await send(a, "to be deleted");
    await call(a, "message:delete", { roomId: room.id, messageId: gone.id });
    const { room: other } = await call<{ room: Room }>(a, "room:create", { name: "other" });
    const elsewhere = await send(a, "x").then(async () => (await call<{ message: Message }>(a, "message:send", { roomId: other.id, body: "other room" })).message);
    const cases: Array<[string, object, string]> = [
      ["message:send", { roomId: room.id, body: "nested", threadId: reply.id }, "not_found"],
      ["message:send", { roomId: room.id, body: "to the deleted", threadId: gone.id }, "not_found"],
      ["message:send", { roomId: room.id, body: "across rooms", threadId: elsewhere.id }, "not_found"],
      ["message:send", { roomId: room.id, body: "nowhere", threadId: "999999999" }, "not_found"],
      ["message:send", { roomId: room.id, body: "room only", alsoToRoom: true }, "invalid_payload"],
      ["message:send", { roomId: room.id, body: "bad id", threadId: "0" }, "invalid_payload"],
      ["message:thread", { roomId: room.id, threadId: reply.id }, "not_found"],
      ["message:thread", { roomId: other.id, threadId: root.id }, "not_found"],
      ["message:thread", { roomId: room.id, threadId: root.id, limit: 101 }, "invalid_payload"],
    ];
    for (const [event, payload, code] of cases) {
      expect(await request(a, event, payload), `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code } });
    }
    const outsider = await connect(server.url, (await register(server.url)).token);
    expect(await request(outsider, "message:thread", { roomId: room.id, threadId: root.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect((await history()).map((m) => m.body)).toEqual(["root", "", "x"]);
  });

  it("follows the threads one starts or replies in: told of replies by others, listed with unread replies, read per thread", async () => {
    const { ada, bob, a, b, room, send } = await setup();
    const cy = await register(server.url, undefined, "Cy");
    const c = await connect(server.url, cy.token);
    await call(c, "room:join", { roomId: room.id });
    const threads = async (s: typeof a, extra: object = {}) => call<{ threads: FollowedThread[]; nextCursor?: string }>(s, "thread:list", extra);

    const older = await send(a, "older question");
    const root = await send(a, "release tonight?");
    expect((await threads(a)).threads).toEqual([]); // no replies yet: nothing to follow
    const adaHears = collect(a, "thread:reply");
    const bobHears = collect(b, "thread:reply");
    const first = await send(b, "yes, at 8", { threadId: root.id });
    await send(b, "and an older thread", { threadId: older.id });
    const second = await send(c, "count me in", { threadId: root.id });
    await settle(a);
    await settle(b);
    // Ada started both threads, Bob replied: each hears of replies by others only; Cy, who replied after, hears nothing earlier.
    expect(adaHears.map((m) => m.body)).toEqual(["yes, at 8", "and an older thread", "count me in"]);
    expect(bobHears.map((m) => m.id)).toEqual([second.id]);

    // Latest reply first; unread counts replies by others after one's marker (a reply of one's own reads up to it).
    const adaList = await threads(a);
    expect(adaList.threads.map((t) => [t.root.body, t.unread, t.root.thread?.replies, t.root.thread?.lastReplier.id])).toEqual([
      ["release tonight?", 2, 2, cy.user.id],
      ["older question", 1, 1, bob.user.id],
    ]);
    expect(adaList.threads[0]!.root).toMatchObject({ id: root.id, roomId: room.id, author: { id: ada.user.id, displayName: "Ada" } });
    expect((await threads(b)).threads.map((t) => [t.root.id, t.unread, t.lastReadMessageId])).toEqual([
      [root.id, 1, first.id],
      [older.id, 0, expect.any(String)],
    ]);
    // Paged.
    const page = await threads(a, { limit: 1 });
    expect(page.threads.map((t) => t.root.id)).toEqual([root.id]);
    expect((await threads(a, { limit: 1, before: page.nextCursor })).threads.map((t) => t.root.id)).toEqual([older.id]);

    // Reading a thread: every tab of the reader is told, and the count follows; markers only move forward.
    const a2 = await connect(server.url, ada.token);
    const told = next(a2, "thread:read");
    await call(a, "thread:read", { roomId: room.id, threadId: root.id, messageId: first.id });
    expect(await told).toEqual({ roomId: room.id, threadId: root.id, messageId: first.id });
    expect((await threads(a)).threads[0]!.unread).toBe(1);
    await call(a, "thread:read", { roomId: room.id, threadId: root.id, messageId: second.id });
    await call(a, "thread:read", { roomId: room.id, threadId: root.id, messageId: first.id });
    expect((await threads(a)).threads[0]).toMatchObject({ unread: 0, lastReadMessageId: second.id });
    // A reply of another thread, or of another room, is not this thread's.
    expect(await request(a, "thread:read", { roomId: room.id, threadId: root.id, messageId: older.id })).toMatchObject({ ok: false, error: { code: "not_found" } });

    // Someone who leaves the room no longer lists its threads nor hears of them.
    await call(b, "room:leave", { roomId: room.id });
    const gone = collect(b, "thread:reply");
    await send(a, "last call", { threadId: root.id });
    await settle(b);
    expect(gone).toEqual([]);
    expect((await threads(b)).threads).toEqual([]);
  });

  it("keeps a private room's threads to its members", async () => {
    const { a, room, send } = await setup("private");
    const root = await send(a, "secret");
    const reply = await send(a, "more secret", { threadId: root.id });
    const mallory = await connect(server.url, (await register(server.url)).token);
    expect(await request(mallory, "thread:read", { roomId: room.id, threadId: root.id, messageId: reply.id })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect((await call<{ threads: FollowedThread[] }>(mallory, "thread:list", {})).threads).toEqual([]);
  });
});
