import type { Message, User } from "../../shared/protocol";
import type { MessageHistory, MessageSend, Typing } from "../../shared/schemas";
import type { PrismaClient } from "../db/generated/client";
import type { Delivery } from "./delivery";
import type { MessageWriter } from "./message-writer";
import type { Rooms } from "./rooms";
import { toMessage } from "./wire";

/** Sending and reading messages. */
export class Messages {
  constructor(
    private readonly db: PrismaClient,
    private readonly writer: MessageWriter,
    private readonly rooms: Rooms,
    private readonly delivery: Delivery,
  ) {}

  /** Resolves when every accepted send has been written; called before shutdown. */
  flush(): Promise<void> {
    return this.writer.idle();
  }

  /** How many messages and write batches the writer has handled so far. */
  get writerStats(): { messages: number; batches: number } {
    return { ...this.writer.stats };
  }

  /**
   * Stores a message and delivers it to every member's connections. A resend
   * with a `clientMsgId` already stored for the author returns the stored
   * message and delivers nothing new.
   */
  async send(actor: User, input: MessageSend): Promise<Message> {
    const { row, created } = await this.writer.write({
      roomId: input.roomId,
      authorId: actor.id,
      body: input.body,
      clientMsgId: input.clientMsgId ?? null,
    });
    const message = toMessage(row, actor);
    if (created) this.delivery.toRoom(row.roomId, "message:new", [message]);
    return message;
  }

  /** A page of history, oldest first, ending just before `before` (or at the newest). */
  async history(actor: User, { roomId, before, limit }: MessageHistory): Promise<{ messages: Message[]; hasMore: boolean }> {
    await this.rooms.assertReadable(actor, roomId);
    const rows = await this.db.message.findMany({
      where: { roomId, ...(before ? { id: { lt: BigInt(before) } } : {}) },
      orderBy: { id: "desc" },
      take: limit + 1,
      include: { author: { select: { id: true, displayName: true } } },
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return { messages: page.map((r) => toMessage(r, r.author)), hasMore };
  }

  /** Tells the room's other connections that the actor is (or stopped) typing. */
  async typing(actor: User, { roomId, typing }: Typing, connectionId?: string): Promise<void> {
    await this.rooms.assertMember(actor, roomId);
    this.delivery.toRoom(roomId, "typing", [{ roomId, userId: actor.id, typing }], connectionId);
  }
}
