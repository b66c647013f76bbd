/**
 * The web UI's outbox (app/_lib/outbox.ts): when a message is sent, and what
 * its outcome does to it. The connection is a stand-in here, so that each
 * outcome (ack, refusal, no answer, a drop) can be produced on purpose; the
 * store over a real server is in ui-store.test.ts. And how refusals are put
 * into words for the person (app/_lib/errors.ts).
 */
import { describe, expect, it } from "vitest";
import { errorText, plainError, RequestError } from "../app/_lib/errors";
import { Outbox } from "../app/_lib/outbox";
import type { Message } from "../shared/protocol";

const me = { id: "u1", username: "ada", displayName: "Ada" };

function harness() {
  let online = false;
  const sent: Array<{ input: { roomId: string; body: string; clientMsgId: string }; settle: { ok(m: Message): void; fail(e: unknown): void } }> = [];
  const outcome = { stored: [] as Message[], failed: [] as Array<[string, string, string]> };
  const outbox = new Outbox({
    connected: () => online,
    send: (input) => new Promise<Message>((ok, fail) => sent.push({ input, settle: { ok, fail } })),
    stored: (m) => outcome.stored.push(m),
    failed: (...args) => outcome.failed.push(args),
  });
  const storedCopy = (i: number, id: string): Message => ({
    id,
    roomId: sent[i]!.input.roomId,
    authorId: me.id,
    author: { id: me.id, displayName: me.displayName },
    body: sent[i]!.input.body,
    createdAt: new Date().toISOString(),
    clientMsgId: sent[i]!.input.clientMsgId,
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { outbox, sent, outcome, storedCopy, tick, setOnline: (v: boolean) => (online = v) };
}

describe("outbox", () => {
  it("shows a message as pending at once and sends it while connected; the ack stores it", async () => {
    const h = harness();
    h.setOnline(true);
    const pending = h.outbox.compose("r1", "hello", me);
    expect(pending).toMatchObject({ status: "pending", roomId: "r1", body: "hello", authorId: me.id, id: `pending:${pending.clientMsgId}` });
    expect(h.sent.map((s) => s.input)).toEqual([{ roomId: "r1", body: "hello", clientMsgId: pending.clientMsgId }]);
    h.sent[0]!.settle.ok(h.storedCopy(0, "7"));
    await h.tick();
    expect(h.outcome.stored.map((m) => m.id)).toEqual(["7"]);
    expect(h.outcome.failed).toEqual([]);
  });

  it("gives every message its own clientMsgId", () => {
    const h = harness();
    const a = h.outbox.compose("r", "x", me);
    const b = h.outbox.compose("r", "x", me);
    expect(a.clientMsgId).not.toBe(b.clientMsgId);
  });

  it("holds messages while offline and sends the pending ones (not the failed) on the next connect, under the same clientMsgId", () => {
    const h = harness();
    const a = h.outbox.compose("r", "one", me);
    const b = h.outbox.compose("r", "two", me);
    expect(h.sent).toHaveLength(0);
    h.setOnline(true);
    h.outbox.resend([a, { ...b, status: "failed" }, b]);
    expect(h.sent.map((s) => s.input.clientMsgId)).toEqual([a.clientMsgId, b.clientMsgId]);
  });

  it("marks a refused message failed with the server's reason", async () => {
    const h = harness();
    h.setOnline(true);
    const m = h.outbox.compose("r", "x".repeat(10), me);
    h.sent[0]!.settle.fail(new RequestError({ code: "forbidden", message: "not a member of this room" }));
    await h.tick();
    expect(h.outcome.failed).toEqual([["r", m.clientMsgId, "Not a member of this room."]]);
  });

  it("keeps a message pending when its answer was lost to a drop, and fails it when the server does not answer while connected", async () => {
    const h = harness();
    h.setOnline(true);
    h.outbox.compose("r", "lost", me);
    const kept = h.outbox.compose("r", "slow", me);
    h.setOnline(false);
    h.sent[0]!.settle.fail(new Error("operation has timed out"));
    await h.tick();
    expect(h.outcome.failed).toEqual([]);
    h.setOnline(true);
    h.sent[1]!.settle.fail(new Error("operation has timed out"));
    await h.tick();
    expect(h.outcome.failed).toEqual([["r", kept.clientMsgId, "The server did not answer."]]);
  });
});

describe("errors in plain words", () => {
  it("says what happened for the codes a person meets, and keeps the server's words for the rest", () => {
    expect(plainError({ code: "rate_limited", message: "too many events; slow down", retryAfter: 1 })).toBe(
      "You are sending too fast — wait a moment, then try again.",
    );
    expect(plainError({ code: "unavailable", message: "the database is unavailable; try again" })).toMatch(/^The server can’t reach its database/);
    expect(plainError({ code: "forbidden", message: "join the room first" })).toBe("Join the room first.");
    expect(errorText(new RequestError({ code: "not_found", message: "no such room." }))).toBe("No such room.");
    expect(errorText(new Error("operation has timed out"))).toBe("The server did not answer. Check your connection and try again.");
    expect(errorText("nonsense")).toBe("Something went wrong.");
  });
});
