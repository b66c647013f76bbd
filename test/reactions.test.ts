/**
 * Emoji reactions: who may react, what the room sees live, what history
 * carries (counts, who, the asker always listed), the limits, and the same
 * from a backend (HTTP API and queue command), on both databases.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MAX_REACTIONS_PER_MESSAGE, REACTION_USERS_LISTED, type Message, type Room } from "../shared/protocol";
import { api, call, closeAll, collect, connect, register, request, settle, type ChatSocket } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

const KEY = "reactions-test-api-key-0123456789";

describe.each(await backends())("reactions (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { SWITCHBOARD_API_KEYS: KEY });
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  /** Ada's public room has Bob in it; Carol is outside it (but may read it). */
  async function setup(visibility: "public" | "private" = "public") {
    const [ada, bob, carol] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob"), await register(server.url)];
    const [a, b, c] = [await connect(server.url, ada.token), await connect(server.url, bob.token), await connect(server.url, carol.token)];
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "reactions", visibility, memberIds: [bob.user.id] });
    const { message } = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "lunch?" });
    const ref = { roomId: room.id, messageId: message.id };
    const history = async (s: ChatSocket = a) => (await call<{ messages: Message[] }>(s, "message:history", { roomId: room.id })).messages;
    return { ada, bob, carol, a, b, c, room, message, ref, history };
  }

  it("adds and removes reactions: acked, pushed to every member's tabs once, and summed in history", async () => {
    const { ada, bob, a, b, ref, history } = await setup();
    const a2 = await connect(server.url, ada.token);
    const [added, removed, addedInTab2] = [collect(a, "reaction:added"), collect(a, "reaction:removed"), collect(a2, "reaction:added")];
    await call(b, "reaction:add", { ...ref, emoji: "👍" });
    await call(a, "reaction:add", { ...ref, emoji: "👍🏽" });
    await call(a, "reaction:add", { ...ref, emoji: "👍" });
    // The same reaction again changes nothing and tells nobody.
    await call(b, "reaction:add", { ...ref, emoji: "👍" });
    await settle(a);
    await settle(a2);
    expect(added).toEqual([
      { ...ref, emoji: "👍", userId: bob.user.id },
      { ...ref, emoji: "👍🏽", userId: ada.user.id },
      { ...ref, emoji: "👍", userId: ada.user.id },
    ]);
    expect(addedInTab2).toEqual(added);
    // Oldest emoji first, its people in the order they reacted.
    expect((await history())[0]!.reactions).toEqual([
      { emoji: "👍", count: 2, userIds: [ada.user.id, bob.user.id] },
      { emoji: "👍🏽", count: 1, userIds: [ada.user.id] },
    ]);
    expect((await history(b))[0]!.reactions![0]).toEqual({ emoji: "👍", count: 2, userIds: [bob.user.id, ada.user.id] });

    await call(a, "reaction:remove", { ...ref, emoji: "👍🏽" });
    await call(a, "reaction:remove", { ...ref, emoji: "👍🏽" }); // not there: nothing changes
    await settle(a);
    expect(removed).toEqual([{ ...ref, emoji: "👍🏽", userId: ada.user.id }]);
    expect((await history())[0]!.reactions).toEqual([{ emoji: "👍", count: 2, userIds: [ada.user.id, bob.user.id] }]);
  });

  it("lets a reader of a public room react before joining; refuses outsiders of a private room", async () => {
    const open = await setup();
    await call(open.c, "reaction:add", { ...open.ref, emoji: "👀" });
    expect((await open.history())[0]!.reactions).toEqual([{ emoji: "👀", count: 1, userIds: [open.carol.user.id] }]);

    const closed = await setup("private");
    for (const event of ["reaction:add", "reaction:remove"]) {
      expect(await request(closed.c, event, { ...closed.ref, emoji: "👀" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    expect((await closed.history())[0]!.reactions).toBeUndefined();
  });

  it("refuses what is not one emoji, unknown and deleted messages, and other rooms' messages, changing nothing", async () => {
    const { a, b, room, ref, message, history } = await setup();
    const other = await call<{ room: Room }>(b, "room:create", { name: "elsewhere" });
    const cases: Array<[object, string]> = [
      [{ ...ref, emoji: "" }, "invalid_payload"],
      [{ ...ref, emoji: "👍👍" }, "invalid_payload"],
      [{ ...ref, emoji: "+1" }, "invalid_payload"],
      [{ ...ref, emoji: ":thumbsup:" }, "invalid_payload"],
      [{ ...ref, emoji: "👍 " }, "invalid_payload"],
      [{ ...ref, emoji: "a\u0000" }, "invalid_payload"],
      [{ ...ref, emoji: "👍".repeat(40) }, "too_large"],
      [{ ...ref, emoji: "👍", extra: 1 }, "invalid_payload"],
      [{ ...ref, messageId: "0", emoji: "👍" }, "invalid_payload"],
      [{ ...ref, messageId: "999999999", emoji: "👍" }, "not_found"],
      [{ roomId: other.room.id, messageId: message.id, emoji: "👍" }, "not_found"],
      [{ roomId: "no-such-room", messageId: message.id, emoji: "👍" }, "not_found"],
    ];
    for (const [payload, code] of cases) {
      expect(await request(a, "reaction:add", payload), JSON.stringify(payload).slice(0, 80)).toMatchObject({ ok: false, error: { code } });
    }
    expect((await history())[0]!.reactions).toBeUndefined();

    // Deleting a message drops its reactions; a deleted message takes no new ones.
    await call(a, "reaction:add", { ...ref, emoji: "👍" });
    await call(a, "message:delete", ref);
    expect(await request(a, "reaction:add", { ...ref, emoji: "🎉" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect((await history())[0]).toMatchObject({ id: message.id, deletedAt: expect.any(String) });
    expect((await history())[0]!.reactions).toBeUndefined();
    void room;
  });

  it(`caps a message at ${MAX_REACTIONS_PER_MESSAGE} different emoji, and lists at most ${REACTION_USERS_LISTED} people per emoji with the asker among them`, async () => {
    const { a, ref, ada, history } = await setup();
    const emoji = [..."😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂🤗🤩"];
    for (const e of emoji.slice(0, MAX_REACTIONS_PER_MESSAGE)) await call(a, "reaction:add", { ...ref, emoji: e });
    expect(await request(a, "reaction:add", { ...ref, emoji: emoji[MAX_REACTIONS_PER_MESSAGE] })).toMatchObject({
      ok: false,
      error: { code: "limit_exceeded" },
    });
    // Another person may still add one of the emoji already there.
    const bob = await register(server.url);
    await server.core.gateway.addReaction({ ...ref, emoji: emoji[0]!, userId: bob.user.id });
    const reactions = (await history())[0]!.reactions!;
    expect(reactions.map((r) => r.emoji)).toEqual(emoji.slice(0, MAX_REACTIONS_PER_MESSAGE));
    expect(reactions[0]).toEqual({ emoji: emoji[0], count: 2, userIds: [ada.user.id, bob.user.id] });

    // Many people on one emoji: all counted, the first ones listed, and the asker too though they came last.
    const many = Array.from({ length: REACTION_USERS_LISTED + 5 }, (_, i) => `bot-${i}`);
    for (const bot of many) await server.core.gateway.addReaction({ ...ref, emoji: emoji[1]!, bot });
    const late = await register(server.url);
    await server.core.gateway.addReaction({ ...ref, emoji: emoji[1]!, userId: late.user.id });
    const lateSocket = await connect(server.url, late.token);
    const popular = (await history(lateSocket))[0]!.reactions![1]!;
    expect(popular.count).toBe(many.length + 2);
    expect(popular.userIds).toEqual([late.user.id, ada.user.id, ...many.slice(0, REACTION_USERS_LISTED - 2).map((b) => `bot:${b}`)]);
  });

  it("lets a backend react as a user, a bot or the system over HTTP and the queue's command shape", async () => {
    const { a, bob, ref, history } = await setup();
    const v1 = (method: string, path: string) => api(server.url, method, `/api/v1${path}`, undefined, { authorization: `Bearer ${KEY}` });
    const path = `/rooms/${ref.roomId}/messages/${ref.messageId}/reactions/${encodeURIComponent("✅")}`;
    const live = collect(a, "reaction:added");
    expect((await v1("PUT", `${path}?userId=${bob.user.id}`)).status).toBe(204);
    expect((await v1("PUT", `${path}?bot=deploy-bot`)).status).toBe(204);
    expect((await v1("PUT", path)).status).toBe(204);
    await settle(a);
    expect(live.map((e) => e.userId)).toEqual([bob.user.id, "bot:deploy-bot", "system"]);
    expect((await history())[0]!.reactions).toEqual([{ emoji: "✅", count: 3, userIds: [bob.user.id, "bot:deploy-bot", "system"] }]);

    for (const [method, url, status] of [
      ["PUT", `/rooms/${ref.roomId}/messages/${ref.messageId}/reactions/nope`, 400],
      ["PUT", `${path}?userId=x&bot=y`, 400],
      ["PUT", `${path}?userId=nobody-here`, 404],
      ["PUT", `/rooms/${ref.roomId}/messages/999999999/reactions/${encodeURIComponent("✅")}`, 404],
      ["DELETE", `${path}?bot=Not%20A%20Bot`, 400],
    ] as const) {
      expect((await v1(method, url)).status, `${method} ${url}`).toBe(status);
    }
    expect((await v1("DELETE", `${path}?bot=deploy-bot`)).status).toBe(204);
    await server.core.gateway.run("removeReaction", { ...ref, emoji: "✅", userId: bob.user.id });
    expect((await history())[0]!.reactions).toEqual([{ emoji: "✅", count: 1, userIds: ["system"] }]);
  });
});
