/**
 * A client written from docs/protocol.md alone: raw Engine.IO/Socket.IO text
 * frames over a WebSocket and plain HTTP, no Socket.IO library. If this
 * passes, a client in any language with a WebSocket can do the same.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawClient } from "./support/raw-client";
import { startTestServer, type TestServer } from "./support/server";


describe("the wire protocol, by hand (docs/protocol.md)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded");
  });
  afterAll(async () => server?.destroy());

  it("registers, connects, creates a room, sends, and reads history", async () => {
    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "wire_client", password: "correct horse battery" }),
    });
    expect(reg.status).toBe(201);
    const { token, user } = (await reg.json()) as { token: string; user: { id: string } };

    const c = await RawClient.open(server.url);
    const open = await c.take((f) => f.startsWith("0{"));
    expect(JSON.parse(open.slice(1))).toMatchObject({ sid: expect.any(String), pingInterval: expect.any(Number) });

    c.send(`40${JSON.stringify({ token })}`);
    const connected = await c.take((f) => f.startsWith("40") || f.startsWith("44"));
    expect(connected).toMatch(/^40\{"sid":/);

    const created = await c.emit(1, "room:create", { name: "general" });
    expect(created).toMatchObject({ ok: true, room: { name: "general", kind: "group", visibility: "public" } });
    const roomId: string = created.room.id;
    const joined = await c.take((f) => f.startsWith('42["room:joined"'));
    expect(JSON.parse(joined.slice(2))).toEqual(["room:joined", created.room]);

    const sent = await c.emit(2, "message:send", { roomId, body: "hello", clientMsgId: "m-1" });
    expect(sent).toMatchObject({ ok: true, message: { roomId, authorId: user.id, body: "hello", clientMsgId: "m-1" } });
    const live = await c.take((f) => f.startsWith('42["message:new"'));
    expect(JSON.parse(live.slice(2))).toEqual(["message:new", sent.message]);

    const history = await c.emit(3, "message:history", { roomId, limit: 50 });
    expect(history).toEqual({
      ok: true,
      messages: [sent.message],
      hasMore: false,
      events: [{ id: expect.any(String), roomId, kind: "created", user: { id: user.id, displayName: "wire_client" }, at: expect.any(String) }],
    });

    const bad = await c.emit(4, "message:send", { roomId });
    expect(bad).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    c.close();
  });

  it("refuses the namespace connection without a valid token", async () => {
    const c = await RawClient.open(server.url);
    await c.take((f) => f.startsWith("0{"));
    c.send(`40${JSON.stringify({ token: "nope" })}`);
    const refused = await c.take((f) => f.startsWith("40") || f.startsWith("44"));
    expect(JSON.parse(refused.slice(2))).toMatchObject({ message: "unauthorized" });
    c.close();
  });
});
