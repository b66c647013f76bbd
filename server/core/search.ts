import type { Message, SearchHit } from "../../shared/protocol";
import type { MessageSearch } from "../../shared/schemas";
import { Prisma, type PrismaClient } from "../db/generated/client";
import { searchTerms } from "../../shared/search";
import { AppError } from "./errors";
import { type MessageRow, toMessage } from "./wire";

/**
 * Full-text search over messages, with PostgreSQL's text search (the
 * embedded database has it too). The index (migration `message_search`) is
 * on `to_tsvector('simple', body)`: 'simple' does not stem or drop words, so
 * it treats every language alike; a query's words match word beginnings.
 * The expression below must stay exactly the index's for the index to serve.
 */
export class MessageSearcher {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Messages the asker may read (their rooms, and public rooms) that contain
   * every word of the query, newest first, not deleted; filtered by room,
   * author and time. `nextCursor` (pass it as `before`) pages on.
   */
  async search(askerId: string, input: MessageSearch): Promise<{ hits: SearchHit[]; terms: string[]; nextCursor?: string }> {
    const terms = searchTerms(input.query);
    if (terms.length === 0) throw new AppError("invalid_payload", "query: no words to search for");
    const query = terms.map((t) => `'${t}':*`).join(" & ");
    const filters = [
      input.roomId ? Prisma.sql`AND m."roomId" = ${input.roomId}` : Prisma.empty,
      input.authorId ? Prisma.sql`AND m."authorId" = ${input.authorId}` : Prisma.empty,
      input.since ? Prisma.sql`AND m."createdAt" >= ${new Date(input.since)}` : Prisma.empty,
      input.until ? Prisma.sql`AND m."createdAt" < ${new Date(input.until)}` : Prisma.empty,
      input.before ? Prisma.sql`AND m.id < ${BigInt(input.before)}` : Prisma.empty,
    ];
    const rows = await this.db.$queryRaw<Array<MessageRow & { authorName: string; authorAvatar: string | null; roomName: string; roomKind: "group" | "dm" }>>`
      SELECT m.id, m."roomId", m."authorId", m.body, m."clientMsgId", m."createdAt", m."editedAt", m.mentions, m."threadId", m."alsoInRoom",
             u."displayName" AS "authorName", u."avatarKey" AS "authorAvatar", r.name AS "roomName", r.kind::text AS "roomKind"
      FROM "Message" m
      JOIN "Room" r ON r.id = m."roomId"
      JOIN "User" u ON u.id = m."authorId"
      WHERE to_tsvector('simple', m.body) @@ to_tsquery('simple', ${query})
        AND m."deletedAt" IS NULL
        -- The rooms the asker may read, as one list the planner can count: a
        -- per-row membership test makes it overestimate how much passes, and
        -- walk back through every message re-parsing bodies.
        AND m."roomId" = ANY(ARRAY(
          SELECT id FROM "Room" WHERE visibility = 'public'
          UNION SELECT "roomId" FROM "Membership" WHERE "userId" = ${askerId}))
        ${Prisma.join(filters, " ")}
      ORDER BY m.id DESC
      LIMIT ${input.limit + 1}`;
    const page = rows.slice(0, input.limit);
    const hits = page.map((r) => ({
      message: toMessage(r, { id: r.authorId, displayName: r.authorName, avatarKey: r.authorAvatar }) satisfies Message,
      room: { id: r.roomId, name: r.roomName, kind: r.roomKind },
    }));
    return { hits, terms, ...(rows.length > input.limit ? { nextCursor: page.at(-1)!.id.toString() } : {}) };
  }
}
