/**
 * The person's messages on their way to the server. A message shows at once
 * as pending (with a `clientMsgId`), is sent while connected, and becomes the
 * stored message on its ack. Offline it stays pending and goes out on the
 * next connect (the server recognises a repeat by its `clientMsgId`, so a
 * message whose ack was lost is not stored twice). A refusal, or no answer
 * while connected, marks it failed, to retry or discard.
 *
 * The unsent messages themselves live in the timelines (timeline.ts), where
 * they are shown; the outbox decides when each is sent and what its outcome
 * does to it.
 */
import type { Attachment, Message, User } from "../../shared/protocol";
import { plainError, RequestError } from "./errors";
import type { TimelineMessage } from "./timeline";

export interface OutboxDeps {
  connected(): boolean;
  /** `message:send`: resolves with the stored message; rejects with a RequestError, or anything else when there was no answer. */
  send(input: { roomId: string; body: string; clientMsgId: string; attachmentIds?: string[] }): Promise<Message>;
  /** The message is stored: it replaces its pending copy. */
  stored(message: Message): void;
  /** The message failed: its copy says why, with a retry action. */
  failed(roomId: string, clientMsgId: string, error: string): void;
}

export function newClientMsgId(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class Outbox {
  constructor(private readonly deps: OutboxDeps) {}

  /** A new message from `me` (with files uploaded for it): its pending copy, for the timeline; sent now if connected. */
  compose(roomId: string, body: string, me: User, attachments: Attachment[] = []): TimelineMessage {
    const clientMsgId = newClientMsgId();
    const pending: TimelineMessage = {
      id: `pending:${clientMsgId}`,
      roomId,
      authorId: me.id,
      author: { id: me.id, displayName: me.displayName },
      body,
      createdAt: new Date().toISOString(),
      clientMsgId,
      status: "pending",
      ...(attachments.length > 0 ? { attachments } : {}),
    };
    this.deliver(pending);
    return pending;
  }

  /** Sends a pending message, if connected (otherwise {@link resend} does on the next connect). */
  deliver(m: TimelineMessage): void {
    const { clientMsgId } = m;
    if (!this.deps.connected() || !clientMsgId) return;
    const attachmentIds = m.attachments?.map((a) => a.id);
    this.deps.send({ roomId: m.roomId, body: m.body, clientMsgId, ...(attachmentIds ? { attachmentIds } : {}) }).then(
      (message) => this.deps.stored(message),
      (err: unknown) => {
        // No answer because the connection dropped is not a failure: it goes out again on reconnect.
        if (!(err instanceof RequestError) && !this.deps.connected()) return;
        this.deps.failed(m.roomId, clientMsgId, err instanceof RequestError ? plainError(err.body) : "The server did not answer.");
      },
    );
  }

  /** After a connect: sends every message still pending. */
  resend(unsent: Iterable<TimelineMessage>): void {
    for (const m of unsent) if (m.status === "pending") this.deliver(m);
  }
}
