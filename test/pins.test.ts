import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MAX_PINS_PER_ROOM, type Message, type Room } from "../shared/protocol";
import { call, closeAll, collect, connect, next, register, request, settle } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

describe.each(await backends())("pinned messages (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  async function user(name?: string) {
    const account = await register(server.url, undefined, name);
    return { ...account, socket: await connect(server.url, account.token) };
  }
  const say = async (who: { socket: Awaited<ReturnType<typeof connect>> }, roomId: string, body: string, extra: object = {}) =>
    (await call<{ message: Message }>(who.socket, "message:send", { roomId, body, ...extra })).message;
  const pinsOf = async (who: { socket: Awaited<ReturnType<typeof connect>> }, roomId: string) =>
    (await call<{ pins: Message[] }>(who.socket, "room:pins", { roomId })).pins;

  it("lets members pin and unpin messages for everyone: every tab told, history and room:pins carry it, newest pin first", async () => {
    const ada = await user("Ada");
    const bob = await user("Bob");
    const bobTab2 = await connect(server.url, bob.token);
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "pins", memberIds: [bob.user.id] });
    const [first, second] = [await say(ada, room.id, "the plan"), await say(bob, room.id, "the date")];

    const heard = [next(bob.socket, "message:pinned"), next(bobTab2, "message:pinned"), next(ada.socket, "message:pinned")];
    await call(bob.socket, "message:pin", { roomId: room.id, messageId: first.id });
    const pinned = { roomId: room.id, messageId: first.id, pinned: { by: { id: bob.user.id, displayName: "Bob" }, at: expect.stringMatching(/^\d{4}-/) } };
    for (const event of await Promise.all(heard)) expect(event).toEqual(pinned);
    // Again: nothing changes, nobody is told.
    const more = collect(ada.socket, "message:pinned");
    await call(ada.socket, "message:pin", { roomId: room.id, messageId: first.id });
    await call(ada.socket, "message:pin", { roomId: room.id, messageId: second.id });
    await settle(ada.socket);
    expect(more.map((e) => e.messageId)).toEqual([second.id]);

    // History carries who pinned; room:pins lists the newest pin first.
    const { messages } = await call<{ messages: Message[] }>(bob.socket, "message:history", { roomId: room.id });
    expect(messages.find((m) => m.id === first.id)?.pinned).toEqual({ by: { id: bob.user.id, displayName: "Bob" }, at: expect.any(String) });
    const pins = await pinsOf(bob, room.id);
    expect(pins.map((m) => [m.id, m.body, m.pinned?.by?.id])).toEqual([
      [second.id, "the date", ada.user.id],
      [first.id, "the plan", bob.user.id],
    ]);

    // Unpinning (anyone in the room, as on Slack) tells every member who did it; again changes nothing.
    const unpinned = next(bobTab2, "message:unpinned");
    await call(ada.socket, "message:unpin", { roomId: room.id, messageId: first.id });
    expect(await unpinned).toEqual({ roomId: room.id, messageId: first.id, by: { id: ada.user.id, displayName: "Ada" } });
    await call(ada.socket, "message:unpin", { roomId: room.id, messageId: first.id });
    expect((await pinsOf(ada, room.id)).map((m) => m.id)).toEqual([second.id]);
    const again = await call<{ messages: Message[] }>(ada.socket, "message:history", { roomId: room.id });
    expect(again.messages.find((m) => m.id === first.id)?.pinned).toBeUndefined();

    // A deleted message is unpinned (its tombstone says so; no message:unpinned).
    const quiet = collect(ada.socket, "message:unpinned");
    await call(bob.socket, "message:delete", { roomId: room.id, messageId: second.id });
    await settle(ada.socket);
    expect(quiet).toEqual([]);
    expect(await pinsOf(ada, room.id)).toEqual([]);
    expect(await request(ada.socket, "message:pin", { roomId: room.id, messageId: second.id })).toMatchObject({ ok: false, error: { code: "not_found" } });

    // In a DM both people may pin.
    const { room: dm } = await call<{ room: Room }>(ada.socket, "dm:open", { userId: bob.user.id });
    const hi = await say(ada, dm.id, "hi");
    await call(bob.socket, "message:pin", { roomId: dm.id, messageId: hi.id });
    expect((await pinsOf(ada, dm.id)).map((m) => m.id)).toEqual([hi.id]);
  });

  it("refuses what is not the room's, outsiders, thread-only replies and pins past the limit, changing nothing", async () => {
    const ada = await user();
    const bob = await user();
    const eve = await user();
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "guarded", memberIds: [bob.user.id] });
    const { room: other } = await call<{ room: Room }>(ada.socket, "room:create", { name: "other" });
    const { room: secret } = await call<{ room: Room }>(ada.socket, "room:create", { name: "secret", visibility: "private" });
    const root = await say(ada, room.id, "root");
    const reply = await say(bob, room.id, "in the thread", { threadId: root.id });
    const shown = await say(bob, room.id, "also to the room", { threadId: root.id, alsoToRoom: true });
    const elsewhere = await say(ada, other.id, "elsewhere");
    const hidden = await say(ada, secret.id, "hidden");
    const refused = async (who: typeof ada, event: string, payload: object, code: string) =>
      expect(await request(who.socket, event, payload)).toMatchObject({ ok: false, error: { code } });

    await refused(eve, "message:pin", { roomId: room.id, messageId: root.id }, "forbidden"); // not a member of this public room
    await refused(eve, "message:unpin", { roomId: room.id, messageId: root.id }, "forbidden");
    await refused(eve, "room:pins", { roomId: secret.id }, "forbidden"); // a private room's pins are its members'
    await refused(ada, "message:pin", { roomId: room.id, messageId: elsewhere.id }, "not_found"); // another room's message
    await refused(ada, "message:pin", { roomId: room.id, messageId: "999999999999" }, "not_found");
    await refused(ada, "message:pin", { roomId: "no-such-room", messageId: root.id }, "not_found");
    await refused(ada, "message:pin", { roomId: room.id, messageId: reply.id }, "forbidden"); // lives in its thread
    await refused(ada, "message:pin", { roomId: room.id, messageId: "0" }, "invalid_payload");
    await refused(ada, "message:pin", { roomId: room.id }, "invalid_payload");
    await refused(ada, "room:pins", { roomId: secret.id, extra: 1 }, "invalid_payload");
    await call(ada.socket, "message:pin", { roomId: room.id, messageId: shown.id }); // a reply also in the room may be
    expect((await pinsOf(eve, room.id)).map((m) => m.id)).toEqual([shown.id]); // a public room's pins are readable
    await refused(eve, "message:pin", { roomId: secret.id, messageId: hidden.id }, "forbidden");

    // At most MAX_PINS_PER_ROOM at once, even when pinned together (made and pinned by a backend: no rate limit).
    const ids: string[] = [];
    for (let i = 0; i < MAX_PINS_PER_ROOM; i++) ids.push((await server.core.gateway.postMessage({ roomId: room.id, body: `m${i}` })).message.id);
    const answers = await Promise.allSettled(ids.map((messageId) => server.core.gateway.pinMessage({ roomId: room.id, messageId, userId: bob.user.id })));
    expect(answers.filter((a) => a.status === "fulfilled")).toHaveLength(MAX_PINS_PER_ROOM - 1);
    expect(answers.flatMap((a) => (a.status === "rejected" ? [a.reason.code] : []))).toEqual(["limit_exceeded"]);
    expect(await pinsOf(ada, room.id)).toHaveLength(MAX_PINS_PER_ROOM);
    await refused(ada, "message:pin", { roomId: room.id, messageId: root.id }, "limit_exceeded");
  });

  it("lets backends pin, unpin and list pins as a user, a bot or the system", async () => {
    const ada = await user("Ada");
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "backend pins" });
    const m = await say(ada, room.id, "pin me");
    const heard = next(ada.socket, "message:pinned");
    await server.core.gateway.pinMessage({ roomId: room.id, messageId: m.id, bot: "deploys" });
    expect(await heard).toMatchObject({ messageId: m.id, pinned: { by: { id: "bot:deploys" } } });
    expect((await server.core.gateway.listPins({ roomId: room.id })).pins.map((p) => [p.id, p.pinned?.by?.id])).toEqual([[m.id, "bot:deploys"]]);
    const gone = next(ada.socket, "message:unpinned");
    await server.core.gateway.unpinMessage({ roomId: room.id, messageId: m.id, userId: ada.user.id });
    expect(await gone).toEqual({ roomId: room.id, messageId: m.id, by: { id: ada.user.id, displayName: "Ada" } });
    await expect(server.core.gateway.listPins({ roomId: "nope" })).rejects.toMatchObject({ code: "not_found" });
    await expect(server.core.gateway.pinMessage({ roomId: room.id, messageId: m.id, userId: "nobody" })).rejects.toMatchObject({ code: "not_found" });
  });
});
