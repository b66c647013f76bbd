/**
 * The web UI's store (app/_lib/chat-store.ts) and its connection
 * (transport.ts), run in Node against a real server with real
 * socket.io-client connections: what a person sees in the state after each
 * thing that happens. (The same store in Chromium: browser.test.ts.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ChatStore, type ChatState, type Page } from "../app/_lib/chat-store";
import type { SessionEnd } from "../app/_lib/session-notice";
import { MAX_BODY_LENGTH } from "../shared/limits";
import type { Message, User } from "../shared/protocol";
import { api, call, closeAll, connect, register, type ChatSocket } from "./support/clients";
import { startTestServer, type TestServer } from "./support/server";

const WAIT = { timeout: 10_000, interval: 20 };

describe("the web UI's store, over a real server", () => {
  let server: TestServer;
  const stores: ChatStore[] = [];

  beforeAll(async () => {
    server = await startTestServer("embedded");
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    closeAll();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  /** A page whose URL names `roomInUrl` (at `messageInUrl`) and whose tab is visible unless said otherwise. */
  function page(
    roomInUrl = "",
    visible = true,
    messageInUrl = "",
  ): Page & { shown: string[]; notices: Array<{ title: string; body: string; open(): void }>; visible: () => boolean; hide(): void; show(): void } {
    const shown: string[] = [];
    const notices: Array<{ title: string; body: string; open(): void }> = [];
    let seen = visible;
    return {
      roomInUrl: () => roomInUrl,
      messageInUrl: () => messageInUrl,
      showRoom: (id, at) => void shown.push(at ? `${id}@${at}` : id),
      visible: () => seen,
      hide: () => (seen = false),
      show: () => (seen = true),
      notify: ({ title, body }, open) => void notices.push({ title, body, open }),
      shown,
      notices,
    };
  }

  function open(me: { user: User; token: string }, p: Page = page(), ended: SessionEnd[] = []): ChatStore {
    const store = new ChatStore(me.user, {
      onSessionEnded: (reason) => void ended.push(reason),
      page: p,
      connection: { url: server.url, socket: { auth: { token: me.token }, transports: ["websocket"] } },
    });
    stores.push(store);
    return store;
  }
  const state = (store: ChatStore): ChatState => store.state.getState();

  /** Two people in one room, and a second room; `ada` is the store's user. */
  async function twoPeople() {
    const ada = await register(server.url);
    const bob = await register(server.url);
    const bobSocket: ChatSocket = await connect(server.url, bob.token);
    const { room: general } = await call<{ room: { id: string } }>(bobSocket, "room:create", { name: "general", memberIds: [ada.user.id] });
    const { room: random } = await call<{ room: { id: string } }>(bobSocket, "room:create", { name: "random", memberIds: [ada.user.id] });
    return { ada, bob, bobSocket, general: general.id, random: random.id };
  }

  it("connects, lists the rooms, opens the one the URL names and loads its history", async () => {
    const { ada, bobSocket, general, random } = await twoPeople();
    await call(bobSocket, "message:send", { roomId: random, body: "before ada came" });
    const p = page(random);
    const store = open(ada, p);
    await vi.waitFor(() => expect(state(store).timelines[random]?.items.map((m) => m.body)).toEqual(["before ada came"]), WAIT);
    const s = state(store);
    expect(s.status).toBe("online");
    expect(s.rooms.map((r) => r.id).sort()).toEqual([general, random].sort());
    expect(s.activeRoomId).toBe(random);
    expect(p.shown).toEqual([random]);
    await vi.waitFor(() => expect(state(store).members[random]?.length).toBe(2), WAIT);
  });

  it("shows a sent message at once as pending, then as the stored message others receive", async () => {
    const { ada, bobSocket, general } = await twoPeople();
    const store = open(ada, page(general));
    await vi.waitFor(() => expect(state(store).timelines[general]?.loading).toBe(false), WAIT);
    const arrived = new Promise<{ body: string; clientMsgId?: string }>((resolve) => bobSocket.once("message:new", resolve));
    store.send(general, "hello bob");
    const [pending] = state(store).timelines[general]!.items;
    expect(pending).toMatchObject({ body: "hello bob", status: "pending" });
    await vi.waitFor(() => expect(state(store).timelines[general]!.items.map((m) => m.status ?? "stored")).toEqual(["stored"]), WAIT);
    const [sent] = state(store).timelines[general]!.items;
    expect(sent).toMatchObject({ body: "hello bob", clientMsgId: pending!.clientMsgId, authorId: ada.user.id });
    expect(await arrived).toMatchObject({ body: "hello bob", clientMsgId: pending!.clientMsgId });
  });

  it("counts unread messages in rooms not on screen (or while the tab is hidden), and a typing event leaves the timelines alone", async () => {
    const { ada, bobSocket, general, random } = await twoPeople();
    const p = page(general);
    const store = open(ada, p);
    await vi.waitFor(() => expect(state(store).timelines[general]?.loading).toBe(false), WAIT);
    await call(bobSocket, "message:send", { roomId: random, body: "elsewhere" });
    await call(bobSocket, "message:send", { roomId: general, body: "here" });
    await vi.waitFor(() => expect(state(store).timelines[general]!.items.map((m) => m.body)).toEqual(["here"]), WAIT);
    const unread = () => Object.fromEntries(state(store).rooms.map((r) => [r.id, r.unread]));
    await vi.waitFor(() => expect(unread()).toEqual({ [general]: 0, [random]: 1 }), WAIT);
    p.hide();
    await call(bobSocket, "message:send", { roomId: general, body: "while hidden" });
    await vi.waitFor(() => expect(unread()[general]).toBe(1), WAIT);

    // What a component showing the message list selects does not change with typing.
    const timelines = state(store).timelines;
    bobSocket.emit("typing", { roomId: general, typing: true });
    await vi.waitFor(() => expect(Object.keys(state(store).typing[general] ?? {})).toEqual([expect.any(String)]), WAIT);
    expect(state(store).timelines).toBe(timelines);
    // The typist's next message clears their indicator.
    await call(bobSocket, "message:send", { roomId: general, body: "done typing" });
    await vi.waitFor(() => expect(state(store).typing[general]).toEqual({}), WAIT);
  });

  it("after the server closes the connection, comes back, catches up what it missed in order, and sends what was pending", async () => {
    const { ada, bob, bobSocket, general } = await twoPeople();
    await call(bobSocket, "message:send", { roomId: general, body: "m0" });
    const store = open(ada, page(general));
    await vi.waitFor(() => expect(state(store).timelines[general]?.items.map((m) => m.body)).toEqual(["m0"]), WAIT);

    const { clients } = await server.core.gateway.listUserClients({ userId: ada.user.id });
    for (const c of clients) await server.core.gateway.closeClient({ clientId: c.id });
    await vi.waitFor(() => expect(state(store).status).toBe("reconnecting"), WAIT);
    store.send(general, "written offline");
    // More than a page of history (50) arrives meanwhile (posted as Bob through the gateway: no event budget to run out of).
    for (let i = 1; i <= 60; i++) await server.core.gateway.postMessage({ roomId: general, userId: bob.user.id, body: `m${i}` });
    // And one the moment the connection is back, arriving live while the store catches up: it must not hide the gap.
    const backOnline = new Promise<void>((resolve) => {
      const stop = store.state.subscribe((s) => {
        if (s.status !== "online") return;
        stop();
        void server.core.gateway.postMessage({ roomId: general, userId: bob.user.id, body: "live" }).then(() => resolve());
      });
    });
    await backOnline;

    // The timeline is the room's history, in its order: every missed message, the live one and the
    // one written offline (sent once back — when the reconnect beat the last posts, among them).
    const stored = async () => (await call<{ messages: Message[] }>(bobSocket, "message:history", { roomId: general, limit: 100 })).messages.map((m) => m.body);
    await vi.waitFor(async () => {
      const items = state(store).timelines[general]!.items;
      expect(items.every((m) => !m.status)).toBe(true);
      expect(items.map((m) => m.body)).toEqual(await stored());
    }, WAIT);
    const all = await stored();
    expect(all.filter((b) => /^m\d+$/.test(b))).toEqual(Array.from({ length: 61 }, (_, i) => `m${i}`));
    expect(all.filter((b) => !/^m\d+$/.test(b)).sort()).toEqual(["live", "written offline"]);
    expect(state(store).status).toBe("online");
  });

  it("marks a refused message failed with the server's reason, retries it on request, and discards it", async () => {
    const { ada, general } = await twoPeople();
    const store = open(ada, page(general));
    await vi.waitFor(() => expect(state(store).timelines[general]?.loading).toBe(false), WAIT);
    const items = () => state(store).timelines[general]!.items;
    store.send(general, "x".repeat(MAX_BODY_LENGTH + 1));
    await vi.waitFor(() => expect(items()).toEqual([expect.objectContaining({ status: "failed", error: expect.stringMatching(/4000|long|too/i) })]), WAIT);
    const { clientMsgId } = items()[0]!;
    store.retry(general, clientMsgId!);
    expect(items()[0]!.status).toBe("pending");
    await vi.waitFor(() => expect(items()[0]!.status).toBe("failed"), WAIT);
    store.discard(general, clientMsgId!);
    expect(items()).toEqual([]);
  });

  it("edits and deletes in place: its own (Up edits the last one), and others' as they arrive", async () => {
    const { ada, bobSocket, general } = await twoPeople();
    const store = open(ada, page(general));
    await vi.waitFor(() => expect(state(store).timelines[general]?.loading).toBe(false), WAIT);
    const bodies = () => state(store).timelines[general]!.items.map((m) => (m.deletedAt ? "(deleted)" : m.editedAt ? `${m.body}*` : m.body));
    store.send(general, "first");
    store.send(general, "second");
    const bobs = (await call<{ message: { id: string } }>(bobSocket, "message:send", { roomId: general, body: "bob's" })).message;
    await vi.waitFor(() => expect(bodies()).toEqual(["first", "second", "bob's"]), WAIT);

    expect(store.editLast(general)).toBe(true);
    const editing = state(store).editing!;
    expect(state(store).timelines[general]!.items.find((m) => m.id === editing.messageId)?.body).toBe("second");
    await store.edit(general, editing.messageId, "second, fixed");
    expect(state(store).editing).toBeNull();
    expect(bodies()).toEqual(["first", "second, fixed*", "bob's"]);
    const first = state(store).timelines[general]!.items[0]!;
    await store.deleteMessage(general, first.id);
    expect(bodies()).toEqual(["(deleted)", "second, fixed*", "bob's"]);

    await call(bobSocket, "message:edit", { roomId: general, messageId: bobs.id, body: "bob's, edited" });
    await vi.waitFor(() => expect(bodies()).toEqual(["(deleted)", "second, fixed*", "bob's, edited*"]), WAIT);
    await call(bobSocket, "message:delete", { roomId: general, messageId: bobs.id });
    await vi.waitFor(() => expect(bodies()).toEqual(["(deleted)", "second, fixed*", "(deleted)"]), WAIT);
    // Refused edits reject with the server's code, and change nothing.
    await expect(store.edit(general, bobs.id, "mine now")).rejects.toMatchObject({ body: { code: "not_found" } });
    expect(store.editLast(general)).toBe(true);
  });

  it("toggles its reactions and shows others' as they arrive, keeping them through an edit", async () => {
    const { ada, bob, bobSocket, general } = await twoPeople();
    const { message } = await call<{ message: { id: string } }>(bobSocket, "message:send", { roomId: general, body: "pizza?" });
    const store = open(ada, page(general));
    await vi.waitFor(() => expect(state(store).timelines[general]?.items).toHaveLength(1), WAIT);
    const reactions = () => state(store).timelines[general]!.items[0]!.reactions;

    await store.react(general, message.id, "🍕");
    expect(reactions()).toEqual([{ emoji: "🍕", count: 1, userIds: [ada.user.id] }]);
    await call(bobSocket, "reaction:add", { roomId: general, messageId: message.id, emoji: "🍕" });
    await vi.waitFor(() => expect(reactions()).toEqual([{ emoji: "🍕", count: 2, userIds: [ada.user.id, bob.user.id] }]), WAIT);
    await call(bobSocket, "message:edit", { roomId: general, messageId: message.id, body: "pizza at 1?" });
    await vi.waitFor(() => expect(state(store).timelines[general]!.items[0]!.body).toBe("pizza at 1?"), WAIT);
    expect(reactions()).toHaveLength(1);
    // A second toggle takes mine back; Bob's stays.
    await store.react(general, message.id, "🍕");
    expect(reactions()).toEqual([{ emoji: "🍕", count: 1, userIds: [bob.user.id] }]);
    await expect(store.react(general, message.id, "pizza")).rejects.toMatchObject({ body: { code: "invalid_payload" } });
    // A store opened later reads them from history.
    const later = open(ada, page(general));
    await vi.waitFor(() => expect(state(later).timelines[general]?.items[0]?.reactions).toEqual(reactions()), WAIT);
  });

  it("pins and unpins, keeping the marks and the Pinned list in step with others' pins, edits and deletions; a mute turns the room read-only and back", async () => {
    const { ada, bob, bobSocket, general } = await twoPeople();
    const sent: string[] = [];
    for (const body of ["plan", "date", "venue"]) sent.push((await call<{ message: { id: string } }>(bobSocket, "message:send", { roomId: general, body })).message.id);
    const store = open(ada, page(general));
    await vi.waitFor(() => expect(state(store).timelines[general]?.items).toHaveLength(3), WAIT);
    const pinnedBy = () => Object.fromEntries(state(store).timelines[general]!.items.map((m) => [m.body, m.pinned?.by?.id ?? null]));

    await store.pin(general, sent[0]!);
    await store.loadPins(general);
    await call(bobSocket, "message:pin", { roomId: general, messageId: sent[1] });
    await vi.waitFor(() => expect(pinnedBy()).toEqual({ plan: ada.user.id, date: bob.user.id, venue: null }), WAIT);
    const listed = () => state(store).pins[general]?.map((m) => m.body);
    await vi.waitFor(() => expect(listed()).toEqual(["date", "plan"]), WAIT);
    // An edit shows in the list and keeps the mark; a deletion unpins; an unpin by another leaves both.
    await call(bobSocket, "message:edit", { roomId: general, messageId: sent[1], body: "date: Friday" });
    await vi.waitFor(() => expect(listed()).toEqual(["date: Friday", "plan"]), WAIT);
    expect(pinnedBy()["date: Friday"]).toBe(bob.user.id);
    await call(bobSocket, "message:delete", { roomId: general, messageId: sent[1] });
    await vi.waitFor(() => expect(listed()).toEqual(["plan"]), WAIT);
    await call(bobSocket, "message:unpin", { roomId: general, messageId: sent[0] });
    await vi.waitFor(() => expect(listed()).toEqual([]), WAIT);
    expect(pinnedBy()).toEqual({ plan: null, "": null, venue: null });
    await store.pin(general, sent[2]!);
    expect(pinnedBy().venue).toBe(ada.user.id);
    await store.unpin(general, sent[2]!);
    expect(pinnedBy().venue).toBeNull();

    // Bob (the owner) mutes Ada: her room turns read-only, the members list says so; unmuted, it is back.
    const summary = () => state(store).rooms.find((r) => r.id === general)!;
    await call(bobSocket, "room:mute", { roomId: general, userId: ada.user.id, muted: true });
    await vi.waitFor(() => expect(summary().muted).toBe(true), WAIT);
    await vi.waitFor(() => expect(state(store).members[general]?.find((m) => m.user.id === ada.user.id)?.muted).toBe(true), WAIT);
    await expect(store.pin(general, sent[0]!)).rejects.toMatchObject({ body: { code: "forbidden" } });
    // A store opened while muted reads it from the room list.
    const later = open(ada, page(general));
    await vi.waitFor(() => expect(state(later).rooms.find((r) => r.id === general)?.muted).toBe(true), WAIT);
    await call(bobSocket, "room:mute", { roomId: general, userId: ada.user.id, muted: false });
    await vi.waitFor(() => expect(summary()).not.toHaveProperty("muted"), WAIT);
    await vi.waitFor(() => expect(state(store).members[general]?.find((m) => m.user.id === ada.user.id)).not.toHaveProperty("muted"), WAIT);
  });

  it("opens a room at a linked message, holds live messages back while in the past, reads forward to the present, and jumps back", async () => {
    const { ada, bob, bobSocket, general } = await twoPeople();
    const posted: string[] = [];
    for (let i = 0; i < 120; i++) {
      posted.push((await server.core.gateway.postMessage({ roomId: general, body: `old ${i}`, userId: bob.user.id })).message.id);
    }
    const p = page(general, true, posted[10]);
    const store = open(ada, p);
    const timeline = () => state(store).timelines[general]!;
    await vi.waitFor(() => expect(timeline()?.focus?.messageId).toBe(posted[10]), WAIT);
    expect(timeline().items.map((m) => m.body)).toEqual(Array.from({ length: 50 }, (_, i) => `old ${i}`));
    expect([timeline().hasMore, timeline().hasNewer]).toEqual([false, true]);
    expect(p.shown).toContain(`${general}@${posted[10]}`);

    // A live message would leave a gap after the window: it waits, and is there once read forward to.
    await call(bobSocket, "message:send", { roomId: general, body: "live while away" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(timeline().items.some((m) => m.body === "live while away")).toBe(false);
    while (timeline().hasNewer) await store.loadNewer(general);
    const bodies = timeline().items.map((m) => m.body);
    expect(bodies).toEqual([...Array.from({ length: 120 }, (_, i) => `old ${i}`), "live while away"]);
    await call(bobSocket, "message:send", { roomId: general, body: "live at present" });
    await vi.waitFor(() => expect(timeline().items.at(-1)?.body).toBe("live at present"), WAIT);

    // Search finds it; jumping there and back to the present.
    const found = await store.search({ query: "old 42", roomId: general });
    expect(found.terms).toEqual(["old", "42"]);
    expect(found.hits.map((h) => h.message.body)).toEqual(["old 42"]);
    await store.jumpTo(general, found.hits[0]!.message.id);
    expect(timeline().hasNewer).toBe(true);
    await store.jumpToPresent(general);
    expect([timeline().hasNewer, timeline().items.at(-1)?.body]).toEqual([undefined, "live at present"]);
    await expect(store.jumpTo(general, "999999999")).rejects.toMatchObject({ body: { code: "not_found" } });
  });

  it("counts mentions next to unread, and notifies a hidden tab as the room's level says; a notice opens the room at the message", async () => {
    const { ada, bob, bobSocket, general, random } = await twoPeople();
    const p = page(random);
    p.hide();
    const store = open(ada, p);
    await vi.waitFor(() => expect(state(store).rooms).toHaveLength(2), WAIT);
    const summary = () => state(store).rooms.find((r) => r.id === general)!;
    const say = (body: string) => call<{ message: { id: string } }>(bobSocket, "message:send", { roomId: general, body });

    await say("hello");
    await vi.waitFor(() => expect(p.notices).toHaveLength(1), WAIT);
    expect(p.notices[0]).toMatchObject({ title: `${bob.user.displayName} in #general`, body: "hello" });

    await store.setNotifications(general, "mentions");
    expect(summary().notifications).toBe("mentions");
    await say("just chatting");
    const { message } = await say(`@${ada.user.username} can you check?`);
    await vi.waitFor(() => expect(p.notices).toHaveLength(2), WAIT);
    expect(p.notices[1]!.body).toBe(`@${ada.user.username} can you check?`);
    expect(summary()).toMatchObject({ unread: 3, mentions: 1 });

    await store.setNotifications(general, "none");
    await say(`@${ada.user.username} again`);
    await vi.waitFor(() => expect(summary().mentions).toBe(2), WAIT);
    expect(p.notices).toHaveLength(2);

    // Clicking the notice opens the room at that message; reading it there clears the counts.
    p.notices[1]!.open();
    await vi.waitFor(() => expect(state(store).timelines[general]?.focus?.messageId).toBe(message.id), WAIT);
    expect(state(store).activeRoomId).toBe(general);
  });

  it("opens a thread, counts replies on its first message, keeps replies out of the room unless also sent there", async () => {
    const { ada, bob, bobSocket, general } = await twoPeople();
    const root = (await call<{ message: { id: string } }>(bobSocket, "message:send", { roomId: general, body: "plan for friday?" })).message;
    await call(bobSocket, "message:send", { roomId: general, body: "earlier reply", threadId: root.id });
    const p = page(general);
    const store = open(ada, p);
    await vi.waitFor(() => expect(state(store).timelines[general]?.items).toHaveLength(1), WAIT);
    const shownRoot = () => state(store).timelines[general]!.items[0]!;
    expect(shownRoot().thread?.replies).toBe(1);

    await store.openThread(general, root.id);
    const view = () => state(store).threads[root.id]!;
    expect(view().replies.items.map((m) => m.body)).toEqual(["earlier reply"]);
    await store.reply(general, root.id, "I'll bring snacks", false);
    await store.reply(general, root.id, "snacks confirmed, everyone", true);
    // With the tab hidden: a reply in a thread Ada replied in notifies her; one in a thread she has no part in does not.
    p.hide();
    const other = (await call<{ message: { id: string } }>(bobSocket, "message:send", { roomId: general, body: "unrelated" })).message;
    await call(bobSocket, "message:send", { roomId: general, body: "not her thread", threadId: other.id });
    await call(bobSocket, "message:send", { roomId: general, body: "great", threadId: root.id });
    await vi.waitFor(() => expect(p.notices.map((n) => n.body)).toEqual(["unrelated", "great"]), WAIT);
    await vi.waitFor(() => expect(view().replies.items.map((m) => m.body)).toEqual(["earlier reply", "I'll bring snacks", "snacks confirmed, everyone", "great"]), WAIT);
    // Each reply counted once (my own arrive both as an ack and as an event).
    expect([shownRoot().thread?.replies, view().root.thread?.replies]).toEqual([4, 4]);
    expect(shownRoot().thread?.lastReplier.id).toBe(bob.user.id);
    expect(state(store).timelines[general]!.items.map((m) => m.body)).toEqual(["plan for friday?", "snacks confirmed, everyone", "unrelated"]);
    // While hidden, Bob's message to the room counted as unread; his thread-only replies did not.
    expect(state(store).rooms.find((r) => r.id === general)!.unread).toBe(2);
    // Ada takes part in the thread: it is listed with Bob's reply after hers unread, until she reads it (with the tab seen).
    const followed = () => state(store).followed[root.id];
    await vi.waitFor(() => expect(followed()).toMatchObject({ unread: 1, root: { id: root.id, thread: { replies: 4 } } }), WAIT);
    expect(state(store).followed[other.id]).toBeUndefined();
    store.markThreadRead(root.id);
    expect(followed()!.unread).toBe(1);
    p.show();
    store.markThreadRead(root.id);
    expect(followed()!.unread).toBe(0);
    const fresh = open(ada, page(general));
    await vi.waitFor(() => expect(state(fresh).followed[root.id]).toMatchObject({ unread: 0, lastReadMessageId: view().replies.items.at(-1)!.id }), WAIT);
    store.closeThread();
    expect(state(store).openThread).toBeNull();
  });

  it("keeps the members of the open room up to date as people join and leave", async () => {
    const { ada, bob, bobSocket, general } = await twoPeople();
    const store = open(ada, page(general));
    const ids = () => state(store).members[general]?.map((m) => m.user.id);
    await vi.waitFor(() => expect(ids()).toHaveLength(2), WAIT);
    const first = ids()!;
    expect([...first].sort()).toEqual([ada.user.id, bob.user.id].sort());
    // Bob (the owner) renames the room and sets its topic, then makes Ada an admin: her tab follows each.
    await call(bobSocket, "room:update", { roomId: general, name: "General chat", topic: "say hi" });
    const summary = () => state(store).rooms.find((r) => r.id === general)!;
    await vi.waitFor(() => expect(summary()).toMatchObject({ name: "General chat", topic: "say hi", unread: 0 }), WAIT);
    await call(bobSocket, "room:role", { roomId: general, userId: ada.user.id, role: "admin" });
    await vi.waitFor(() => expect(state(store).members[general]?.find((m) => m.user.id === ada.user.id)?.role).toBe("admin"), WAIT);
    await store.updateRoom(general, { topic: "" });
    expect(summary().topic).toBeUndefined();
    expect(summary().name).toBe("General chat");
    const carol = await register(server.url, undefined, "Carol");
    await call(bobSocket, "room:invite", { roomId: general, userIds: [carol.user.id] });
    await vi.waitFor(() => expect(ids()).toEqual([...first, carol.user.id]), WAIT);
    expect(state(store).names[carol.user.id]).toBe("Carol");
    // Read receipts: a member's marker moves live, and only forward.
    const mine = (await call<{ message: { id: string } }>(bobSocket, "message:send", { roomId: general, body: "read me" })).message;
    const carolSocket = await connect(server.url, carol.token);
    await call(carolSocket, "room:read", { roomId: general, messageId: mine.id });
    const markerOf = (id: string) => state(store).members[general]?.find((m) => m.user.id === id)?.lastReadMessageId;
    await vi.waitFor(() => expect(markerOf(carol.user.id)).toBe(mine.id), WAIT);

    await call(bobSocket, "room:leave", { roomId: general });
    await vi.waitFor(() => expect(ids()).toEqual(first.filter((id) => id !== bob.user.id).concat(carol.user.id)), WAIT);
    // The timeline got the lines saying so, after those its history had.
    const lines = () => state(store).timelines[general]?.events?.map((e) => `${e.kind} ${e.user.displayName}${e.by ? ` by ${e.by.displayName}` : ""}`);
    await vi.waitFor(() => expect(lines()?.slice(-2)).toEqual([`joined Carol by ${bob.user.displayName}`, `left ${bob.user.displayName}`]), WAIT);
    expect(lines()!.length).toBeGreaterThan(2);
  });

  it("ends the session when the account signs out everywhere, and on a refused token", async () => {
    const ada = await register(server.url);
    const ended: SessionEnd[] = [];
    const store = open(ada, page(), ended);
    await vi.waitFor(() => expect(state(store).status).toBe("online"), WAIT);
    expect((await api(server.url, "POST", "/api/auth/logout", { everywhere: true }, { authorization: `Bearer ${ada.token}` })).status).toBe(204);
    await vi.waitFor(() => expect(ended).toEqual(["signed_out"]), WAIT);

    const refused: SessionEnd[] = [];
    open(ada, page(), refused);
    await vi.waitFor(() => expect(refused).toEqual(["unauthorized"]), WAIT);
  });

  it("uploads files for the next message with progress, refuses one over the limit unsent, cancels, and sends the rest with a caption", async () => {
    const { ada, bobSocket, general } = await twoPeople();
    const aborted: string[] = [];
    let release: (() => void) | null = null;
    const store = new ChatStore(ada.user, {
      onSessionEnded: () => {},
      page: page(general),
      connection: { url: server.url, socket: { auth: { token: ada.token }, transports: ["websocket"] } },
      http: (path, init) => fetch(`${server.url}${path}`, { ...init, headers: { ...init?.headers, authorization: `Bearer ${ada.token}` } }),
      // The browser's XMLHttpRequest, done with fetch: the same request; "slow.txt" waits until cancelled or released.
      uploader: (roomId, file, onProgress) => {
        const controller = new AbortController();
        const done = (async () => {
          if (file.name === "slow.txt") await new Promise<void>((resolve, reject) => {
            release = resolve;
            controller.signal.addEventListener("abort", () => reject(new DOMException("cancelled", "AbortError")));
          });
          onProgress(1);
          const res = await fetch(`${server.url}/api/rooms/${roomId}/files`, {
            method: "POST",
            headers: { authorization: `Bearer ${ada.token}`, "content-type": file.type, "content-disposition": `attachment; filename="${file.name}"` },
            body: file,
          });
          return (await res.json()).attachment;
        })();
        return { done, abort: () => (aborted.push(file.name), controller.abort()) };
      },
    });
    stores.push(store);
    await vi.waitFor(() => expect(state(store).status).toBe("online"), WAIT);

    const huge = new File([new Uint8Array(10 * 1024 * 1024 + 1)], "huge.bin", { type: "application/octet-stream" });
    store.attach(general, [new File(["%PDF-1.4 notes"], "notes.pdf", { type: "application/pdf" }), huge, new File(["wait"], "slow.txt", { type: "text/plain" })]);
    expect(state(store).uploads[general]!.map((u) => [u.name, u.status])).toEqual([["notes.pdf", "uploading"], ["huge.bin", "uploading"], ["slow.txt", "uploading"]]);
    await vi.waitFor(() => expect(state(store).uploads[general]!.map((u) => u.status)).toEqual(["done", "failed", "uploading"]), WAIT);
    expect(state(store).uploads[general]![1]!.error).toBe("Files may be at most 10 MB.");
    const slow = state(store).uploads[general]![2]!;
    store.removeUpload(general, slow.key);
    expect(aborted).toEqual(["slow.txt"]);
    expect(release).not.toBeNull();

    const arrived = new Promise<Message>((resolve) => bobSocket.once("message:new", resolve));
    store.send(general, "");
    const message = await arrived;
    expect(message.body).toBe("");
    expect(message.attachments!.map((a) => [a.name, a.type, a.size])).toEqual([["notes.pdf", "application/pdf", 14]]);
    // The sent file left the tray; the refused one stays to be read and removed.
    expect(state(store).uploads[general]!.map((u) => u.name)).toEqual(["huge.bin"]);
    await vi.waitFor(() => expect(state(store).timelines[general]!.items.at(-1)).toMatchObject({ id: message.id, attachments: message.attachments }), WAIT);
  });
});
