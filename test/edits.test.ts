/**
 * Editing and deleting messages: who may, what the room sees live, what
 * history keeps, and the same from a backend (HTTP API and queue), on both
 * databases.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { api, call, closeAll, collect, connect, register, request, settle, type ChatSocket } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

const KEY = "edits-test-api-key-0123456789";

describe.each(await backends())("editing and deleting messages (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { SWITCHBOARD_API_KEYS: KEY });
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  /** Ada owns a room Bob is a member of; Carol is outside it. */
  async function setup() {
    const [ada, bob, carol] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob"), await register(server.url)];
    const [a, b, c] = [await connect(server.url, ada.token), await connect(server.url, bob.token), await connect(server.url, carol.token)];
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "edits", memberIds: [bob.user.id] });
    const send = async (s: ChatSocket, body: string, clientMsgId?: string) =>
      (await call<{ message: Message }>(s, "message:send", { roomId: room.id, body, ...(clientMsgId ? { clientMsgId } : {}) })).message;
    const history = async () => (await call<{ messages: Message[] }>(a, "message:history", { roomId: room.id })).messages;
    return { ada, bob, carol, a, b, c, room, send, history };
  }

  it("lets the author edit: acked and pushed to every member with editedAt, and history returns the new text", async () => {
    const { a, b, room, send, history } = await setup();
    const sent = await send(b, "helo");
    const seenByAda = collect(a, "message:updated");
    const { message } = await call<{ message: Message }>(b, "message:edit", { roomId: room.id, messageId: sent.id, body: "hello" });
    expect(message).toEqual({ ...sent, body: "hello", editedAt: expect.stringMatching(/Z$/) });
    await settle(a);
    expect(seenByAda).toEqual([message]);
    expect(await history()).toEqual([message]);
    // The same text again changes nothing and tells nobody.
    const again = await call<{ message: Message }>(b, "message:edit", { roomId: room.id, messageId: sent.id, body: "hello" });
    expect(again.message).toEqual(message);
    await settle(a);
    expect(seenByAda).toHaveLength(1);
  });

  it("runs plugins' beforeMessage on the new text, as for a new message", async () => {
    const { b, room, send } = await setup();
    const sent = await send(b, "meh");
    const { message } = await call<{ message: Message }>(b, "message:edit", { roomId: room.id, messageId: sent.id, body: "/shrug fine" });
    expect(message.body).toBe("fine ¯\\_(ツ)_/¯");
    const refused = await request(b, "message:edit", { roomId: room.id, messageId: sent.id, body: "/me" });
    expect(refused).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("refuses edits by anyone but the author, of deleted messages and of other rooms' messages, changing nothing", async () => {
    const { a, b, c, room, send, history } = await setup();
    const sent = await send(b, "mine");
    const other = await call<{ room: Room }>(a, "room:create", { name: "elsewhere" });
    const cases: Array<[ChatSocket, object, string]> = [
      [a, { roomId: room.id, messageId: sent.id, body: "the owner may not put words in my mouth" }, "forbidden"],
      [c, { roomId: room.id, messageId: sent.id, body: "outsider" }, "forbidden"],
      [b, { roomId: other.room.id, messageId: sent.id, body: "wrong room" }, "forbidden"],
      [a, { roomId: other.room.id, messageId: sent.id, body: "wrong room" }, "not_found"],
      [b, { roomId: room.id, messageId: "999999999", body: "nothing there" }, "not_found"],
      [b, { roomId: room.id, messageId: sent.id, body: "a\u0000b" }, "invalid_payload"],
      [b, { roomId: room.id, messageId: sent.id, body: "   " }, "invalid_payload"],
      [b, { roomId: room.id, messageId: "12x", body: "ok" }, "invalid_payload"],
      [b, { roomId: room.id, messageId: sent.id, body: "x".repeat(4001) }, "too_large"],
    ];
    for (const [socket, payload, code] of cases) {
      expect(await request(socket, "message:edit", payload), JSON.stringify(payload).slice(0, 80)).toMatchObject({ ok: false, error: { code } });
    }
    expect(await history()).toEqual([sent]);
  });

  it("lets the author, or the room's owner, delete: the room gets the tombstone, history keeps it without the body", async () => {
    const { a, b, room, send, history } = await setup();
    const first = await send(b, "first", "c-first");
    const second = await send(b, "second");
    const seenByBob = collect(b, "message:deleted");
    expect(await call(b, "message:delete", { roomId: room.id, messageId: first.id })).toEqual({ ok: true });
    expect(await call(a, "message:delete", { roomId: room.id, messageId: second.id })).toEqual({ ok: true });
    await settle(b);
    const tombstone = (m: Message) => {
      const { body: _body, ...rest } = m;
      return { ...rest, body: "", deletedAt: expect.stringMatching(/Z$/) };
    };
    expect(seenByBob).toEqual([tombstone(first), tombstone(second)]);
    expect(await history()).toEqual([tombstone(first), tombstone(second)]);
    // Gone for good: not deleted twice, not edited, and a resend of its clientMsgId does not bring it back.
    expect(await request(b, "message:delete", { roomId: room.id, messageId: first.id })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await request(b, "message:edit", { roomId: room.id, messageId: first.id, body: "back" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    const resent = await call<{ message: Message }>(b, "message:send", { roomId: room.id, body: "first", clientMsgId: "c-first" });
    expect(resent.message).toEqual(tombstone(first));
  });

  it("refuses a member deleting someone else's message, and an outsider deleting any", async () => {
    const { a, b, c, room, send, history } = await setup();
    const adas = await send(a, "the owner's");
    const bobs = await send(b, "bob's");
    expect(await request(b, "message:delete", { roomId: room.id, messageId: adas.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await request(c, "message:delete", { roomId: room.id, messageId: bobs.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await history()).toEqual([adas, bobs]);
  });

  it("lets a backend edit and delete any message over HTTP, and code in the process through core.gateway", async () => {
    const { a, b, room, send, history } = await setup();
    const sent = await send(b, "typo");
    const v1 = (method: string, path: string, body?: unknown) => api(server.url, method, `/api/v1${path}`, body, { authorization: `Bearer ${KEY}` });
    const live = collect(a, "message:updated");
    const edited = await v1("PATCH", `/rooms/${room.id}/messages/${sent.id}`, { body: "fixed by the bot" });
    expect(edited.status).toBe(200);
    expect(edited.body.message).toMatchObject({ id: sent.id, body: "fixed by the bot", editedAt: expect.any(String) });
    await settle(a);
    expect(live.map((m) => m.body)).toEqual(["fixed by the bot"]);
    expect((await v1("PATCH", `/rooms/${room.id}/messages/${sent.id}`, { body: "" })).status).toBe(400);
    expect((await v1("PATCH", `/rooms/${room.id}/messages/0`, { body: "x" })).status).toBe(400);
    expect((await v1("DELETE", `/rooms/${room.id}/messages/${sent.id}`)).status).toBe(204);
    expect((await v1("DELETE", `/rooms/${room.id}/messages/${sent.id}`)).status).toBe(404);
    expect(await history()).toEqual([expect.objectContaining({ id: sent.id, body: "", deletedAt: expect.any(String) })]);
    const other = await send(b, "via the core");
    await server.core.gateway.editMessage({ roomId: room.id, messageId: other.id, body: "edited in process" });
    expect((await history()).at(-1)).toMatchObject({ body: "edited in process" });
  });
});
