import type { Reaction, ReactionEvent } from "../../shared/protocol";
import { MAX_REACTIONS_PER_MESSAGE, REACTION_USERS_LISTED } from "../../shared/limits";
import type { ReactionChange } from "../../shared/schemas";
import type { User } from "../../shared/protocol";
import type { PrismaClient } from "../db/generated/client";
import type { Delivery } from "./delivery";
import { AppError } from "./errors";
import type { Hooks } from "./hooks";
import type { Rooms } from "./rooms";

/**
 * Emoji reactions on messages. Each person's emoji on a message is one row;
 * the room hears each change as it happens (`reaction:added`,
 * `reaction:removed`: changes by different people commute, so the order
 * they arrive in does not matter), and history carries the sums.
 */
export class Reactions {
  constructor(
    private readonly db: PrismaClient,
    private readonly delivery: Delivery,
    private readonly rooms: Rooms,
    private readonly hooks: Hooks,
  ) {}

  /**
   * A user reacts to a message of a room they may read (a public room's,
   * even before joining it) unless muted there; plugins' `beforeReaction`
   * hooks may refuse it.
   */
  async add(actor: User, input: ReactionChange): Promise<void> {
    await this.rooms.assertCanReact(actor, input.roomId);
    await this.hooks.beforeReaction({ user: actor, ...input });
    await this.put(actor.id, input);
  }

  /** A user takes their reaction back. */
  async remove(actor: User, input: ReactionChange): Promise<void> {
    await this.rooms.assertCanReact(actor, input.roomId);
    await this.take(actor.id, input);
  }

  /**
   * Adds a user's emoji to a message that is not deleted, as that user (a
   * backend's choice, or a client's own after the check above). Adding it again changes
   * nothing and tells nobody; a new emoji beyond
   * {@link MAX_REACTIONS_PER_MESSAGE} different ones is `limit_exceeded`.
   */
  async put(userId: string, { roomId, messageId, emoji }: ReactionChange): Promise<void> {
    const id = BigInt(messageId);
    await this.liveMessage(roomId, id);
    const kinds = await this.db.reaction.findMany({ where: { messageId: id }, distinct: ["emoji"], select: { emoji: true } });
    if (kinds.length >= MAX_REACTIONS_PER_MESSAGE && !kinds.some((k) => k.emoji === emoji)) {
      throw new AppError("limit_exceeded", `a message carries at most ${MAX_REACTIONS_PER_MESSAGE} different emoji`);
    }
    const { count } = await this.db.reaction.createMany({ data: [{ messageId: id, emoji, userId: userId }], skipDuplicates: true });
    if (count > 0) this.announce({ roomId, messageId, emoji, userId }, true);
  }

  /** Takes a user's emoji off a message; one that is not there changes nothing. */
  async take(userId: string, { roomId, messageId, emoji }: ReactionChange): Promise<void> {
    const id = BigInt(messageId);
    await this.liveMessage(roomId, id);
    const { count } = await this.db.reaction.deleteMany({ where: { messageId: id, emoji, userId: userId } });
    if (count > 0) this.announce({ roomId, messageId, emoji, userId }, false);
  }

  /** Drops a message's reactions (it was deleted: a tombstone carries none). */
  async clear(messageId: bigint): Promise<void> {
    await this.db.reaction.deleteMany({ where: { messageId } });
  }

  /**
   * The reactions of a room's messages with ids from `first` to `last` (a
   * history page), by message id: one query however many messages and
   * reactions there are, listing at most {@link REACTION_USERS_LISTED}
   * people per emoji and always the asker where they reacted.
   */
  async of(roomId: string, first: bigint, last: bigint, askerId: string | null): Promise<Map<string, Reaction[]>> {
    const rows = await this.db.$queryRaw<Array<{ messageId: bigint; emoji: string; userId: string; count: bigint }>>`
      SELECT "messageId", emoji, "userId", count
      FROM (
        SELECT r."messageId", r.emoji, r."userId",
               count(*) OVER w AS count,
               min(r."createdAt") OVER w AS first,
               row_number() OVER (PARTITION BY r."messageId", r.emoji ORDER BY (r."userId" = ${askerId ?? ""}) DESC, r."createdAt", r."userId") AS n
        FROM "Reaction" r JOIN "Message" m ON m.id = r."messageId"
        WHERE r."messageId" BETWEEN ${first} AND ${last} AND m."roomId" = ${roomId} AND m."deletedAt" IS NULL
        WINDOW w AS (PARTITION BY r."messageId", r.emoji)
      ) listed
      WHERE n <= ${REACTION_USERS_LISTED}
      ORDER BY "messageId", first, emoji, n`;
    const byMessage = new Map<string, Reaction[]>();
    for (const row of rows) {
      const key = row.messageId.toString();
      const list = byMessage.get(key) ?? [];
      if (list.at(-1)?.emoji !== row.emoji) list.push({ emoji: row.emoji, count: Number(row.count), userIds: [] });
      list.at(-1)!.userIds.push(row.userId);
      byMessage.set(key, list);
    }
    return byMessage;
  }

  /** The message, in this room and not deleted; `not_found` otherwise (another room's message included). */
  private async liveMessage(roomId: string, id: bigint): Promise<void> {
    const found = await this.db.message.count({ where: { id, roomId, deletedAt: null } });
    if (found === 0) throw new AppError("not_found", "no such message in this room");
  }

  /** Tells the room of a reaction added or taken back, then plugins' `afterReaction` hooks. */
  private announce(change: ReactionEvent, added: boolean): void {
    this.delivery.toRoom(change.roomId, added ? "reaction:added" : "reaction:removed", [change]);
    this.hooks.afterReaction({ ...change, added });
  }
}
