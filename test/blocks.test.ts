/**
 * Blocking someone (no writing in the DM between them, no new DM from them,
 * the blocker's tabs told, the blocked not) and archiving a room (read-only
 * for everyone, backends included, until brought back) — on both databases.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { call, closeAll, collect, connect, next, register, request, settle } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

describe.each(await backends())("blocking and archiving (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  async function people() {
    const [ada, bob] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob")];
    const [a, a2, b] = [await connect(server.url, ada.token), await connect(server.url, ada.token), await connect(server.url, bob.token)];
    return { ada, bob, a, a2, b };
  }

  it("blocks: neither writes in their DM, the blocked cannot open one, the blocker's tabs are told and the blocked is not; unblocking undoes it", async () => {
    const { ada, bob, a, a2, b } = await people();
    const { room: dm } = await call<{ room: Room }>(b, "dm:open", { userId: ada.user.id });
    const { message } = await call<{ message: Message }>(b, "message:send", { roomId: dm.id, body: "hi", clientMsgId: "before-1" });
    const [toTab, toBob] = [next(a2, "user:blocked"), collect(b, "user:blocked")];
    await call(a, "user:block", { userId: bob.user.id, blocked: true });
    expect(await toTab).toEqual({ userId: bob.user.id, blocked: true });
    await call(a, "user:block", { userId: bob.user.id, blocked: true }); // again: nothing changes

    expect(await request(b, "message:send", { roomId: dm.id, body: "are you there?" })).toMatchObject({ ok: false, error: { code: "forbidden", message: "you cannot write in this conversation" } });
    expect(await request(a, "message:send", { roomId: dm.id, body: "hello?" })).toMatchObject({ ok: false, error: { code: "forbidden", message: expect.stringContaining("unblock") } });
    expect(await request(b, "message:edit", { roomId: dm.id, messageId: message.id, body: "edited" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    // A resend of what was stored before the block is answered as before.
    expect((await call<{ message: Message }>(b, "message:send", { roomId: dm.id, body: "hi", clientMsgId: "before-1" })).message.id).toBe(message.id);
    expect(await request(b, "dm:open", { userId: ada.user.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect((await call<{ room: Room }>(a, "dm:open", { userId: bob.user.id })).room.id).toBe(dm.id); // the blocker may still read it
    const history = await call<{ messages: Message[] }>(a, "message:history", { roomId: dm.id });
    expect(history.messages.map((m) => m.body)).toEqual(["hi"]);
    expect(await call(a, "user:blocks", {})).toEqual({ ok: true, users: [expect.objectContaining({ id: bob.user.id })] });
    expect(await call(a, "user:blocks")).toEqual({ ok: true, users: [expect.objectContaining({ id: bob.user.id })] });
    await settle(b);
    expect(toBob).toEqual([]);

    // Group rooms they share are untouched: the blocker's client collapses, the server delivers.
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "shared", memberIds: [bob.user.id] });
    expect((await call<{ message: Message }>(b, "message:send", { roomId: room.id, body: "in the room" })).message.body).toBe("in the room");

    await call(a, "user:block", { userId: bob.user.id, blocked: false });
    expect((await call<{ message: Message }>(b, "message:send", { roomId: dm.id, body: "thanks" })).message.body).toBe("thanks");
    expect(await call(a, "user:blocks", {})).toEqual({ ok: true, users: [] });
    for (const [payload, code] of [
      [{ userId: ada.user.id, blocked: true }, "invalid_payload"],
      [{ userId: "nobody", blocked: true }, "not_found"],
      [{ userId: bob.user.id }, "invalid_payload"],
    ] as const) {
      expect(await request(a, "user:block", payload)).toMatchObject({ ok: false, error: { code } });
    }
  });

  it("archives a room: read-only for everyone until brought back; only the owner and admins may; members are told", async () => {
    const { bob, a, b } = await people();
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "old project", memberIds: [bob.user.id] });
    const { message } = await call<{ message: Message }>(b, "message:send", { roomId: room.id, body: "last words" });
    expect(await request(b, "room:archive", { roomId: room.id, archived: true })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const told = next(b, "room:updated");
    const archived = await call<{ room: Room }>(a, "room:archive", { roomId: room.id, archived: true });
    expect(archived.room.archived).toBe(true);
    expect(await told).toEqual(archived.room);

    const readOnly = { code: "forbidden", message: "this room is archived: it is read-only" };
    expect(await request(b, "message:send", { roomId: room.id, body: "anyone?" })).toMatchObject({ ok: false, error: readOnly });
    expect(await request(a, "message:send", { roomId: room.id, body: "owner too" })).toMatchObject({ ok: false, error: readOnly });
    expect(await request(b, "reaction:add", { roomId: room.id, messageId: message.id, emoji: "👍" })).toMatchObject({ ok: false, error: readOnly });
    expect(await request(b, "message:edit", { roomId: room.id, messageId: message.id, body: "changed" })).toMatchObject({ ok: false, error: readOnly });
    const posted = await server.core.gateway.run("postMessage", { roomId: room.id, body: "from a backend" }).catch((err: unknown) => err);
    expect(posted).toMatchObject({ code: "forbidden" });
    // Still readable, and listed as archived.
    expect((await call<{ messages: Message[] }>(b, "message:history", { roomId: room.id })).messages.map((m) => m.body)).toEqual(["last words"]);
    const list = await call<{ rooms: Array<Room> }>(b, "room:list", {});
    expect(list.rooms.find((r) => r.id === room.id)?.archived).toBe(true);

    await call(a, "room:archive", { roomId: room.id, archived: false });
    expect((await call<{ message: Message }>(b, "message:send", { roomId: room.id, body: "back" })).message.body).toBe("back");
    const { room: dm } = await call<{ room: Room }>(a, "dm:open", { userId: bob.user.id });
    expect(await request(a, "room:archive", { roomId: dm.id, archived: true })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });
});
