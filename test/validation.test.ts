import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Room } from "../shared/protocol";
import { call, closeAll, collect, connect, register, request, settle } from "./support/clients";
import { startTestServer, type TestServer } from "./support/server";

// Validation happens before any database work, so one backend is enough here.
describe("bad input from clients", () => {
  let server: TestServer;
  let socket: Socket;
  let room: Room;
  beforeAll(async () => {
    server = await startTestServer("embedded", { SWITCHBOARD_RATE_LIMIT: "50" });
    const { token } = await register(server.url);
    socket = (await connect(server.url, token)) as unknown as Socket;
    room = (await call<{ room: Room }>(socket as any, "room:create", { name: "validation" })).room;
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  /** The room's whole history, every page. */
  const history = async () => {
    const all: { id: string; body: string }[] = [];
    for (let before: string | undefined; ; ) {
      const page = await call<{ messages: { id: string; body: string }[]; hasMore: boolean }>(
        socket as any,
        "message:history",
        { roomId: room.id, limit: 100, ...(before ? { before } : {}) },
      );
      all.unshift(...page.messages);
      if (!page.hasMore) return all;
      before = page.messages[0]!.id;
    }
  };

  it.each([
    ["a non-object payload", "message:send", "hello"],
    ["a number payload", "room:join", 42],
    ["null", "room:create", null],
    ["an array", "message:send", [{ roomId: "x", body: "y" }]],
    ["a missing field", "message:send", { roomId: "x" }],
    ["a wrong type", "message:send", { roomId: "x", body: 42 }],
    ["an empty body", "message:send", { roomId: "x", body: "   " }],
    ["an unknown field", "room:create", { name: "x", admin: true }],
    ["a bad visibility", "room:create", { name: "x", visibility: "secret" }],
    ["a limit out of range", "message:history", { roomId: "x", limit: 1000 }],
    ["a non-numeric before", "message:history", { roomId: "x", before: "abc" }],
    ["a non-boolean typing flag", "typing", { roomId: "x", typing: "yes" }],
    ["no payload", "room:join", undefined],
  ])("answers %s with invalid_payload and changes nothing", async (_, event, payload) => {
    const before = await history();
    const res = await request(socket as any, event, payload);
    expect(res).toEqual({ ok: false, error: { code: "invalid_payload", message: expect.any(String) } });
    expect(await history()).toEqual(before);
  });

  /** A cursor as the server encodes them, holding what a client chose. */
  const cursor = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString("base64url");

  // Each of these passed the schema and failed in the database as `internal` (found by test/fuzz.test.ts).
  it.each([
    ["a message id past PostgreSQL's bigint", "message:history", (r: Room) => ({ roomId: r.id, before: "9223372036854775808" })],
    ["a read marker past PostgreSQL's bigint", "room:read", (r: Room) => ({ roomId: r.id, messageId: "9999999999999999999" })],
    ["a cursor time PostgreSQL cannot hold", "room:list", () => ({ after: cursor(["-100000-01-01T00:00:00.000Z", "x"]) })],
    ["a cursor id with U+0000", "room:list", () => ({ after: cursor(["2020-01-01T00:00:00.000Z", "a\u0000"]) })],
    ["a cursor in the year 0000, which PostgreSQL does not have", "room:list", () => ({ after: cursor(["0000-01-01T00:00:00.000Z", "x"]) })],
    ["a member cursor time PostgreSQL cannot hold", "room:members", (r: Room) => ({ roomId: r.id, after: cursor(["+275760-09-13T00:00:00.000Z", "x"]) })],
    ["a member cursor id with U+0000", "room:members", (r: Room) => ({ roomId: r.id, after: cursor(["2020-01-01T00:00:00.000Z", "\u0000"]) })],
  ])("answers %s with invalid_payload", async (_, event, payload) => {
    const res = await request(socket as any, event, payload(room));
    expect(res).toEqual({ ok: false, error: { code: "invalid_payload", message: expect.any(String) } });
  });

  it("still takes the largest message id PostgreSQL holds", async () => {
    const res = await request(socket as any, "message:history", { roomId: room.id, before: "9223372036854775807" });
    expect(res).toMatchObject({ ok: true });
  });

  it("refuses bodies over 4,000 characters with too_large, and accepts exactly 4,000", async () => {
    const tooLong = await request(socket as any, "message:send", { roomId: room.id, body: "x".repeat(4001) });
    expect(tooLong).toMatchObject({ ok: false, error: { code: "too_large" } });
    const exact = await request(socket as any, "message:send", { roomId: room.id, body: "x".repeat(4000) });
    expect(exact).toMatchObject({ ok: true });
  });

  it("answers unknown events with unknown_event (ack or protocol:error)", async () => {
    const res = await request(socket as any, "room:explode", {});
    expect(res).toEqual({ ok: false, error: { code: "unknown_event", message: expect.any(String) } });
    const errors = collect(socket as any, "protocol:error");
    socket.emit("admin:drop-tables");
    await settle(socket as any);
    expect(errors).toEqual([{ event: "admin:drop-tables", error: expect.objectContaining({ code: "unknown_event" }) }]);
  });

  it("drops an event that needs an ack but has none, saying so in protocol:error", async () => {
    const before = await history();
    const errors = collect(socket as any, "protocol:error");
    socket.emit("message:send", { roomId: room.id, body: "no ack" });
    await settle(socket as any);
    expect(errors).toEqual([{ event: "message:send", error: expect.objectContaining({ code: "missing_ack" }) }]);
    expect(await history()).toEqual(before);
  });

  it("rate-limits a flooding connection, storing only what it accepted, and serves it again later", async () => {
    const { token } = await register(server.url);
    const flooder = await connect(server.url, token);
    await call(flooder, "room:join", { roomId: room.id });
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => request(flooder, "message:send", { roomId: room.id, body: `flood ${i}` })),
    );
    const accepted = results.filter((r) => r.ok);
    const limited = results.filter((r) => !r.ok && r.error.code === "rate_limited");
    expect(limited.length).toBeGreaterThan(0);
    expect(accepted.length + limited.length).toBe(150);
    const stored = (await history()).filter((m) => m.body.startsWith("flood "));
    expect(stored).toHaveLength(accepted.length);
    // The bucket refills: the same connection is served again.
    await vi.waitFor(async () => {
      expect(await request(flooder, "message:send", { roomId: room.id, body: "calm again" })).toMatchObject({ ok: true });
    }, { timeout: 5000, interval: 100 });
  });

  it("keeps running after all of the above", async () => {
    const res = await call<{ message: { body: string } }>(socket as any, "message:send", { roomId: room.id, body: "still here" });
    expect(res.message.body).toBe("still here");
  });
});
