import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Member, Message, PublicRoom, Room, RoomBanEntry, RoomEvent, RoomSummary, User } from "../shared/protocol";
import { call, closeAll, collect, connect, next, register, request, settle } from "./support/clients";
import { download, upload } from "./support/files";
import { backends, startTestServer, type TestServer } from "./support/server";

describe.each(await backends())("rooms, DMs and presence (%s)", (backend) => {
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

  it("pages room:list and room:members", async () => {
    const me = await register(server.url);
    const socket = await connect(server.url, me.token);
    const others: User[] = [];
    for (let i = 0; i < 4; i++) others.push((await register(server.url)).user);
    for (let i = 0; i < 5; i++) await call(socket, "room:create", { name: `paged ${i}`, memberIds: others.map((u) => u.id) });

    const rooms: RoomSummary[] = [];
    for (let after: string | undefined, pages = 0; ; pages++) {
      const page = await call<{ rooms: RoomSummary[]; nextCursor?: string }>(socket, "room:list", { limit: 2, ...(after ? { after } : {}) });
      rooms.push(...page.rooms);
      expect(page.rooms.length).toBeLessThanOrEqual(2);
      if (!page.nextCursor) {
        expect(pages).toBe(2);
        break;
      }
      after = page.nextCursor;
    }
    expect(rooms).toEqual((await call<{ rooms: RoomSummary[] }>(socket, "room:list", {})).rooms);
    expect(rooms.map((r) => r.name)).toEqual(["paged 0", "paged 1", "paged 2", "paged 3", "paged 4"]);

    const members: Member[] = [];
    for (let after: string | undefined; ; ) {
      const page = await call<{ members: Member[]; nextCursor?: string }>(socket, "room:members", { roomId: rooms[0]!.id, limit: 2, ...(after ? { after } : {}) });
      members.push(...page.members);
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    expect(members.map((m) => m.user.id).sort()).toEqual([me.user.id, ...others.map((u) => u.id)].sort());
    expect(await request(socket, "room:list", { after: "not-a-cursor" })).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
  });

  it("creates a room, lists it, and lets others join and leave a public room", async () => {
    const alice = await user();
    const bob = await user();
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "  general  " });
    expect(room).toEqual({
      id: expect.any(String),
      name: "general",
      kind: "group",
      visibility: "public",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    const joined = await call<{ room: Room }>(bob.socket, "room:join", { roomId: room.id });
    expect(joined.room).toEqual(room);
    const again = await call<{ room: Room }>(bob.socket, "room:join", { roomId: room.id });
    expect(again.room.id).toBe(room.id);

    const { rooms } = await call<{ rooms: RoomSummary[] }>(bob.socket, "room:list", {});
    expect(rooms.map((r) => r.id)).toEqual([room.id]);
    const { members } = await call<{ members: Member[] }>(alice.socket, "room:members", { roomId: room.id });
    expect(members.map((m) => [m.user.id, m.role, m.online])).toEqual([
      [alice.user.id, "owner", true],
      [bob.user.id, "member", true],
    ]);

    // Bob leaves: he no longer receives the room's messages.
    const bobMessages = collect(bob.socket, "message:new");
    await call(bob.socket, "room:leave", { roomId: room.id });
    await call(alice.socket, "message:send", { roomId: room.id, body: "after bob left" });
    await settle(bob.socket);
    expect(bobMessages).toEqual([]);
    expect((await call<{ rooms: RoomSummary[] }>(bob.socket, "room:list")).rooms).toEqual([]);
    const leaveAgain = await request(bob.socket, "room:leave", { roomId: room.id });
    expect(leaveAgain).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("tells a room's members who joined, was invited, left or was removed", async () => {
    const [ada, bob, cy, dee] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob"), await register(server.url, undefined, "Cy"), await register(server.url)];
    const a = await connect(server.url, ada.token);
    const [b, c] = [await connect(server.url, bob.token), await connect(server.url, cy.token)];
    await connect(server.url, dee.token);
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "comings and goings" });
    const joined = collect(a, "member:joined");
    const left = collect(a, "member:left");
    await call(b, "room:join", { roomId: room.id });
    await call(b, "room:invite", { roomId: room.id, userIds: [cy.user.id, dee.user.id] });
    await settle(a);
    expect(joined).toEqual(
      [bob, cy, dee].map((u) => ({ roomId: room.id, member: { user: u.user, role: "member", online: true, lastReadMessageId: null } })),
    );
    const bobHears = collect(b, "member:left");
    await call(c, "room:leave", { roomId: room.id });
    await server.core.gateway.removeMember({ roomId: room.id, userId: dee.user.id });
    await settle(a);
    await settle(b);
    expect(left).toEqual([{ roomId: room.id, userId: cy.user.id }, { roomId: room.id, userId: dee.user.id }]);
    expect(bobHears).toEqual(left);
    // What the events said is what the list says.
    const { members } = await call<{ members: Member[] }>(a, "room:members", { roomId: room.id });
    expect(members.map((m) => m.user.id)).toEqual([ada.user.id, bob.user.id]);
  });

  it("keeps a line for each change of a group room's members: in history, paged with the messages, and live", async () => {
    const ada = await user();
    const bob = await user();
    const cy = await user();
    const dee = await user();
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "lines", memberIds: [bob.user.id] });
    const live = collect(ada.socket, "room:event");
    const line = (kind: RoomEvent["kind"], who: { user: User }, by?: { user: User }) => ({
      id: expect.any(String),
      roomId: room.id,
      kind,
      user: { id: who.user.id, displayName: who.user.displayName },
      ...(by ? { by: { id: by.user.id, displayName: by.user.displayName } } : {}),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const sent: string[] = [];
    const say = async (who: typeof ada, body: string) => {
      sent.push((await call<{ message: Message }>(who.socket, "message:send", { roomId: room.id, body })).message.id);
    };

    await say(ada, "one");
    await call(cy.socket, "room:join", { roomId: room.id });
    await call(cy.socket, "room:join", { roomId: room.id }); // again: no second line
    await say(cy, "two");
    await call(bob.socket, "room:invite", { roomId: room.id, userIds: [dee.user.id, cy.user.id] });
    await say(bob, "three");
    await call(cy.socket, "room:leave", { roomId: room.id });
    await say(ada, "four");
    await server.core.gateway.removeMember({ roomId: room.id, userId: dee.user.id });
    await settle(ada.socket);

    const all = [
      line("created", ada),
      line("joined", bob, ada),
      line("joined", cy),
      line("joined", dee, bob),
      line("left", cy),
      line("removed", dee),
    ];
    // Live: each change after the room was made, to the members (the new member's tabs too).
    expect(live).toEqual(all.slice(2));
    const whole = await call<{ messages: Message[]; events: RoomEvent[] }>(ada.socket, "message:history", { roomId: room.id });
    expect(whole.events).toEqual(all);
    expect(whole.events.slice(2)).toEqual(live);

    // Paging back a message at a time shows every line once, in the page of the message before it.
    const pages: { ids: string[]; lines: string[] }[] = [];
    for (let before: string | undefined; ; ) {
      const page = await call<{ messages: Message[]; hasMore: boolean; events: RoomEvent[] }>(bob.socket, "message:history", {
        roomId: room.id, limit: 1, ...(before ? { before } : {}),
      });
      pages.unshift({ ids: page.messages.map((m) => m.id), lines: page.events.map((e) => `${e.kind} ${e.user.displayName}`) });
      if (!page.hasMore) break;
      before = page.messages[0]!.id;
    }
    const [a, b, c, d] = [ada, bob, cy, dee].map((p) => p.user.displayName);
    expect(pages).toEqual([
      { ids: [sent[0]], lines: [`created ${a}`, `joined ${b}`, `joined ${c}`] },
      { ids: [sent[1]], lines: [`joined ${d}`] },
      { ids: [sent[2]], lines: [`left ${c}`] },
      { ids: [sent[3]], lines: [`removed ${d}`] },
    ]);

    // Opened at a message and read forward: the same lines, once each.
    const around = await call<{ messages: Message[]; hasNewer: boolean; events: RoomEvent[] }>(ada.socket, "message:around", {
      roomId: room.id, messageId: sent[1], limit: 2,
    });
    const newer = await call<{ messages: Message[]; hasNewer: boolean; events: RoomEvent[] }>(ada.socket, "message:newer", {
      roomId: room.id, after: around.messages.at(-1)!.id, limit: 10,
    });
    expect([...around.messages, ...newer.messages].map((m) => m.id)).toEqual(sent);
    expect([...around.events, ...newer.events]).toEqual(whole.events);
    // A backend reads the same.
    expect((await server.core.gateway.history({ roomId: room.id, limit: 50 })).events).toEqual(whole.events);

    // A DM has no lines.
    const { room: dm } = await call<{ room: Room }>(ada.socket, "dm:open", { userId: bob.user.id });
    expect((await call<{ events: RoomEvent[] }>(ada.socket, "message:history", { roomId: dm.id })).events).toEqual([]);
  });

  it("lets the owner and admins rename a group room and set its topic, and the owner name admins; every member is told, the rest refused", async () => {
    const ada = await user();
    const bob = await user();
    const cy = await user();
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "plans", memberIds: [bob.user.id, cy.user.id] });
    const cyHears = collect(cy.socket, "room:updated");
    const roles = collect(cy.socket, "member:role");

    // A member may not; the owner may (cleaned as names are), and everyone is told.
    expect(await request(bob.socket, "room:update", { roomId: room.id, name: "mine" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const renamed = await call<{ room: Room }>(ada.socket, "room:update", { roomId: room.id, name: "  Launch   plans ", topic: "ship it\tby Friday" });
    expect(renamed.room).toEqual({ ...room, name: "Launch plans", topic: "ship it by Friday" });
    // The owner names Bob admin: he may change the room, and delete others' messages; Cy may not name admins.
    expect(await request(cy.socket, "room:role", { roomId: room.id, userId: cy.user.id, role: "admin" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    await call(ada.socket, "room:role", { roomId: room.id, userId: bob.user.id, role: "admin" });
    await call(ada.socket, "room:role", { roomId: room.id, userId: bob.user.id, role: "admin" }); // again: nothing to tell
    const cleared = await call<{ room: Room }>(bob.socket, "room:update", { roomId: room.id, topic: "" });
    expect(cleared.room.topic).toBeUndefined();
    const { message } = await call<{ message: Message }>(cy.socket, "message:send", { roomId: room.id, body: "off topic" });
    await call(bob.socket, "message:delete", { roomId: room.id, messageId: message.id });
    // Nobody changes the owner's role; an admin made a member again loses the right.
    expect(await request(ada.socket, "room:role", { roomId: room.id, userId: ada.user.id, role: "member" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    await call(ada.socket, "room:role", { roomId: room.id, userId: bob.user.id, role: "member" });
    expect(await request(bob.socket, "room:update", { roomId: room.id, name: "again" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    await settle(cy.socket);
    expect(cyHears.map((r) => [r.name, r.topic])).toEqual([["Launch plans", "ship it by Friday"], ["Launch plans", undefined]]);
    expect(roles).toEqual([
      { roomId: room.id, userId: bob.user.id, role: "admin" },
      { roomId: room.id, userId: bob.user.id, role: "member" },
    ]);
    const { members } = await call<{ members: Member[] }>(cy.socket, "room:members", { roomId: room.id });
    expect(Object.fromEntries(members.map((m) => [m.user.id, m.role]))).toEqual({ [ada.user.id]: "owner", [bob.user.id]: "member", [cy.user.id]: "member" });
    const { rooms } = await call<{ rooms: RoomSummary[] }>(cy.socket, "room:list", {});
    expect(rooms.find((r) => r.id === room.id)).toMatchObject({ name: "Launch plans" });

    // Bad input changes nothing; a DM has no name, topic or admins; a backend may do both.
    expect(await request(ada.socket, "room:update", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    expect(await request(ada.socket, "room:update", { roomId: room.id, name: " " })).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    expect(await request(ada.socket, "room:update", { roomId: room.id, topic: "x".repeat(251) })).toMatchObject({ ok: false, error: { code: "too_large" } });
    const { room: dm } = await call<{ room: Room }>(ada.socket, "dm:open", { userId: bob.user.id });
    expect(await request(ada.socket, "room:update", { roomId: dm.id, name: "us" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    await expect(server.core.gateway.updateRoom({ roomId: dm.id, topic: "x" })).rejects.toMatchObject({ code: "forbidden" });
    expect(await server.core.gateway.updateRoom({ roomId: room.id, topic: "from the backend" })).toEqual({ room: expect.objectContaining({ topic: "from the backend" }) });
    await server.core.gateway.setMemberRole({ roomId: room.id, userId: cy.user.id, role: "admin" });
    await expect(server.core.gateway.setMemberRole({ roomId: room.id, userId: "nobody", role: "admin" })).rejects.toMatchObject({ code: "not_found" });
  });

  it("lets the owner remove anyone and an admin remove members, said in the timeline; the rest refused", async () => {
    const [ada, bob, cy, dee] = [await user(), await user(), await user(), await user()];
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "crew", memberIds: [bob.user.id, cy.user.id, dee.user.id] });
    await call(ada.socket, "room:role", { roomId: room.id, userId: bob.user.id, role: "admin" });
    const removed = next(cy.socket, "room:left");
    const line = next(ada.socket, "room:event", (e) => e.kind === "removed");
    await call(bob.socket, "room:remove", { roomId: room.id, userId: cy.user.id });
    expect(await removed).toEqual({ roomId: room.id });
    expect(await line).toMatchObject({ kind: "removed", user: { id: cy.user.id }, by: { id: bob.user.id } });
    const refused = async (who: typeof ada, userId: string, code: string) =>
      expect(await request(who.socket, "room:remove", { roomId: room.id, userId })).toMatchObject({ ok: false, error: { code } });
    await refused(bob, ada.user.id, "forbidden"); // an admin cannot remove the owner
    await refused(dee, bob.user.id, "forbidden"); // a member removes nobody
    await refused(bob, bob.user.id, "forbidden"); // oneself: leave instead
    await refused(bob, cy.user.id, "not_found"); // gone already
    await call(ada.socket, "room:remove", { roomId: room.id, userId: bob.user.id }); // the owner removes an admin
    const { members } = await call<{ members: Member[] }>(ada.socket, "room:members", { roomId: room.id });
    expect(members.map((m) => m.user.id).sort()).toEqual([ada.user.id, dee.user.id].sort());
    const { room: dm } = await call<{ room: Room }>(ada.socket, "dm:open", { userId: dee.user.id });
    expect(await request(ada.socket, "room:remove", { roomId: dm.id, userId: dee.user.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("bans: removed and kept out (no join, no invitation) until unbanned; a ban may come first; only moderators see or lift them", async () => {
    const [ada, bob, dee, eve] = [await user(), await user(), await user(), await user()];
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "banned", memberIds: [bob.user.id, dee.user.id] });
    const gone = next(dee.socket, "room:left");
    await call(ada.socket, "room:remove", { roomId: room.id, userId: dee.user.id, ban: true });
    expect(await gone).toEqual({ roomId: room.id });
    await call(ada.socket, "room:remove", { roomId: room.id, userId: eve.user.id, ban: true }); // not a member yet: banned ahead
    for (const who of [dee, eve]) {
      expect(await request(who.socket, "room:join", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "forbidden", message: "you are banned from this room" } });
    }
    expect(await request(bob.socket, "room:invite", { roomId: room.id, userIds: [dee.user.id] })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const { bans } = await call<{ bans: RoomBanEntry[] }>(ada.socket, "room:bans", { roomId: room.id });
    expect(bans.map((b) => [b.user.id, b.by?.id])).toEqual(expect.arrayContaining([[dee.user.id, ada.user.id], [eve.user.id, ada.user.id]]));
    expect(bans).toHaveLength(2);
    expect(await request(bob.socket, "room:bans", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await request(bob.socket, "room:unban", { roomId: room.id, userId: dee.user.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await request(ada.socket, "room:remove", { roomId: room.id, userId: "nobody", ban: true })).toMatchObject({ ok: false, error: { code: "not_found" } });

    await call(ada.socket, "room:unban", { roomId: room.id, userId: dee.user.id });
    expect(await request(ada.socket, "room:unban", { roomId: room.id, userId: dee.user.id })).toMatchObject({ ok: false, error: { code: "not_found" } });
    await call(dee.socket, "room:join", { roomId: room.id });
    expect((await call<{ bans: RoomBanEntry[] }>(ada.socket, "room:bans", { roomId: room.id })).bans.map((b) => b.user.id)).toEqual([eve.user.id]);
  });

  it("mutes: a muted member reads but cannot send, reply, react, edit, pin or type until unmuted; every member told; leaving does not lift it", async () => {
    const [ada, bob, cy, dee] = [await user(), await user("Bob"), await user(), await user()];
    const cyTab2 = await connect(server.url, cy.token);
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "quiet please", memberIds: [bob.user.id, cy.user.id, dee.user.id] });
    await call(ada.socket, "room:role", { roomId: room.id, userId: bob.user.id, role: "admin" });
    const earlier = (await call<{ message: Message }>(cy.socket, "message:send", { roomId: room.id, body: "before", clientMsgId: "cy-before" })).message;

    const told = [next(ada.socket, "member:muted"), next(dee.socket, "member:muted"), next(cy.socket, "member:muted"), next(cyTab2, "member:muted")];
    await call(bob.socket, "room:mute", { roomId: room.id, userId: cy.user.id, muted: true });
    for (const event of await Promise.all(told)) expect(event).toEqual({ roomId: room.id, userId: cy.user.id, muted: true, by: { id: bob.user.id, displayName: "Bob" } });
    const again = collect(ada.socket, "member:muted");
    await call(ada.socket, "room:mute", { roomId: room.id, userId: cy.user.id, muted: true }); // again: nothing to tell

    const muted = { ok: false, error: { code: "forbidden", message: "you are muted in this room" } };
    const heard = collect(dee.socket, "message:new");
    expect(await request(cy.socket, "message:send", { roomId: room.id, body: "let me talk" })).toEqual(muted);
    expect(await request(cy.socket, "message:send", { roomId: room.id, body: "let me talk", clientMsgId: "cy-after" })).toEqual(muted);
    expect(await request(cy.socket, "message:send", { roomId: room.id, body: "a reply", threadId: earlier.id })).toEqual(muted);
    expect(await request(cy.socket, "message:edit", { roomId: room.id, messageId: earlier.id, body: "changed" })).toEqual(muted);
    expect(await request(cy.socket, "reaction:add", { roomId: room.id, messageId: earlier.id, emoji: "👍" })).toEqual(muted);
    expect(await request(cy.socket, "message:pin", { roomId: room.id, messageId: earlier.id })).toEqual(muted);
    expect(await request(cy.socket, "typing", { roomId: room.id, typing: true })).toEqual(muted);
    // A resend of what was stored before the mute is answered as any resend.
    expect((await call<{ message: Message }>(cy.socket, "message:send", { roomId: room.id, body: "before", clientMsgId: "cy-before" })).message.id).toBe(earlier.id);
    // Cy still reads, live and in history; nothing of the refused was stored.
    const live = next(cy.socket, "message:new");
    await call(dee.socket, "message:send", { roomId: room.id, body: "you can still read this" });
    expect((await live).body).toBe("you can still read this");
    const { messages } = await call<{ messages: Message[] }>(cy.socket, "message:history", { roomId: room.id });
    expect(messages.map((m) => m.body)).toEqual(["before", "you can still read this"]);
    expect(messages[0]).not.toHaveProperty("reactions");
    await settle(dee.socket);
    expect(heard.map((m) => m.body)).toEqual(["before", "you can still read this"]); // the resend is delivered again, as resends are
    await settle(ada.socket);
    expect(again).toEqual([]);

    // The members list and Cy's own room list say so; leaving and joining again does not lift it.
    const mutedOf = async () => Object.fromEntries((await call<{ members: Member[] }>(dee.socket, "room:members", { roomId: room.id })).members.map((m) => [m.user.id, m.muted ?? false]));
    expect(await mutedOf()).toEqual({ [ada.user.id]: false, [bob.user.id]: false, [cy.user.id]: true, [dee.user.id]: false });
    expect((await call<{ rooms: RoomSummary[] }>(cy.socket, "room:list", {})).rooms.find((r) => r.id === room.id)?.muted).toBe(true);
    expect((await call<{ rooms: RoomSummary[] }>(dee.socket, "room:list", {})).rooms.find((r) => r.id === room.id)).not.toHaveProperty("muted");
    await call(cy.socket, "room:leave", { roomId: room.id });
    await call(cy.socket, "room:join", { roomId: room.id });
    expect(await request(cy.socket, "message:send", { roomId: room.id, body: "back" })).toEqual(muted);

    // Who may not: a member, an admin over the owner or another admin, anyone over themselves; nobody in a DM; only members are muted.
    const refused = async (who: typeof ada, userId: string, code: string, roomId = room.id) =>
      expect(await request(who.socket, "room:mute", { roomId, userId, muted: true })).toMatchObject({ ok: false, error: { code } });
    await refused(dee, ada.user.id, "forbidden");
    await refused(bob, ada.user.id, "forbidden");
    await refused(ada, ada.user.id, "forbidden");
    await call(ada.socket, "room:role", { roomId: room.id, userId: dee.user.id, role: "admin" });
    await refused(bob, dee.user.id, "forbidden");
    await refused(ada, "nobody", "not_found");
    const { room: dm } = await call<{ room: Room }>(ada.socket, "dm:open", { userId: cy.user.id });
    await refused(ada, cy.user.id, "forbidden", dm.id);
    expect(await request(ada.socket, "room:mute", { roomId: room.id, userId: cy.user.id })).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    expect(await mutedOf()).toEqual({ [ada.user.id]: false, [bob.user.id]: false, [cy.user.id]: true, [dee.user.id]: false });

    // Unmuted, Cy writes again.
    const unmuted = next(cy.socket, "member:muted");
    await call(bob.socket, "room:mute", { roomId: room.id, userId: cy.user.id, muted: false });
    expect(await unmuted).toEqual({ roomId: room.id, userId: cy.user.id, muted: false, by: { id: bob.user.id, displayName: "Bob" } });
    await call(cy.socket, "message:send", { roomId: room.id, body: "thanks" });
    await call(cy.socket, "reaction:add", { roomId: room.id, messageId: earlier.id, emoji: "👍" });

    // A backend mutes (nobody named as having done it) and unmutes; never the owner.
    const byBackend = next(cy.socket, "member:muted");
    await server.core.gateway.setMemberMuted({ roomId: room.id, userId: cy.user.id, muted: true });
    expect(await byBackend).toEqual({ roomId: room.id, userId: cy.user.id, muted: true });
    expect(await request(cy.socket, "message:send", { roomId: room.id, body: "hm" })).toEqual(muted);
    await server.core.gateway.setMemberMuted({ roomId: room.id, userId: cy.user.id, muted: false });
    await expect(server.core.gateway.setMemberMuted({ roomId: room.id, userId: ada.user.id, muted: true })).rejects.toMatchObject({ code: "forbidden" });
    await expect(server.core.gateway.setMemberMuted({ roomId: dm.id, userId: cy.user.id, muted: true })).rejects.toMatchObject({ code: "forbidden" });
    await expect(server.core.gateway.setMemberMuted({ roomId: room.id, userId: "nobody", muted: true })).rejects.toMatchObject({ code: "not_found" });
  });

  it("leaves a timeline line for each rename and topic: live, in history, naming who did it (a backend: the system or its moderator)", async () => {
    const ada = await user("Ada");
    const bob = await user();
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "general", memberIds: [bob.user.id] });
    const lines = collect(bob.socket, "room:event");
    await call(ada.socket, "room:update", { roomId: room.id, name: "ops" });
    await call(ada.socket, "room:update", { roomId: room.id, name: "ops", topic: "on call: Ada" }); // the name again: only the topic's line
    await call(ada.socket, "room:update", { roomId: room.id, name: "ops", topic: "on call: Ada" }); // nothing changed: no line
    await call(ada.socket, "room:update", { roomId: room.id, topic: "" });
    await server.core.gateway.updateRoom({ roomId: room.id, name: "ops-2" });
    await server.core.gateway.updateRoom({ roomId: room.id, name: "ops-3", topic: "both", by: ada.user.id });
    await expect(server.core.gateway.updateRoom({ roomId: room.id, name: "mine", by: bob.user.id })).rejects.toMatchObject({ code: "forbidden" });
    await expect(server.core.gateway.updateRoom({ roomId: room.id, name: "mine", by: "nobody" })).rejects.toMatchObject({ code: "not_found" });
    await settle(bob.socket);
    const said = (events: RoomEvent[]) => events.filter((e) => e.kind === "renamed" || e.kind === "topic").map((e) => [e.kind, e.user.displayName, e.value]);
    const expected = [
      ["renamed", "Ada", "ops"],
      ["topic", "Ada", "on call: Ada"],
      ["topic", "Ada", ""],
      ["renamed", "System", "ops-2"],
      ["renamed", "Ada", "ops-3"],
      ["topic", "Ada", "both"],
    ];
    expect(said(lines)).toEqual(expected);
    const { events } = await call<{ events: RoomEvent[] }>(bob.socket, "message:history", { roomId: room.id });
    expect(said(events)).toEqual(expected);
    expect(events.find((e) => e.kind === "renamed")).toEqual({
      id: expect.any(String), roomId: room.id, kind: "renamed", user: { id: ada.user.id, displayName: "Ada" }, value: "ops", at: expect.any(String),
    });
    // Membership lines carry no value.
    expect(events.find((e) => e.kind === "created")).not.toHaveProperty("value");
  });

  it("lets backends ban, unban, list bans, remove and mute — as the backend, or as a moderator whose rights are checked", async () => {
    const [ada, bob, cy, dee] = [await user("Ada"), await user("Bob"), await user(), await user()];
    const { room } = await call<{ room: Room }>(ada.socket, "room:create", { name: "moderated", memberIds: [bob.user.id, cy.user.id, dee.user.id] });
    await call(ada.socket, "room:role", { roomId: room.id, userId: bob.user.id, role: "admin" });
    const gw = server.core.gateway;

    // The backend bans a member (removed; the line names nobody) and someone who never joined.
    const gone = next(cy.socket, "room:left");
    const line = next(ada.socket, "room:event", (e) => e.kind === "removed");
    await gw.banUser({ roomId: room.id, userId: cy.user.id });
    expect(await gone).toEqual({ roomId: room.id });
    expect(await line).not.toHaveProperty("by");
    const eve = await user();
    await gw.banUser({ roomId: room.id, userId: eve.user.id });
    expect(await request(eve.socket, "room:join", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    await gw.banUser({ roomId: room.id, userId: eve.user.id }); // again: still banned, no error
    expect((await gw.listBans({ roomId: room.id })).bans.map((b) => b.user.id).sort()).toEqual([cy.user.id, eve.user.id].sort());
    await expect(gw.banUser({ roomId: room.id, userId: ada.user.id })).rejects.toMatchObject({ code: "forbidden" }); // never the owner
    await expect(gw.banUser({ roomId: room.id, userId: "nobody" })).rejects.toMatchObject({ code: "not_found" });
    await expect(gw.banUser({ roomId: "nowhere", userId: eve.user.id })).rejects.toMatchObject({ code: "not_found" });
    await expect(gw.listBans({ roomId: "nowhere" })).rejects.toMatchObject({ code: "not_found" });
    await gw.unbanUser({ roomId: room.id, userId: eve.user.id });
    await expect(gw.unbanUser({ roomId: room.id, userId: eve.user.id })).rejects.toMatchObject({ code: "not_found" });
    await call(eve.socket, "room:join", { roomId: room.id });

    // As a moderator: Bob (an admin) bans and removes members, and the timeline names him; not the owner, and a member may not.
    const byBob = next(ada.socket, "room:event", (e) => e.kind === "removed");
    await gw.banUser({ roomId: room.id, userId: eve.user.id, by: bob.user.id });
    expect(await byBob).toMatchObject({ user: { id: eve.user.id }, by: { id: bob.user.id, displayName: "Bob" } });
    expect((await gw.listBans({ roomId: room.id })).bans.find((b) => b.user.id === eve.user.id)?.by).toEqual({ id: bob.user.id, displayName: "Bob" });
    await expect(gw.removeMember({ roomId: room.id, userId: ada.user.id, by: bob.user.id })).rejects.toMatchObject({ code: "forbidden" });
    await expect(gw.removeMember({ roomId: room.id, userId: bob.user.id, by: dee.user.id })).rejects.toMatchObject({ code: "forbidden" });
    await expect(gw.unbanUser({ roomId: room.id, userId: eve.user.id, by: dee.user.id })).rejects.toMatchObject({ code: "forbidden" });
    await expect(gw.setMemberMuted({ roomId: room.id, userId: bob.user.id, muted: true, by: dee.user.id })).rejects.toMatchObject({ code: "forbidden" });
    const muted = next(dee.socket, "member:muted");
    await gw.setMemberMuted({ roomId: room.id, userId: dee.user.id, muted: true, by: bob.user.id });
    expect(await muted).toEqual({ roomId: room.id, userId: dee.user.id, muted: true, by: { id: bob.user.id, displayName: "Bob" } });
    await gw.removeMember({ roomId: room.id, userId: dee.user.id, by: ada.user.id });
    const { members } = await call<{ members: Member[] }>(ada.socket, "room:members", { roomId: room.id });
    expect(members.map((m) => m.user.id).sort()).toEqual([ada.user.id, bob.user.id].sort());
    const { room: dm } = await call<{ room: Room }>(ada.socket, "dm:open", { userId: bob.user.id });
    await expect(gw.banUser({ roomId: dm.id, userId: bob.user.id })).rejects.toMatchObject({ code: "forbidden" });
  });

  it("hides a DM from one's list (every tab told) until a newer message arrives or it is opened again", async () => {
    const ada = await user();
    const bob = await user();
    const { room: dm } = await call<{ room: Room }>(ada.socket, "dm:open", { userId: bob.user.id });
    await call(bob.socket, "message:send", { roomId: dm.id, body: "hi" });
    const listed = async () => (await call<{ rooms: RoomSummary[] }>(ada.socket, "room:list", {})).rooms.map((r) => r.id);
    const otherTab = await connect(server.url, ada.token);
    const hidden = next(otherTab, "room:hidden");
    await call(ada.socket, "dm:hide", { roomId: dm.id });
    expect(await hidden).toEqual({ roomId: dm.id });
    expect(await listed()).not.toContain(dm.id);
    // Bob still lists it; his next message brings it back for Ada (who still receives it).
    expect((await call<{ rooms: RoomSummary[] }>(bob.socket, "room:list", {})).rooms.map((r) => r.id)).toContain(dm.id);
    const arrives = next(ada.socket, "message:new");
    await call(bob.socket, "message:send", { roomId: dm.id, body: "still there?" });
    expect((await arrives).body).toBe("still there?");
    expect(await listed()).toContain(dm.id);
    // Hidden again, then opened again by Ada: listed, and her tabs are told.
    await call(ada.socket, "dm:hide", { roomId: dm.id });
    expect(await listed()).not.toContain(dm.id);
    const back = next(otherTab, "room:joined");
    expect((await call<{ room: Room }>(ada.socket, "dm:open", { userId: bob.user.id })).room.id).toBe(dm.id);
    expect((await back).id).toBe(dm.id);
    expect(await listed()).toContain(dm.id);
    // Only DMs, only one's own.
    const { room: group } = await call<{ room: Room }>(ada.socket, "room:create", { name: "not a dm" });
    expect(await request(ada.socket, "dm:hide", { roomId: group.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const cy = await user();
    expect(await request(cy.socket, "dm:hide", { roomId: dm.id })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await request(cy.socket, "dm:hide", { roomId: "no-such-room" })).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("answers not_found for a room that does not exist", async () => {
    const alice = await user();
    const res = await request(alice.socket, "room:join", { roomId: "00000000-0000-0000-0000-000000000000" });
    expect(res).toEqual({ ok: false, error: { code: "not_found", message: expect.any(String) } });
  });

  it("keeps a private room closed to non-members: no join, history, send, typing or members", async () => {
    const alice = await user();
    const bob = await user();
    const mallory = await user();
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", {
      name: "secret",
      visibility: "private",
      memberIds: [bob.user.id],
    });
    await call(alice.socket, "message:send", { roomId: room.id, body: "the plan" });

    for (const [event, payload] of [
      ["room:join", { roomId: room.id }],
      ["message:history", { roomId: room.id }],
      ["message:send", { roomId: room.id, body: "let me in" }],
      ["room:members", { roomId: room.id }],
    ] as const) {
      const res = await request(mallory.socket, event, payload);
      expect(res, event).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    const typing = collect(bob.socket, "typing");
    // typing has no ack: its refusal comes as protocol:error once the membership check is done
    // (a round trip on the same socket may overtake it, so wait for the error itself).
    const refused = next(mallory.socket, "protocol:error");
    mallory.socket.emit("typing", { roomId: room.id, typing: true });
    expect(await refused).toEqual({ event: "typing", error: expect.objectContaining({ code: "forbidden" }) });
    await settle(bob.socket);
    expect(typing).toEqual([]);

    // The invited member reads it; the outsider's attempts changed nothing.
    const history = await call<{ messages: { body: string }[] }>(bob.socket, "message:history", { roomId: room.id });
    expect(history.messages.map((m) => m.body)).toEqual(["the plan"]);
    const { rooms } = await call<{ rooms: RoomSummary[] }>(mallory.socket, "room:list");
    expect(rooms).toEqual([]);
  });

  it("shows typing to the other members, not to the typist", async () => {
    const alice = await user();
    const bob = await user();
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "typing", memberIds: [bob.user.id] });
    const own = collect(alice.socket, "typing");
    const seen = next(bob.socket, "typing");
    alice.socket.emit("typing", { roomId: room.id, typing: true });
    expect(await seen).toEqual({ roomId: room.id, userId: alice.user.id, typing: true });
    await settle(alice.socket);
    expect(own).toEqual([]);
  });

  it("opens one DM per pair of users, even when both open it at once", async () => {
    const alice = await user();
    const bob = await user();
    const [a, b] = await Promise.all([
      call<{ room: Room }>(alice.socket, "dm:open", { userId: bob.user.id }),
      call<{ room: Room }>(bob.socket, "dm:open", { userId: alice.user.id }),
    ]);
    expect(a.room.id).toBe(b.room.id);
    expect(a.room).toMatchObject({ kind: "dm", visibility: "private" });
    const again = await call<{ room: Room }>(alice.socket, "dm:open", { userId: bob.user.id });
    expect(again.room.id).toBe(a.room.id);

    const { rooms } = await call<{ rooms: RoomSummary[] }>(alice.socket, "room:list");
    const dm = rooms.find((r) => r.id === a.room.id);
    expect(dm?.peer).toEqual(bob.user);
    const left = await request(alice.socket, "room:leave", { roomId: a.room.id });
    expect(left).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const missing = await request(alice.socket, "dm:open", { userId: "no-such-user" });
    expect(missing).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("delivers messages and new rooms to every tab of a user", async () => {
    const alice = await user();
    const bob = await user();
    const bobTab2 = await connect(server.url, bob.token);

    // A room Alice creates with Bob in it reaches both of Bob's tabs.
    const joined = [next(bob.socket, "room:joined"), next(bobTab2, "room:joined")];
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "tabs", memberIds: [bob.user.id] });
    expect(await Promise.all(joined)).toEqual([room, room]);

    // And its messages reach both tabs, without reconnecting.
    const got = [next(bob.socket, "message:new"), next(bobTab2, "message:new")];
    const sent = await call<{ message: { id: string } }>(alice.socket, "message:send", { roomId: room.id, body: "hi both" });
    const [m1, m2] = await Promise.all(got);
    expect(m1).toEqual(sent.message);
    expect(m2).toEqual(sent.message);

    // Joining a public room in one tab makes the other tab a member too.
    const { room: lobby } = await call<{ room: Room }>(alice.socket, "room:create", { name: "lobby" });
    const tab2Joined = next(bobTab2, "room:joined");
    await call(bob.socket, "room:join", { roomId: lobby.id });
    expect(await tab2Joined).toEqual(lobby);
    const tab2Msg = next(bobTab2, "message:new");
    await call(alice.socket, "message:send", { roomId: lobby.id, body: "welcome" });
    expect((await tab2Msg).body).toBe("welcome");

    // A DM opened in one tab appears in the other.
    const carol = await user();
    const dmJoined = next(bobTab2, "room:joined");
    const dm = await call<{ room: Room }>(bob.socket, "dm:open", { userId: carol.user.id });
    expect(await dmJoined).toEqual(dm.room);
  });

  it("announces presence when a user's first tab connects and last tab closes", async () => {
    const alice = await user();
    const bob = await user();
    await call(alice.socket, "room:create", { name: "presence", memberIds: [bob.user.id] });
    bob.socket.close();
    await next(alice.socket, "presence", (p) => p.userId === bob.user.id && !p.online);

    const events = collect(alice.socket, "presence");
    const tab1 = await connect(server.url, bob.token);
    await next(alice.socket, "presence", (p) => p.userId === bob.user.id && p.online);
    const tab2 = await connect(server.url, bob.token);
    const tab1Id = tab1.id;
    tab1.close();
    // Wait until the server has processed the close, then for anything it sent.
    await vi.waitFor(() => expect(server.io.of("/").sockets.has(tab1Id!)).toBe(false));
    await settle(alice.socket);
    await settle(tab2);
    expect(events.filter((p) => p.userId === bob.user.id)).toEqual([{ userId: bob.user.id, online: true }]);
    tab2.close();
    await next(alice.socket, "presence", (p) => p.userId === bob.user.id && !p.online);
  });

  it("counts unread messages from others and moves the read marker in every tab", async () => {
    const alice = await user();
    const bob = await user();
    const bobTab2 = await connect(server.url, bob.token);
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "unread", memberIds: [bob.user.id] });
    const ids: string[] = [];
    for (const body of ["one", "two", "three"]) {
      ids.push((await call<{ message: { id: string } }>(alice.socket, "message:send", { roomId: room.id, body })).message.id);
    }
    await call(bob.socket, "message:send", { roomId: room.id, body: "mine" });
    const unread = async (s: typeof alice.socket) =>
      (await call<{ rooms: RoomSummary[] }>(s, "room:list")).rooms.find((r) => r.id === room.id)?.unread;
    expect(await unread(bob.socket)).toBe(3);
    expect(await unread(alice.socket)).toBe(1);

    const synced = next(bobTab2, "room:read");
    await call(bob.socket, "room:read", { roomId: room.id, messageId: ids[1] });
    expect(await synced).toEqual({ roomId: room.id, messageId: ids[1] });
    expect(await unread(bobTab2)).toBe(1);
    // The marker never moves back.
    await call(bob.socket, "room:read", { roomId: room.id, messageId: ids[0] });
    expect(await unread(bob.socket)).toBe(1);
  });

  it("shows read markers to the room's members as receipts, live, and only for the room's own messages", async () => {
    const alice = await user();
    const bob = await user();
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "receipts", memberIds: [bob.user.id] });
    const { room: other } = await call<{ room: Room }>(alice.socket, "room:create", { name: "elsewhere", memberIds: [bob.user.id] });
    const sent = (await call<{ message: { id: string } }>(alice.socket, "message:send", { roomId: room.id, body: "did you see this?" })).message;
    const elsewhere = (await call<{ message: { id: string } }>(alice.socket, "message:send", { roomId: other.id, body: "not here" })).message;
    const markers = async () =>
      Object.fromEntries((await call<{ members: Member[] }>(alice.socket, "room:members", { roomId: room.id })).members.map((m) => [m.user.id, m.lastReadMessageId]));
    expect(await markers()).toEqual({ [alice.user.id]: null, [bob.user.id]: null });

    const receipt = next(alice.socket, "member:read");
    await call(bob.socket, "room:read", { roomId: room.id, messageId: sent.id });
    expect(await receipt).toEqual({ roomId: room.id, userId: bob.user.id, messageId: sent.id });
    expect(await markers()).toEqual({ [alice.user.id]: null, [bob.user.id]: sent.id });
    // A marker cannot point past the room's messages (it would claim to have read what does not exist yet).
    for (const messageId of [elsewhere.id, String(BigInt(sent.id) + 1000n)]) {
      expect(await request(bob.socket, "room:read", { roomId: room.id, messageId })).toMatchObject({ ok: false, error: { code: "not_found" } });
    }
    expect((await markers())[bob.user.id]).toBe(sent.id);
  });

  it("browses public rooms by name with member counts, never private ones", async () => {
    const alice = await user();
    const bob = await user();
    const tag = Math.random().toString(36).slice(2, 8);
    const { room: pub } = await call<{ room: Room }>(alice.socket, "room:create", { name: `Garden ${tag}` });
    await call(alice.socket, "room:create", { name: `Garden ${tag} secret`, visibility: "private" });
    const { rooms } = await call<{ rooms: PublicRoom[] }>(bob.socket, "room:browse", { query: `garden ${tag}` });
    expect(rooms).toEqual([{ ...pub, memberCount: 1, joined: false }]);
    await call(bob.socket, "room:join", { roomId: pub.id });
    const after = await call<{ rooms: PublicRoom[] }>(bob.socket, "room:browse", { query: tag });
    expect(after.rooms).toEqual([{ ...pub, memberCount: 2, joined: true }]);
  });

  it("finds users by username or display name prefix", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const zed = await register(server.url, `zed_${tag}`, `Zebulon ${tag}`);
    const alice = await user();
    const byName = await call<{ users: User[] }>(alice.socket, "user:search", { query: `ZED_${tag}` });
    expect(byName.users).toEqual([zed.user]);
    const byDisplay = await call<{ users: User[] }>(alice.socket, "user:search", { query: `zebulon ${tag}` });
    expect(byDisplay.users).toEqual([zed.user]);
    const none = await request(alice.socket, "user:search", { query: "" });
    expect(none).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
  });

  it("answers who of a list of users is online", async () => {
    const alice = await user();
    const bob = await user();
    const offline = await register(server.url);
    const { online } = await call<{ online: string[] }>(alice.socket, "presence:query", {
      userIds: [bob.user.id, offline.user.id],
    });
    expect(online).toEqual([bob.user.id]);
  });

  it("lets a member invite people into a private room, and nobody else", async () => {
    const alice = await user();
    const bob = await user();
    const carol = await user();
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "inner", visibility: "private" });
    const outsider = await request(carol.socket, "room:invite", { roomId: room.id, userIds: [carol.user.id] });
    expect(outsider).toMatchObject({ ok: false, error: { code: "forbidden" } });

    const joined = next(bob.socket, "room:joined");
    const res = await call<{ added: string[] }>(alice.socket, "room:invite", { roomId: room.id, userIds: [bob.user.id, alice.user.id] });
    expect(res.added).toEqual([bob.user.id]);
    expect(await joined).toEqual(room);
    const got = next(bob.socket, "message:new");
    await call(alice.socket, "message:send", { roomId: room.id, body: "welcome in" });
    expect((await got).body).toBe("welcome in");

    const unknown = await request(alice.socket, "room:invite", { roomId: room.id, userIds: ["nobody-here"] });
    expect(unknown).toMatchObject({ ok: false, error: { code: "not_found" } });
    const dm = await call<{ room: Room }>(alice.socket, "dm:open", { userId: bob.user.id });
    const intoDm = await request(alice.socket, "room:invite", { roomId: dm.room.id, userIds: [carol.user.id] });
    expect(intoDm).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("lets only the owner delete a group room: its messages and files go, every member's tabs are told, and a backend may delete any", async () => {
    const [owner, admin, member] = [await user("Owner"), await user("Admin"), await user("Member")];
    const { room } = await call<{ room: Room }>(owner.socket, "room:create", { name: "doomed", memberIds: [admin.user.id, member.user.id] });
    await call(owner.socket, "room:role", { roomId: room.id, userId: admin.user.id, role: "admin" });
    const up = await upload(server.url, `/api/rooms/${room.id}/files`, Buffer.from("%PDF-1.4 minutes"), { name: "minutes.pdf", type: "application/pdf", token: member.token });
    await call(member.socket, "message:send", { roomId: room.id, body: "minutes", attachmentIds: [up.body.attachment.id] });
    for (const who of [admin, member]) {
      expect(await request(who.socket, "room:delete", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    const { room: dm } = await call<{ room: Room }>(owner.socket, "dm:open", { userId: member.user.id });
    expect(await request(owner.socket, "room:delete", { roomId: dm.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await request(owner.socket, "room:delete", { roomId: "no-such-room" })).toMatchObject({ ok: false, error: { code: "not_found" } });

    const told = [owner, admin, member].map((who) => next(who.socket, "room:left"));
    const heard = collect(member.socket, "message:new");
    await call(owner.socket, "room:delete", { roomId: room.id });
    expect(await Promise.all(told)).toEqual(Array(3).fill({ roomId: room.id, reason: "deleted" }));
    expect(await request(member.socket, "message:history", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect((await download(server.url, `/api/files/${up.body.attachment.id}`, member.token)).status).toBe(404);
    expect(await server.db.prisma.attachment.count({ where: { roomId: room.id } })).toBe(0);
    expect(await server.db.prisma.fileChunk.count({ where: { key: { startsWith: up.body.attachment.id } } })).toBe(0);
    // The connections no longer hear it (a message to it is refused, none arrives).
    expect(await request(owner.socket, "message:send", { roomId: room.id, body: "anyone?" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    await settle(member.socket);
    expect(heard).toEqual([]);
    expect((await call<{ rooms: RoomSummary[] }>(member.socket, "room:list", {})).rooms.map((r) => r.id)).toEqual([dm.id]);

    // A backend deletes a DM too: the operation DELETE /api/v1/rooms/{roomId} runs.
    await server.core.gateway.run("deleteRoom", { roomId: dm.id });
    expect((await call<{ rooms: RoomSummary[] }>(member.socket, "room:list", {})).rooms).toEqual([]);
  });
});
