import type { Message, Pin, User } from "../../shared/protocol";
import { MAX_PINS_PER_ROOM } from "../../shared/limits";
import type { MessagePin, RoomRef } from "../../shared/schemas";
import type { PrismaClient } from "../db/generated/client";
import type { Attachments } from "./attachments";
import type { Delivery } from "./delivery";
import { AppError } from "./errors";
import type { Rooms } from "./rooms";
import { toMessage } from "./wire";

/** Who pins or unpins: a person, or what a backend acts as (a user, a bot, the system). */
type Pinner = { id: string; displayName: string };

/**
 * Pinned messages (Slack's pins): any member who may write in a room — a
 * DM's two people, a group room's members who are not muted — pins messages
 * of its timeline for everyone, at most {@link MAX_PINS_PER_ROOM} at once.
 * The room hears each change (`message:pinned`, `message:unpinned`); history
 * carries `pinned` on the messages, and `room:pins` lists them. Deleting a
 * message unpins it.
 */
export class Pins {
  constructor(
    private readonly db: PrismaClient,
    private readonly delivery: Delivery,
    private readonly rooms: Rooms,
    private readonly attachments: Attachments,
  ) {}

  /** A member pins a message of the room; pinned already changes nothing (and tells nobody). */
  async pin(actor: User, input: MessagePin): Promise<void> {
    await this.rooms.assertCanWrite(actor, input.roomId);
    await this.put(actor, input);
  }

  /** A member unpins a message; one not pinned changes nothing. */
  async unpin(actor: User, input: MessagePin): Promise<void> {
    await this.rooms.assertCanWrite(actor, input.roomId);
    await this.take(actor, input);
  }

  /**
   * Pins a message of the room's timeline (not deleted, not a reply kept in
   * its thread) as `by` — a client's own after the checks above, or whoever
   * a backend acts as. One pin beyond {@link MAX_PINS_PER_ROOM} is
   * `limit_exceeded`.
   */
  async put(by: Pinner, { roomId, messageId }: MessagePin): Promise<void> {
    const id = BigInt(messageId);
    // The room's row is held (FOR NO KEY UPDATE: sends, which only take a key
    // share of it, go on) while its pins are counted and one is added, so two
    // pins at once cannot both take the last place.
    const [, inserted] = await this.db.$transaction([
      this.db.$queryRaw`SELECT 1 FROM "Room" WHERE id = ${roomId} FOR NO KEY UPDATE`,
      this.db.$queryRaw<Array<{ createdAt: Date }>>`
        INSERT INTO "PinnedMessage" ("messageId", "roomId", "byId")
        SELECT m.id, m."roomId", ${by.id} FROM "Message" m
        WHERE m.id = ${id} AND m."roomId" = ${roomId} AND m."deletedAt" IS NULL
          AND (m."threadId" IS NULL OR m."alsoInRoom")
          AND (SELECT count(*) FROM "PinnedMessage" p WHERE p."roomId" = ${roomId}) < ${MAX_PINS_PER_ROOM}
        ON CONFLICT ("messageId") DO NOTHING
        RETURNING "createdAt"`,
    ]);
    const row = inserted[0];
    if (row) {
      this.delivery.toRoom(roomId, "message:pinned", [{ roomId, messageId, pinned: { by: { id: by.id, displayName: by.displayName }, at: row.createdAt.toISOString() } }]);
      return;
    }
    // Nothing added: say why (pinned already is no error).
    const message = await this.db.message.findUnique({ where: { id }, select: { roomId: true, deletedAt: true, threadId: true, alsoInRoom: true, pin: { select: { messageId: true } } } });
    if (!message || message.roomId !== roomId || message.deletedAt) throw new AppError("not_found", "no such message in this room");
    if (message.pin) return;
    if (message.threadId !== null && !message.alsoInRoom) throw new AppError("forbidden", "a reply kept in its thread cannot be pinned: pin the thread's first message");
    throw new AppError("limit_exceeded", `a room has at most ${MAX_PINS_PER_ROOM} pinned messages: unpin one first`);
  }

  /** Unpins a message of the room as `by`; one not pinned changes nothing and tells nobody. */
  async take(by: Pinner, { roomId, messageId }: MessagePin): Promise<void> {
    const id = BigInt(messageId);
    const { count } = await this.db.pinnedMessage.deleteMany({ where: { messageId: id, roomId } });
    if (count > 0) {
      this.delivery.toRoom(roomId, "message:unpinned", [{ roomId, messageId, by: { id: by.id, displayName: by.displayName } }]);
      return;
    }
    if ((await this.db.message.count({ where: { id, roomId } })) === 0) throw new AppError("not_found", "no such message in this room");
  }

  /** The pinned messages of a room the actor may read, newest pin first. */
  async list(actor: User, { roomId }: RoomRef): Promise<{ pins: Message[] }> {
    await this.rooms.assertReadable(actor, roomId);
    return this.listOf(roomId);
  }

  /** A room's pinned messages, newest pin first, each with `pinned` and its files (for a backend: any room). */
  async listOf(roomId: string): Promise<{ pins: Message[] }> {
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    const rows = await this.db.pinnedMessage.findMany({
      where: { roomId },
      orderBy: [{ createdAt: "desc" }, { messageId: "desc" }],
      take: MAX_PINS_PER_ROOM,
      include: { by: { select: { id: true, displayName: true } }, message: { include: { author: { select: { id: true, displayName: true } } } } },
    });
    const files = await this.attachments.of(roomId, rows.map((r) => r.messageId));
    const pins = rows.map((r) => {
      const message = toMessage(r.message, r.message.author);
      const attached = files.get(message.id);
      if (attached) message.attachments = attached;
      message.pinned = toPin(r);
      return message;
    });
    return { pins };
  }

  /** The pins of some messages of a room (a history page), by message id. */
  async of(roomId: string, messageIds: bigint[]): Promise<Map<string, Pin>> {
    if (messageIds.length === 0) return new Map();
    const rows = await this.db.pinnedMessage.findMany({
      where: { roomId, messageId: { in: messageIds } },
      include: { by: { select: { id: true, displayName: true } } },
    });
    return new Map(rows.map((r) => [r.messageId.toString(), toPin(r)]));
  }

  /** A deleted message is unpinned (its tombstone says it is gone; no `message:unpinned`). */
  async clear(messageId: bigint): Promise<void> {
    await this.db.pinnedMessage.deleteMany({ where: { messageId } });
  }
}

function toPin(row: { by: { id: string; displayName: string } | null; createdAt: Date }): Pin {
  return { ...(row.by ? { by: row.by } : {}), at: row.createdAt.toISOString() };
}
