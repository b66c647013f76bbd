/**
 * Mentions and notification levels: what a body mentions, the mention
 * counts in room:list (after the read marker, not one's own, not deleted),
 * edits and backend posts, and the per-room notification level, on both
 * databases.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mentionsIn, splitMentions } from "../shared/mentions";
import type { Message, Room, RoomSummary } from "../shared/protocol";
import { call, closeAll, collect, connect, register, request, settle, uniqueName } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

describe("mentions in text", () => {
  it("finds @usernames and @room, not addresses or words with @ inside, each once", () => {
    expect(mentionsIn("@Ada and @bob.smith, see @room. Mail ada@example.com or @x; @ada again; @bob.")).toEqual([
      "ada",
      "bob.smith",
      "@room",
      "bob",
    ]);
    expect(mentionsIn("no mentions @ all, a@b, @@ada")).toEqual([]);
    expect(mentionsIn(Array.from({ length: 80 }, (_, i) => `@user${i}`).join(" "))).toHaveLength(50);
  });

  it("splits text and mentions so that joined they are the text", () => {
    const body = "hi @Ada, ask @room. ok";
    const parts = splitMentions(body);
    expect(parts.map((p) => p.text).join("")).toBe(body);
    expect(parts.filter((p) => p.mention)).toEqual([
      { text: "@Ada", mention: "ada" },
      { text: "@room", mention: "@room" },
    ]);
  });
});

describe.each(await backends())("mentions and notification levels (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  async function setup() {
    const adaName = uniqueName("ada");
    const ada = await register(server.url, adaName, "Ada");
    const bob = await register(server.url, undefined, "Bob");
    const [a, b] = [await connect(server.url, ada.token), await connect(server.url, bob.token)];
    const { room } = await call<{ room: Room }>(b, "room:create", { name: "mentions", memberIds: [ada.user.id] });
    const send = async (s: typeof a, body: string) => (await call<{ message: Message }>(s, "message:send", { roomId: room.id, body })).message;
    const summary = async () => (await call<{ rooms: RoomSummary[] }>(a, "room:list", {})).rooms.find((r) => r.id === room.id)!;
    return { ada, adaName, bob, a, b, room, send, summary };
  }

  it("stores what a message mentions, and counts Ada's unread mentions (by name, any case, or @room) in room:list", async () => {
    const { adaName, a, b, room, send, summary } = await setup();
    expect(await summary()).toMatchObject({ unread: 0, mentions: 0, notifications: "all" });
    const live = collect(a, "message:new");
    const first = await send(b, `@${adaName.toUpperCase()} can you look?`);
    expect(first.mentions).toEqual([adaName.toLowerCase()]);
    await send(b, "heads up @room");
    await send(b, "no mention here");
    await send(a, `note to self @${adaName}`); // her own: neither unread nor a mention
    const deleted = await send(b, `@${adaName} never mind`);
    await call(b, "message:delete", { roomId: room.id, messageId: deleted.id });
    await settle(a);
    expect(live.find((m) => m.id === first.id)?.mentions).toEqual([adaName.toLowerCase()]);
    expect(await summary()).toMatchObject({ unread: 4, mentions: 2 });

    // An edit that adds a mention counts; history carries the mentions.
    const plain = await send(b, "plain");
    await call(b, "message:edit", { roomId: room.id, messageId: plain.id, body: `plain, @${adaName}` });
    expect(await summary()).toMatchObject({ unread: 5, mentions: 3 });
    const { messages } = await call<{ messages: Message[] }>(a, "message:history", { roomId: room.id });
    expect(messages.find((m) => m.id === plain.id)?.mentions).toEqual([adaName.toLowerCase()]);
    expect(messages.find((m) => m.id === deleted.id)?.mentions).toBeUndefined();

    // Reading clears both counts.
    await call(a, "room:read", { roomId: room.id, messageId: plain.id });
    expect(await summary()).toMatchObject({ unread: 0, mentions: 0 });

    // A backend's post mentions as a client's does.
    await server.core.gateway.postMessage({ roomId: room.id, body: `@${adaName} deploy finished` });
    expect(await summary()).toMatchObject({ unread: 1, mentions: 1 });
  });

  it("keeps a notification level per member and room, told to every tab of theirs; refuses the rest", async () => {
    const { ada, a, b, room, summary } = await setup();
    const otherTab = await connect(server.url, ada.token);
    const heard = collect(otherTab, "room:notifications");
    await call(a, "room:notifications", { roomId: room.id, level: "mentions" });
    await settle(otherTab);
    expect(heard).toEqual([{ roomId: room.id, level: "mentions" }]);
    expect((await summary()).notifications).toBe("mentions");
    // Bob's level is his own.
    expect((await call<{ rooms: RoomSummary[] }>(b, "room:list", {})).rooms.find((r) => r.id === room.id)!.notifications).toBe("all");

    const outsider = await connect(server.url, (await register(server.url)).token);
    for (const [socket, payload, code] of [
      [a, { roomId: room.id, level: "loud" }, "invalid_payload"],
      [a, { roomId: room.id }, "invalid_payload"],
      [a, { roomId: "no-such-room", level: "none" }, "not_found"],
      [outsider, { roomId: room.id, level: "none" }, "forbidden"],
    ] as const) {
      expect(await request(socket, "room:notifications", payload)).toMatchObject({ ok: false, error: { code } });
    }
    expect((await summary()).notifications).toBe("mentions");
  });
});
