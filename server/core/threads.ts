import type { FollowedThread, Message, User } from "../../shared/protocol";
import { UNREAD_CAP } from "../../shared/limits";
import type { ThreadList, ThreadRead } from "../../shared/schemas";
import { Prisma, type PrismaClient } from "../db/generated/client";
import type { Delivery } from "./delivery";
import { AppError } from "./errors";
import type { Rooms } from "./rooms";
import { toMessage } from "./wire";

/**
 * The threads people take part in: whoever started a thread or replied in it
 * follows it, with a read marker of their own. Followers who are members of
 * the room hear of each new reply (`thread:reply`, to all their tabs), and
 * `thread:list` lists their threads with the replies they have not read —
 * what the room's own unread count leaves out.
 */
export class Threads {
  constructor(
    private readonly db: PrismaClient,
    private readonly delivery: Delivery,
    private readonly rooms: Rooms,
  ) {}

  /**
   * A reply was stored: its author follows the thread, read up to the reply;
   * the thread's starter follows it too. The followers still in the room,
   * but the author, are told.
   */
  async replied(reply: Message, starterId: string): Promise<void> {
    const threadId = BigInt(reply.threadId!);
    // One row per person (a statement may not upsert a row twice): the starter replying reads up to the reply.
    const rows = [Prisma.sql`(${reply.authorId}, ${threadId}, ${reply.roomId}, ${BigInt(reply.id)})`];
    if (starterId !== reply.authorId) rows.push(Prisma.sql`(${starterId}, ${threadId}, ${reply.roomId}, NULL::bigint)`);
    const followers = await this.db.$queryRaw<Array<{ userId: string }>>`
      WITH upsert AS (
        INSERT INTO "ThreadFollow" ("userId", "threadId", "roomId", "lastReadMessageId")
        VALUES ${Prisma.join(rows)}
        ON CONFLICT ("userId", "threadId") DO UPDATE
          SET "lastReadMessageId" = GREATEST("ThreadFollow"."lastReadMessageId", EXCLUDED."lastReadMessageId")
        RETURNING "userId"
      )
      -- The statement's snapshot does not show the rows it inserts: those come from RETURNING.
      SELECT f."userId" FROM (
        SELECT "userId" FROM "ThreadFollow" WHERE "threadId" = ${threadId}
        UNION SELECT "userId" FROM upsert
      ) f
      JOIN "Membership" m ON m."roomId" = ${reply.roomId} AND m."userId" = f."userId"
      WHERE f."userId" <> ${reply.authorId}`;
    for (const { userId } of followers) this.delivery.toUser(userId, "thread:reply", [reply]);
  }

  /** The actor's threads in rooms they are a member of, latest reply first, with their unread replies. */
  async list(actor: User, { before, limit }: ThreadList): Promise<{ threads: FollowedThread[]; nextCursor?: string }> {
    const rows = await this.db.$queryRaw<
      Array<{
        id: bigint; roomId: string; authorId: string; authorName: string; authorAvatar: string | null; body: string; clientMsgId: string | null;
        createdAt: Date; editedAt: Date | null; deletedAt: Date | null; mentions: string[];
        lastId: bigint; lastReplyAt: Date; lastReplierId: string; lastReplierName: string; replies: number;
        unread: number; lastReadMessageId: bigint | null;
      }>
    >`
      SELECT r.id, r."roomId", r."authorId", a."displayName" AS "authorName", a."avatarKey" AS "authorAvatar", r.body, r."clientMsgId",
             r."createdAt", r."editedAt", r."deletedAt", r.mentions,
             l.id AS "lastId", l."createdAt" AS "lastReplyAt", l."authorId" AS "lastReplierId", l."displayName" AS "lastReplierName",
             (SELECT count(*)::int FROM "Message" x WHERE x."threadId" = f."threadId") AS replies,
             (SELECT count(*)::int FROM (
                SELECT 1 FROM "Message" x
                WHERE x."threadId" = f."threadId" AND x.id > COALESCE(f."lastReadMessageId", 0) AND x."authorId" <> f."userId"
                LIMIT ${UNREAD_CAP}) u) AS unread,
             f."lastReadMessageId"
      FROM "ThreadFollow" f
      JOIN "Membership" m ON m."roomId" = f."roomId" AND m."userId" = f."userId"
      JOIN "Message" r ON r.id = f."threadId"
      JOIN "User" a ON a.id = r."authorId"
      -- The latest reply (a thread is followed from its first reply on, so there is one).
      CROSS JOIN LATERAL (
        SELECT x.id, x."createdAt", x."authorId", u."displayName"
        FROM "Message" x JOIN "User" u ON u.id = x."authorId"
        WHERE x."threadId" = f."threadId" ORDER BY x.id DESC LIMIT 1
      ) l
      WHERE f."userId" = ${actor.id} AND (${before ?? null}::bigint IS NULL OR l.id < ${before ?? null}::bigint)
      ORDER BY l.id DESC
      LIMIT ${limit + 1}`;
    const more = rows.length > limit;
    const threads = rows.slice(0, limit).map((r): FollowedThread => {
      const root = toMessage(r, { id: r.authorId, displayName: r.authorName, avatarKey: r.authorAvatar });
      root.thread = { replies: r.replies, lastReplyAt: r.lastReplyAt.toISOString(), lastReplier: { id: r.lastReplierId, displayName: r.lastReplierName } };
      return { root, unread: r.unread, lastReadMessageId: r.lastReadMessageId?.toString() ?? null };
    });
    return more ? { threads, nextCursor: rows[limit - 1]!.lastId.toString() } : { threads };
  }

  /**
   * Moves the actor's marker in a thread forward to one of its replies (all
   * their tabs are told). Reading a thread one does not follow, or one read
   * further already, changes nothing.
   */
  async read(actor: User, { roomId, threadId, messageId }: ThreadRead): Promise<void> {
    const [thread, reply] = [BigInt(threadId), BigInt(messageId)];
    const moved = await this.db.$executeRaw`
      UPDATE "ThreadFollow" SET "lastReadMessageId" = ${reply}
      WHERE "userId" = ${actor.id} AND "threadId" = ${thread} AND "roomId" = ${roomId}
        AND ("lastReadMessageId" IS NULL OR "lastReadMessageId" < ${reply})
        AND EXISTS (SELECT 1 FROM "Message" x WHERE x.id = ${reply} AND x."threadId" = ${thread})`;
    if (moved > 0) return this.delivery.toUser(actor.id, "thread:read", [{ roomId, threadId, messageId }]);
    // Why not (only when nothing moved): a room or reply the actor may not see is refused; the rest is no change.
    await this.rooms.assertReadable(actor, roomId);
    const found = await this.db.message.count({ where: { id: reply, threadId: thread, roomId } });
    if (found === 0) throw new AppError("not_found", "no such reply in this thread");
  }
}
