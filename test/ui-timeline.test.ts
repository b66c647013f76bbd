/**
 * The web UI's timelines (app/_lib/timeline.ts): merging stored messages,
 * the person's unsent ones, and catching up after a reconnect. Pure unit
 * tests: no server.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendUnsent,
  applyReaction,
  changeMessage,
  compareIds,
  EMPTY_TIMELINE,
  fetchMissed,
  type HistoryPage,
  interleave,
  mergeEvents,
  mergeMessages,
  newestStored,
  oldestStored,
  removeUnsent,
  restartAt,
  type TimelineMessage,
  updateUnsent,
} from "../app/_lib/timeline";
import type { Message, RoomEvent } from "../shared/protocol";

const ME = "me";
function stored(id: number, authorId = "other", clientMsgId?: string): Message {
  return {
    id: String(id),
    roomId: "r",
    authorId,
    author: { id: authorId, displayName: authorId },
    body: `message ${id}`,
    createdAt: new Date(1_700_000_000_000 + id).toISOString(),
    ...(clientMsgId ? { clientMsgId } : {}),
  };
}
function unsent(clientMsgId: string, status: "pending" | "failed" = "pending"): TimelineMessage {
  return { ...stored(0, ME, clientMsgId), id: `pending:${clientMsgId}`, status };
}
const ids = (items: TimelineMessage[]) => items.map((m) => m.id);

describe("timeline", () => {
  it("compares ids as numbers of any length", () => {
    expect(compareIds("9", "10")).toBeLessThan(0);
    expect(compareIds("100000000000000000001", "99999999999999999999")).toBeGreaterThan(0);
    expect(compareIds("42", "42")).toBe(0);
  });

  it("merges stored messages by id: sorted, each once, whatever order and overlap they come in", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 20 }), { maxLength: 6 }), (batches) => {
        let tl = EMPTY_TIMELINE;
        for (const batch of batches) tl = mergeMessages(tl, batch.map((n) => stored(n)), ME);
        const expected = [...new Set(batches.flat())].sort((a, b) => a - b).map(String);
        expect(ids(tl.items)).toEqual(expected);
      }),
    );
  });

  it("keeps unsent messages after the stored ones, and drops each once its stored copy arrives (by clientMsgId)", () => {
    let tl = mergeMessages(undefined, [stored(1), stored(2)], ME);
    tl = appendUnsent(tl, unsent("a"));
    tl = appendUnsent(tl, unsent("b", "failed"));
    expect(ids(tl.items)).toEqual(["1", "2", "pending:a", "pending:b"]);
    // Someone else's message with the same clientMsgId does not replace mine.
    tl = mergeMessages(tl, [stored(3, "other", "a")], ME);
    expect(ids(tl.items)).toEqual(["1", "2", "3", "pending:a", "pending:b"]);
    tl = mergeMessages(tl, [stored(4, ME, "a")], ME);
    expect(ids(tl.items)).toEqual(["1", "2", "3", "4", "pending:b"]);
    expect(newestStored(tl)?.id).toBe("4");
    expect(oldestStored(tl)?.id).toBe("1");
  });

  it("leaves the timeline it was given as it was", () => {
    const before = appendUnsent(mergeMessages(undefined, [stored(5)], ME), unsent("x"));
    const copy = structuredClone(before);
    mergeMessages(before, [stored(1), stored(6, ME, "x")], ME, { hasMore: false });
    updateUnsent(before, "x", { status: "failed", error: "no" });
    removeUnsent(before, "x");
    restartAt(before, [stored(9)]);
    expect(before).toEqual(copy);
  });

  it("marks, and removes, only the unsent message named", () => {
    let tl = appendUnsent(appendUnsent(mergeMessages(undefined, [stored(1, ME, "a")], ME), unsent("a2")), unsent("b"));
    tl = updateUnsent(tl, "b", { status: "failed", error: "too_large" });
    expect(tl.items.map((m) => m.status ?? "stored")).toEqual(["stored", "pending", "failed"]);
    tl = removeUnsent(tl, "a");
    expect(ids(tl.items)).toEqual(["1", "pending:a2", "pending:b"]);
    tl = removeUnsent(tl, "b");
    expect(ids(tl.items)).toEqual(["1", "pending:a2"]);
  });

  it("restarts at the newest messages when too much was missed, keeping what is unsent", () => {
    const tl = appendUnsent(mergeMessages(undefined, [stored(1), stored(2)], ME, { hasMore: false }), unsent("u"));
    const restarted = restartAt(tl, [stored(500), stored(501)]);
    expect(ids(restarted.items)).toEqual(["500", "501", "pending:u"]);
    expect(restarted.hasMore).toBe(true);
  });
});

describe("fetchMissed", () => {
  /** A room holding messages 1..n, served newest first in pages of `size`, as message:history does. */
  function room(n: number, size: number) {
    const asked: Array<string | undefined> = [];
    const fetchPage = async (before: string | undefined): Promise<HistoryPage> => {
      asked.push(before);
      const top = before === undefined ? n : Number(before) - 1;
      const from = Math.max(1, top - size + 1);
      const messages = top < 1 ? [] : Array.from({ length: top - from + 1 }, (_, i) => stored(from + i));
      return { messages, hasMore: from > 1 };
    };
    return { fetchPage, asked };
  }

  it("pages back until it reaches the newest message shown", async () => {
    const { fetchPage, asked } = room(130, 50);
    const missed = await fetchMissed("40", fetchPage, 10);
    expect(missed.complete).toBe(true);
    expect(asked).toEqual([undefined, "81"]);
    // Everything after 40 is there, in order (and the overlap the merge ignores).
    expect(ids(missed.messages).filter((id) => Number(id) > 40)).toEqual(Array.from({ length: 90 }, (_, i) => String(41 + i)));
    expect(ids(missed.messages)).toEqual([...ids(missed.messages)].sort((a, b) => compareIds(a, b)));
  });

  it("says so when the gap is larger than it may fetch", async () => {
    const { fetchPage, asked } = room(1000, 50);
    const missed = await fetchMissed("10", fetchPage, 3);
    expect(missed.complete).toBe(false);
    expect(asked).toHaveLength(3);
    expect(missed.messages).toHaveLength(150);
  });

  it("stops at the beginning of the room", async () => {
    const { fetchPage } = room(20, 50);
    expect((await fetchMissed("999", fetchPage, 10)).complete).toBe(true);
    const empty = room(0, 50);
    expect(await fetchMissed("5", empty.fetchPage, 10)).toEqual({ messages: [], events: [], complete: true });
  });
});

describe("reactions on a timeline", () => {
  const base = mergeMessages(undefined, [stored(1), stored(2)], ME);
  const reactionsOf = (tl: ReturnType<typeof mergeMessages>, id = "1") => tl.items.find((m) => m.id === id)?.reactions;
  const change = (userId: string, emoji: string) => ({ roomId: "r", messageId: "1", emoji, userId });

  it("adds and removes people under an emoji, in order, and drops an emoji nobody has left", () => {
    let tl = applyReaction(base, change("ada", "👍"), true);
    tl = applyReaction(tl, change("bob", "👍"), true);
    tl = applyReaction(tl, change("bob", "🎉"), true);
    expect(reactionsOf(tl)).toEqual([
      { emoji: "👍", count: 2, userIds: ["ada", "bob"] },
      { emoji: "🎉", count: 1, userIds: ["bob"] },
    ]);
    tl = applyReaction(tl, change("bob", "🎉"), false);
    tl = applyReaction(tl, change("ada", "👍"), false);
    expect(reactionsOf(tl)).toEqual([{ emoji: "👍", count: 1, userIds: ["bob"] }]);
    expect(reactionsOf(applyReaction(tl, change("bob", "👍"), false))).toBeUndefined();
    // The other message, and the timeline when nothing moves, stay the same objects.
    expect(tl.items[1]).toBe(base.items[1]);
    expect(applyReaction(tl, change("bob", "👍"), true)).toBe(tl);
    expect(applyReaction(tl, change("nobody", "👍"), false)).toBe(tl);
    expect(applyReaction(tl, { ...change("bob", "👍"), messageId: "99" }, true)).toBe(tl);
  });

  it("counts down a removal by someone history did not list, only while some go unlisted", () => {
    const listed = mergeMessages(undefined, [{ ...stored(1), reactions: [{ emoji: "🔥", count: 60, userIds: ["a", "b"] }] }], ME);
    expect(reactionsOf(applyReaction(listed, change("z", "🔥"), false))).toEqual([{ emoji: "🔥", count: 59, userIds: ["a", "b"] }]);
    const full = mergeMessages(undefined, [{ ...stored(1), reactions: [{ emoji: "🔥", count: 2, userIds: ["a", "b"] }] }], ME);
    expect(applyReaction(full, change("z", "🔥"), false)).toBe(full);
  });

  it("gives the same reactions whatever order different people's changes arrive in, and applying one twice is once", () => {
    const people = ["ada", "bob", "cy"];
    const emoji = ["👍", "🎉", "👀"];
    // Each person's own changes in order; the people interleaved at random, each change possibly delivered twice.
    const script = fc.array(fc.record({ who: fc.constantFrom(...people), emoji: fc.constantFrom(...emoji), added: fc.boolean() }), { maxLength: 30 });
    fc.assert(
      fc.property(script, fc.array(fc.nat(), { minLength: 60, maxLength: 60 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), (changes, picks, twice) => {
        const expected = new Map<string, Set<string>>();
        let inOrder = base;
        for (const c of changes) {
          inOrder = applyReaction(inOrder, change(c.who, c.emoji), c.added);
          const set = expected.get(c.emoji) ?? new Set();
          if (c.added) set.add(c.who);
          else set.delete(c.who);
          expected.set(c.emoji, set);
        }
        const queues = people.map((p) => changes.filter((c) => c.who === p));
        let shuffled = base;
        let n = 0;
        while (queues.some((q) => q.length > 0)) {
          const open = queues.filter((q) => q.length > 0);
          const c = open[picks[n % picks.length]! % open.length]!.shift()!;
          shuffled = applyReaction(shuffled, change(c.who, c.emoji), c.added);
          if (twice[n % twice.length]) shuffled = applyReaction(shuffled, change(c.who, c.emoji), c.added);
          n++;
        }
        const summary = (tl: typeof base) =>
          Object.fromEntries((reactionsOf(tl) ?? []).map((r) => [r.emoji, [...r.userIds].sort()]));
        const want = Object.fromEntries([...expected].filter(([, set]) => set.size > 0).map(([e, set]) => [e, [...set].sort()]));
        expect(summary(inOrder)).toEqual(want);
        expect(summary(shuffled)).toEqual(want);
        for (const r of reactionsOf(shuffled) ?? []) expect(r.count).toBe(r.userIds.length);
      }),
    );
  });

  it("keeps the shown reactions and thread summary through an edit, and drops the reactions with a deletion", () => {
    const thread = { replies: 2, lastReplyAt: "2026-12-05T00:00:00.000Z", lastReplier: { id: "bob", displayName: "Bob" } };
    const reacted = applyReaction(mergeMessages(undefined, [{ ...stored(1), thread }, stored(2)], ME), change("ada", "👍"), true);
    const edited = changeMessage(reacted, { ...stored(1), body: "edited", editedAt: "2026-12-05T00:00:00.000Z" }, ME);
    expect(edited.items[0]).toMatchObject({ body: "edited", thread, reactions: [{ emoji: "👍", count: 1, userIds: ["ada"] }] });
    const deleted = changeMessage(edited, { ...stored(1), body: "", deletedAt: "2026-12-05T00:00:01.000Z" }, ME);
    expect(deleted.items[0]!.reactions).toBeUndefined();
    expect(deleted.items[0]!.thread).toEqual(thread);
  });

  it("puts each membership line before the first message sent after it, runs of lines together, unsent messages after all", () => {
    const line = (id: number, at: number): RoomEvent => ({
      id: String(id), roomId: "r", kind: "joined", user: { id: `u${id}`, displayName: `U${id}` },
      at: new Date(1_700_000_000_000 + at).toISOString(),
    });
    // Lines come in any order and overlap (history pages, live events): kept by id, each once.
    const events = mergeEvents(mergeEvents([], [line(3, 25), line(1, 5)]), [line(2, 15), line(3, 25), line(4, 40)]);
    expect(events.map((e) => e.id)).toEqual(["1", "2", "3", "4"]);
    const tl = appendUnsent(mergeMessages(undefined, [stored(10), stored(20), stored(30)], ME, {}, events), unsent("a"));
    expect(tl.events).toEqual(events);
    const shape = interleave(tl.items, tl.events).map((e) => ("message" in e ? e.message.id : e.events.map((x) => x.id).join("+")));
    expect(shape).toEqual(["1", "10", "2", "20", "3", "30", "4", "pending:a"]);
    expect(interleave(tl.items, undefined).every((e) => "message" in e)).toBe(true);
    // Lines within one page's span sit where they happened, two between the same messages are one run.
    const two = interleave([stored(10), stored(20)], [line(1, 12), line(2, 14)]);
    expect(two.map((e) => ("message" in e ? e.message.id : e.events.length))).toEqual(["10", 2, "20"]);
  });
});
