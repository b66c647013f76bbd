import type { RoomEvent } from "../../shared/protocol";
import { ROOM_EVENTS_PER_PAGE } from "../../shared/limits";
import { Prisma, type PrismaClient } from "../db/generated/client";
import { type RoomEventRow, toRoomEvent } from "./wire";

/** The columns of a room event with its people's names, from `e` (the events) joined to `u` and `b` (the users). */
const COLUMNS = Prisma.sql`e.id, e."roomId", e.kind::text AS kind, e."createdAt", e.value,
  u.id AS "userId", u."displayName" AS "userName", b.id AS "byId", b."displayName" AS "byName"`;
const PEOPLE = Prisma.sql`JOIN "User" u ON u.id = e."userId" LEFT JOIN "User" b ON b.id = e."byId"`;

/**
 * A group room's changes of members, name and topic, kept as the lines its
 * timeline shows between the messages ("Ada joined", "Bob left", "Ada
 * renamed the room to #ops"). Each change and its event are written in one
 * statement, so neither is there without the other; DMs have none.
 */
export class RoomEvents {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Makes those of `userIds` who are not members yet members of the group
   * room, recording that they joined (added by `byId`, when not themselves).
   * Returns the events: one per user who became a member, in `userIds` order.
   */
  async join(roomId: string, userIds: string[], byId: string | null): Promise<RoomEvent[]> {
    const rows = await this.db.$queryRaw<RoomEventRow[]>`
      WITH added AS (
        INSERT INTO "Membership" ("roomId", "userId")
        SELECT ${roomId}, id FROM unnest(${userIds}::text[]) AS id
        ON CONFLICT DO NOTHING RETURNING "userId"
      ), e AS (
        INSERT INTO "RoomEvent" ("roomId", kind, "userId", "byId")
        SELECT ${roomId}, 'joined', "userId", ${byId} FROM added RETURNING *
      )
      SELECT ${COLUMNS} FROM e ${PEOPLE}`;
    const order = new Map(userIds.map((id, i) => [id, i]));
    return rows.sort((a, b) => order.get(a.userId)! - order.get(b.userId)!).map(toRoomEvent);
  }

  /** Ends a membership, recording that the user left or was removed (by `byId`, if a person did it); null when they were not a member. */
  async leave(roomId: string, userId: string, kind: "left" | "removed", byId: string | null = null): Promise<RoomEvent | null> {
    const [row] = await this.db.$queryRaw<RoomEventRow[]>`
      WITH gone AS (
        DELETE FROM "Membership" WHERE "roomId" = ${roomId} AND "userId" = ${userId} RETURNING "userId"
      ), e AS (
        INSERT INTO "RoomEvent" ("roomId", kind, "userId", "byId")
        SELECT ${roomId}, ${kind}::"RoomEventKind", "userId", ${byId} FROM gone RETURNING *
      )
      SELECT ${COLUMNS} FROM e ${PEOPLE}`;
    return row ? toRoomEvent(row) : null;
  }

  /**
   * Renames a group room and/or sets its topic (null: unchanged), recording
   * a line for each that changed, as said by `userId`. Returns the lines,
   * the name's first; none when nothing changed (or the room is no group).
   */
  async rename(roomId: string, name: string | null, topic: string | null, userId: string): Promise<RoomEvent[]> {
    const rows = await this.db.$queryRaw<RoomEventRow[]>`
      WITH old AS (
        SELECT id, name, topic FROM "Room" WHERE id = ${roomId} AND kind = 'group' FOR UPDATE
      ), changed AS (
        UPDATE "Room" r SET name = COALESCE(${name}::text, old.name), topic = COALESCE(${topic}::text, old.topic)
        FROM old
        WHERE r.id = old.id AND (COALESCE(${name}::text, old.name) <> old.name OR COALESCE(${topic}::text, old.topic) <> old.topic)
        RETURNING r.name, r.topic, old.name AS "oldName", old.topic AS "oldTopic"
      ), e AS (
        INSERT INTO "RoomEvent" ("roomId", kind, "userId", value)
        SELECT ${roomId}, k.kind, ${userId}, k.value
        FROM changed CROSS JOIN LATERAL (VALUES
          (1, 'renamed'::"RoomEventKind", changed.name, changed.name <> changed."oldName"),
          (2, 'topic'::"RoomEventKind", changed.topic, changed.topic <> changed."oldTopic")
        ) AS k(n, kind, value, differs)
        WHERE k.differs
        ORDER BY k.n
        RETURNING *
      )
      SELECT ${COLUMNS} FROM e ${PEOPLE} ORDER BY e.id`;
    return rows.map(toRoomEvent);
  }

  /**
   * The events of one history page's span of time, oldest first: from the
   * page's first message (`from`; none when nothing is older) up to, not
   * including, the message after the page (`until`, a message of the room;
   * none when the page ends at the present). Consecutive pages' spans meet
   * without a gap, so paging shows every event once. At most
   * ROOM_EVENTS_PER_PAGE, the newest.
   */
  async span(roomId: string, from: Date | null, until: bigint | null): Promise<RoomEvent[]> {
    const rows = await this.db.$queryRaw<RoomEventRow[]>`
      SELECT ${COLUMNS} FROM "RoomEvent" e ${PEOPLE}
      WHERE e."roomId" = ${roomId}
        AND e."createdAt" >= COALESCE(${from}::timestamptz, '-infinity')
        AND e."createdAt" < COALESCE((SELECT m."createdAt" FROM "Message" m WHERE m.id = ${until}::bigint AND m."roomId" = ${roomId}), 'infinity')
      ORDER BY e."createdAt" DESC, e.id DESC
      LIMIT ${ROOM_EVENTS_PER_PAGE}`;
    return rows.reverse().map(toRoomEvent);
  }
}
