/**
 * Searching messages and opening one in its place: what a person finds
 * (only what they may read), the filters and paging, hostile queries, and
 * the history around a message, on both databases.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Message, Room, SearchHit } from "../shared/protocol";
import { api, call, closeAll, connect, register, request, type ChatSocket } from "./support/clients";
import { backends, startTestServer, type TestServer } from "./support/server";

type Found = { hits: SearchHit[]; terms: string[]; nextCursor?: string };
const KEY = "test-api-key-0123456789abcdef";

describe.each(await backends())("searching messages (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { SWITCHBOARD_API_KEYS: KEY });
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  /** A word no other test's messages contain, so results are this test's alone. */
  const word = () => `w${Math.random().toString(36).slice(2, 10)}`;

  async function people() {
    const [ada, bob, carol] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob"), await register(server.url)];
    const [a, b, c] = [await connect(server.url, ada.token), await connect(server.url, bob.token), await connect(server.url, carol.token)];
    return { ada, bob, carol, a, b, c };
  }
  const send = async (s: ChatSocket, roomId: string, body: string) => (await call<{ message: Message }>(s, "message:send", { roomId, body })).message;
  const search = (s: ChatSocket, payload: object) => call<Found>(s, "message:search", payload);
  const bodies = (found: Found) => found.hits.map((h) => h.message.body);

  it("finds, newest first, what the asker may read: their rooms, their DMs and public rooms — never others' private rooms or DMs", async () => {
    const { bob, carol, a, b, c } = await people();
    const key = word();
    const { room: open } = await call<{ room: Room }>(b, "room:create", { name: "open" });
    const { room: secret } = await call<{ room: Room }>(b, "room:create", { name: "secret", visibility: "private" });
    const { room: dm } = await call<{ room: Room }>(b, "dm:open", { userId: (await call<{ users: { id: string }[] }>(b, "user:search", { query: "Ada" })).users[0]!.id });
    void dm;
    await send(b, open.id, `deploying ${key} now`);
    await send(b, secret.id, `the ${key} password`);
    const inDm = await send(a, (await call<{ rooms: Room[] }>(a, "room:list", {})).rooms.find((r) => r.kind === "dm")!.id, `${key} deployed, thanks`);
    const gone = await send(b, open.id, `${key} deleted later`);
    await call(b, "message:delete", { roomId: open.id, messageId: gone.id });

    // Word beginnings, any case, every word of the query.
    const byCarol = await search(c, { query: key.toUpperCase() });
    expect(bodies(byCarol)).toEqual([`deploying ${key} now`]);
    expect(byCarol.hits[0]!.room).toEqual({ id: open.id, name: "open", kind: "group" });
    expect(byCarol.hits[0]!.message.author.displayName).toBe("Bob");
    expect(bodies(await search(b, { query: key }))).toEqual([`${key} deployed, thanks`, `the ${key} password`, `deploying ${key} now`]);
    expect(bodies(await search(a, { query: `DEPLO ${key}` }))).toEqual([`${key} deployed, thanks`, `deploying ${key} now`]);
    expect((await search(a, { query: `deplo ${key}` })).terms).toEqual(["deplo", key]);
    expect(bodies(await search(a, { query: `${key} nothingmatchesthis` }))).toEqual([]);

    // A backend searches as a user: what that user would find, no more.
    const asUser = async (userId: string, query: string) =>
      api(server.url, "GET", `/api/v1/users/${encodeURIComponent(userId)}/messages/search?query=${encodeURIComponent(query)}&limit=5`, undefined, {
        authorization: `Bearer ${KEY}`,
      });
    const asCarol = await asUser(carol.user.id, key);
    expect(asCarol.body.hits.map((h: SearchHit) => h.message.body)).toEqual([`deploying ${key} now`]);
    const asBob = await asUser(bob.user.id, key);
    expect(asBob.status).toBe(200);
    const { ok: _ok, ...bobFinds } = (await search(b, { query: key, limit: 5 })) as Found & { ok: true };
    expect(asBob.body).toEqual(bobFinds);
    expect((await asUser("no-such-user", key)).status).toBe(404);
    expect((await asUser(bob.user.id, "")).status).toBe(400);
  });

  it("filters by room, author and time, and pages with nextCursor", async () => {
    const { ada, a, b } = await people();
    const key = word();
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "filters", memberIds: [] });
    const { room: other } = await call<{ room: Room }>(a, "room:create", { name: "elsewhere" });
    await call(b, "room:join", { roomId: room.id });
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(i % 2 ? b : a, room.id, `${key} number ${i}`));
    await send(a, other.id, `${key} in another room`);

    expect(bodies(await search(a, { query: key, roomId: room.id })).length).toBe(5);
    expect(bodies(await search(a, { query: key, authorId: ada.user.id, roomId: room.id }))).toEqual([`${key} number 4`, `${key} number 2`, `${key} number 0`]);
    const since = sent[3]!.createdAt;
    expect(bodies(await search(a, { query: key, roomId: room.id, since }))).toEqual([`${key} number 4`, `${key} number 3`]);
    expect(bodies(await search(a, { query: key, roomId: room.id, until: since }))).toEqual([`${key} number 2`, `${key} number 1`, `${key} number 0`]);
    expect(bodies(await search(a, { query: key, until: "2000-01-01" }))).toEqual([]);

    const first = await search(a, { query: key, limit: 4 });
    expect(bodies(first)).toEqual([`${key} in another room`, `${key} number 4`, `${key} number 3`, `${key} number 2`]);
    const second = await search(a, { query: key, limit: 4, before: first.nextCursor });
    expect(bodies(second)).toEqual([`${key} number 1`, `${key} number 0`]);
    expect(second.nextCursor).toBeUndefined();
  });

  it("treats every query as words: operators, quotes and markup only separate them; refuses bad filters", async () => {
    const { a } = await people();
    const key = word();
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "hostile" });
    await send(a, room.id, `${key} it's fine`);
    for (const query of [`'${key}'`, `${key}:*`, `!${key}`, `${key} & `, `(${key}`, `${key}'; DROP TABLE "Message"; --`, `<b>${key}</b>`, `"${key}" | x`]) {
      const found = await search(a, { query });
      expect(found.hits.map((h) => h.message.body), query).toEqual(query.includes("DROP") || query.includes("| x") || query.includes("<b>") ? [] : [`${key} it's fine`]);
    }
    const cases: Array<[object, string]> = [
      [{ query: "" }, "invalid_payload"],
      [{ query: "   " }, "invalid_payload"],
      [{ query: "&|!():*'" }, "invalid_payload"],
      [{ query: "x".repeat(201) }, "too_large"],
      [{ query: "a\u0000" }, "invalid_payload"],
      [{ query: key, since: "yesterday" }, "invalid_payload"],
      [{ query: key, since: "2026-02-31" }, "invalid_payload"],
      [{ query: key, limit: 51 }, "invalid_payload"],
      [{ query: key, before: "0" }, "invalid_payload"],
      [{ query: key, extra: true }, "invalid_payload"],
    ];
    for (const [payload, code] of cases) {
      expect(await request(a, "message:search", payload), JSON.stringify(payload).slice(0, 60)).toMatchObject({ ok: false, error: { code } });
    }
  });

  it("opens history around a message, reads on with message:newer, and keeps private rooms private", async () => {
    const { a, b, c } = await people();
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "around", visibility: "private", memberIds: [] });
    const sent: Message[] = [];
    for (let i = 0; i < 9; i++) sent.push(await send(a, room.id, `m${i}`));
    const around = await call<{ messages: Message[]; hasMore: boolean; hasNewer: boolean }>(a, "message:around", {
      roomId: room.id,
      messageId: sent[4]!.id,
      limit: 4,
    });
    expect(around.messages.map((m) => m.body)).toEqual(["m2", "m3", "m4", "m5"]);
    expect([around.hasMore, around.hasNewer]).toEqual([true, true]);
    const edge = await call<{ messages: Message[]; hasMore: boolean; hasNewer: boolean }>(a, "message:around", { roomId: room.id, messageId: sent[8]!.id });
    expect(edge.messages.map((m) => m.body)).toEqual(sent.map((m) => m.body));
    expect([edge.hasMore, edge.hasNewer]).toEqual([false, false]);

    const newer = await call<{ messages: Message[]; hasNewer: boolean }>(a, "message:newer", { roomId: room.id, after: sent[5]!.id, limit: 2 });
    expect([newer.messages.map((m) => m.body), newer.hasNewer]).toEqual([["m6", "m7"], true]);
    const last = await call<{ messages: Message[]; hasNewer: boolean }>(a, "message:newer", { roomId: room.id, after: sent[7]!.id });
    expect([last.messages.map((m) => m.body), last.hasNewer]).toEqual([["m8"], false]);

    const { room: other } = await call<{ room: Room }>(b, "room:create", { name: "other" });
    for (const [socket, event, payload, code] of [
      [c, "message:around", { roomId: room.id, messageId: sent[0]!.id }, "forbidden"],
      [c, "message:newer", { roomId: room.id, after: sent[0]!.id }, "forbidden"],
      [a, "message:around", { roomId: other.id, messageId: sent[0]!.id }, "not_found"],
      [a, "message:around", { roomId: room.id, messageId: "999999999" }, "not_found"],
      [a, "message:around", { roomId: room.id, messageId: sent[0]!.id, limit: 1 }, "invalid_payload"],
    ] as const) {
      expect(await request(socket, event, payload), `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code } });
    }
  });
});
