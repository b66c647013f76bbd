import { randomUUID } from "node:crypto";
import type { Member, PublicRoom, Room, RoomBanEntry, RoomEvent, RoomSummary, User } from "../../shared/protocol";
import { UNREAD_CAP } from "../../shared/limits";
import { ROOM_MENTION } from "../../shared/mentions";
import type {
  DmOpen,
  RoomBrowse,
  RoomCreate,
  RoomInvite,
  RoomListPage,
  RoomMembersPage,
  RoomNotifications,
  RoomRead,
  RoomMemberRef,
  RoomMuteChange,
  RoomRef,
  RoomRemoval,
  RoomArchive,
  RoomRoleChange,
  RoomUpdate,
} from "../../shared/schemas";
import type { NotifyLevel, PrismaClient } from "../db/generated/client";
import { isUniqueViolation } from "../db/errors";
import type { Delivery } from "./delivery";
import { AppError } from "./errors";
import { cursorTime, decodeCursor, encodeCursor } from "./paging";
import type { PresenceStore } from "./presence";
import type { RoomEvents } from "./room-events";
import { toRoom, toUser } from "./wire";

type RoomRow = Parameters<typeof toRoom>[0];

/** Rooms (groups and DMs) and their memberships. */
export class Rooms {
  constructor(
    private readonly db: PrismaClient,
    private readonly delivery: Delivery,
    private readonly presence: PresenceStore,
    private readonly events: RoomEvents,
    /** A room's files, deleted with it (core/attachments.ts). */
    private readonly files: { discardRoom(roomId: string): Promise<void> },
  ) {}

  /** A user a backend names (`field`: where it named them, for the error). */
  async userById(id: string, field: string): Promise<User> {
    const row = await this.db.user.findUnique({ where: { id } });
    if (!row) throw new AppError("not_found", `${field}: no such user`);
    return toUser(row);
  }

  /** Ids of the rooms a user belongs to (subscribed on connect). */
  async idsOf(userId: string): Promise<string[]> {
    const rows = await this.db.membership.findMany({ where: { userId }, select: { roomId: true } });
    return rows.map((r) => r.roomId);
  }

  /** The rooms of each of these users (for bringing many connections' subscriptions in step at once). */
  async idsOfMany(userIds: string[]): Promise<Map<string, string[]>> {
    const rows = await this.db.membership.findMany({ where: { userId: { in: userIds } }, select: { roomId: true, userId: true } });
    const byUser = new Map<string, string[]>(userIds.map((id) => [id, []]));
    for (const r of rows) byUser.get(r.userId)?.push(r.roomId);
    return byUser;
  }

  /** Rooms by id (those that exist). */
  async byIds(ids: string[]): Promise<Room[]> {
    return (await this.db.room.findMany({ where: { id: { in: ids } } })).map(toRoom);
  }

  async create(actor: User, input: RoomCreate): Promise<Room> {
    return this.createGroup(input, actor.id);
  }

  /** A room made by a backend: no creator; its members are host users, created if new. */
  async createForBackend(input: RoomCreate): Promise<Room> {
    await this.ensureUsers(input.memberIds);
    return this.createGroup(input, null);
  }

  private async createGroup(input: RoomCreate, creatorId: string | null): Promise<Room> {
    const memberIds = [...new Set(input.memberIds.filter((id) => id !== creatorId))];
    if (memberIds.length > 0) {
      const found = await this.db.user.count({ where: { id: { in: memberIds } } });
      if (found !== memberIds.length) throw new AppError("not_found", "memberIds: unknown user");
    }
    const row = await this.db.room.create({
      data: {
        id: randomUUID(),
        name: input.name,
        kind: "group",
        visibility: input.visibility,
        createdById: creatorId,
        memberships: {
          create: [
            ...(creatorId ? [{ userId: creatorId, role: "owner" as const }] : []),
            ...memberIds.map((userId) => ({ userId, role: "member" as const })),
          ],
        },
        // The timeline's first lines: who created the room, and whom they added (nobody is told: the room is new).
        events: {
          create: [
            ...(creatorId ? [{ kind: "created" as const, userId: creatorId }] : []),
            ...memberIds.map((userId) => ({ kind: "joined" as const, userId, byId: creatorId })),
          ],
        },
      },
    });
    const room = toRoom(row);
    for (const userId of [...(creatorId ? [creatorId] : []), ...memberIds]) this.announceJoin(userId, room);
    return room;
  }

  /** Joins a public room (idempotent). Private rooms and DMs are joined by invitation only. */
  async join(actor: User, { roomId }: RoomRef): Promise<Room> {
    const row = await this.db.room.findUnique({
      where: { id: roomId },
      include: { memberships: { where: { userId: actor.id }, select: { userId: true } } },
    });
    if (!row) throw new AppError("not_found", "no such room");
    const room = toRoom(row);
    if (row.memberships.length > 0) return room;
    if (row.kind === "dm" || row.visibility === "private") {
      throw new AppError("forbidden", "this room is private: a member must invite you");
    }
    await this.assertNotBanned(roomId, [actor.id], "you");
    // Another tab joining at the same moment makes no second membership (nor event): already a member is success.
    const events = await this.events.join(roomId, [actor.id], null);
    if (events.length === 0) return room;
    this.announceJoin(actor.id, room);
    await this.announceMembers(roomId, [actor], events);
    return room;
  }

  /** Adds users to a group room the actor belongs to; returns the ids that were not members yet. */
  async invite(actor: User, { roomId, userIds }: RoomInvite): Promise<string[]> {
    await this.assertMember(actor, roomId);
    await this.assertNotBanned(roomId, userIds, "them");
    return this.addMembers(roomId, userIds, actor.id);
  }

  /** A backend adds members; unknown ids become host users (as on their first connect). */
  async addMembersForBackend(roomId: string, userIds: string[]): Promise<string[]> {
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    await this.ensureUsers(userIds);
    return this.addMembers(roomId, userIds, null);
  }

  /**
   * The owner or an admin removes someone from a group room: the owner
   * anyone else, an admin only members. Their tabs get `room:left`; the
   * room's timeline says who removed them.
   */
  async remove(actor: User, { roomId, userId, ban }: RoomRemoval): Promise<void> {
    const role = await this.moderatorOf(actor, roomId);
    if (userId === actor.id) throw new AppError("forbidden", "leave the room instead");
    const target = await this.db.membership.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { role: true } });
    if (target?.role === "owner" || (target?.role === "admin" && role !== "owner")) {
      throw new AppError("forbidden", "only the owner can remove an admin, and nobody the owner");
    }
    // A ban needs no membership (it may come first); a removal does.
    if (ban) {
      if ((await this.db.user.count({ where: { id: userId } })) === 0) throw new AppError("not_found", "no such user");
      await this.db.roomBan.upsert({ where: { roomId_userId: { roomId, userId } }, create: { roomId, userId, byId: actor.id }, update: {} });
    } else if (!target) {
      throw new AppError("not_found", "no such member in this room");
    }
    const event = target ? await this.events.leave(roomId, userId, "removed", actor.id) : null;
    if (event) this.announceLeave(userId, roomId, event);
  }

  /** The owner or an admin lifts a ban: the user may join or be invited again. */
  async unban(actor: User, { roomId, userId }: RoomMemberRef): Promise<void> {
    await this.moderatorOf(actor, roomId);
    const { count } = await this.db.roomBan.deleteMany({ where: { roomId, userId } });
    if (count === 0) throw new AppError("not_found", "this user is not banned from this room");
  }

  /** Who is banned from a group room, the latest first (at most 500): for its owner and admins. */
  async bans(actor: User, { roomId }: RoomRef): Promise<{ bans: RoomBanEntry[] }> {
    await this.moderatorOf(actor, roomId);
    return this.banList(roomId);
  }

  /** A backend bans someone from a group room (removing them if a member: the line names nobody); a ban may come first. */
  async banForBackend({ roomId, userId }: RoomMemberRef): Promise<void> {
    const room = await this.db.room.findUnique({ where: { id: roomId }, select: { kind: true } });
    if (!room) throw new AppError("not_found", "no such room");
    if (room.kind === "dm") throw new AppError("forbidden", "nobody is banned from a direct message");
    const owner = await this.db.membership.count({ where: { roomId, userId, role: "owner" } });
    if (owner > 0) throw new AppError("forbidden", "the owner cannot be banned");
    if ((await this.db.user.count({ where: { id: userId } })) === 0) throw new AppError("not_found", "no such user");
    await this.db.roomBan.upsert({ where: { roomId_userId: { roomId, userId } }, create: { roomId, userId }, update: {} });
    const event = await this.events.leave(roomId, userId, "removed");
    if (event) this.announceLeave(userId, roomId, event);
  }

  /** A backend lifts a ban. */
  async unbanForBackend({ roomId, userId }: RoomMemberRef): Promise<void> {
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    const { count } = await this.db.roomBan.deleteMany({ where: { roomId, userId } });
    if (count === 0) throw new AppError("not_found", "this user is not banned from this room");
  }

  /** Who is banned from a room, for a backend. */
  async bansForBackend({ roomId }: RoomRef): Promise<{ bans: RoomBanEntry[] }> {
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    return this.banList(roomId);
  }

  private async banList(roomId: string): Promise<{ bans: RoomBanEntry[] }> {
    const rows = await this.db.roomBan.findMany({
      where: { roomId },
      orderBy: [{ createdAt: "desc" }, { userId: "asc" }],
      take: 500,
      include: { user: true, by: { select: { id: true, displayName: true } } },
    });
    return {
      bans: rows.map((b) => ({ user: toUser(b.user), ...(b.by ? { by: b.by } : {}), at: b.createdAt.toISOString() })),
    };
  }

  /**
   * The owner or an admin mutes a member of a group room — they still read
   * it, but cannot send, reply, react, edit or pin there — or lets them
   * write again. As for removal: the owner may mute anyone else, an admin
   * only members. The mute outlasts leaving and joining again. Every member
   * is told (`member:muted`); the same state again changes nothing.
   */
  async mute(actor: User, { roomId, userId, muted }: RoomMuteChange): Promise<void> {
    const role = await this.moderatorOf(actor, roomId);
    if (userId === actor.id) throw new AppError("forbidden", "you cannot mute yourself");
    const target = await this.db.membership.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { role: true } });
    if (target?.role === "owner" || (target?.role === "admin" && role !== "owner")) {
      throw new AppError("forbidden", "only the owner can mute an admin, and nobody the owner");
    }
    await this.changeMute(roomId, userId, muted, target !== null, actor);
  }

  /** A backend mutes a member of a group room (never its owner), or lets them write again. */
  async muteForBackend({ roomId, userId, muted }: RoomMuteChange): Promise<void> {
    const room = await this.db.room.findUnique({ where: { id: roomId }, select: { kind: true, memberships: { where: { userId }, select: { role: true } } } });
    if (!room) throw new AppError("not_found", "no such room");
    if (room.kind === "dm") throw new AppError("forbidden", "nobody is muted in a direct message");
    const target = room.memberships[0];
    if (target?.role === "owner") throw new AppError("forbidden", "the owner cannot be muted");
    await this.changeMute(roomId, userId, muted, target !== undefined, null);
  }

  /** Mutes (only a member) or unmutes (also someone who left since) and tells the room when that changed something. */
  private async changeMute(roomId: string, userId: string, muted: boolean, isMember: boolean, by: User | null): Promise<void> {
    let changed: boolean;
    if (muted) {
      if (!isMember) throw new AppError("not_found", "no such member in this room");
      changed = (await this.db.roomMute.createMany({ data: [{ roomId, userId, byId: by?.id ?? null }], skipDuplicates: true })).count > 0;
    } else {
      changed = (await this.db.roomMute.deleteMany({ where: { roomId, userId } })).count > 0;
      if (!changed && !isMember) throw new AppError("not_found", "no such member in this room");
    }
    if (changed) {
      this.delivery.toRoom(roomId, "member:muted", [{ roomId, userId, muted, ...(by ? { by: { id: by.id, displayName: by.displayName } } : {}) }]);
    }
  }

  /** The actor's role in a group room where they moderate (owner or admin); `forbidden` otherwise. */
  private async moderatorOf(actor: User, roomId: string): Promise<"owner" | "admin"> {
    const role = await this.roleOf(actor, roomId);
    if (role === "member") throw new AppError("forbidden", "only the room's owner and admins can do that");
    return role;
  }

  /** Throws `forbidden` when one of the users is banned from the room (a client's join or invitation). */
  private async assertNotBanned(roomId: string, userIds: string[], who: "you" | "them"): Promise<void> {
    const banned = await this.db.roomBan.count({ where: { roomId, userId: { in: userIds } } });
    if (banned > 0) throw new AppError("forbidden", who === "you" ? "you are banned from this room" : "banned from this room: an admin must unban them first");
  }

  /** Removes a member (a backend's operation): their tabs get `room:left`. */
  async removeMember(roomId: string, userId: string): Promise<void> {
    const event = await this.events.leave(roomId, userId, "removed");
    if (!event) throw new AppError("not_found", "no such member in this room");
    this.announceLeave(userId, roomId, event);
  }

  /** Adds users to a group room (by `byId`, null for a backend); returns the ids that were not members yet. */
  private async addMembers(roomId: string, userIds: string[], byId: string | null): Promise<string[]> {
    const row = await this.db.room.findUniqueOrThrow({ where: { id: roomId } });
    if (row.kind === "dm") throw new AppError("forbidden", "a direct message has exactly two members");
    const ids = [...new Set(userIds)];
    const found = await this.db.user.findMany({ where: { id: { in: ids } }, select: { id: true, username: true, displayName: true, avatarKey: true } });
    if (found.length !== ids.length) throw new AppError("not_found", "userIds: unknown user");
    const events = await this.events.join(roomId, ids, byId);
    const added = events.map((e) => e.user.id);
    const room = toRoom(row);
    for (const userId of added) this.announceJoin(userId, room);
    const byUser = new Map(found.map((u) => [u.id, toUser(u)]));
    await this.announceMembers(roomId, added.map((id) => byUser.get(id)!), events);
    return added;
  }

  /** Creates host users for ids not known yet (a backend names its users by its own ids). */
  private async ensureUsers(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.user.createMany({
      data: ids.map((id) => ({ id, username: `${id}@host`, displayName: id })),
      skipDuplicates: true,
    });
  }

  async leave(actor: User, { roomId }: RoomRef): Promise<void> {
    const row = await this.db.room.findUnique({ where: { id: roomId }, select: { kind: true } });
    if (!row) throw new AppError("not_found", "no such room");
    if (row.kind === "dm") throw new AppError("forbidden", "a direct message cannot be left");
    const event = await this.events.leave(roomId, actor.id, "left");
    if (!event) throw new AppError("not_found", "you are not a member of this room");
    this.announceLeave(actor.id, roomId, event);
  }

  /** A page of the actor's rooms, oldest first, with unread counts (own messages never count as unread). */
  async list(actor: User, { limit, after }: RoomListPage): Promise<{ rooms: RoomSummary[]; nextCursor?: string }> {
    const [afterTime, afterId] = after ? decodeCursor(after, 2) : [];
    const from = afterTime === undefined ? null : cursorTime(afterTime);
    const rows = await this.db.$queryRaw<
      Array<RoomRow & { lastReadMessageId: bigint | null; unread: number; mentions: number; notify: NotifyLevel; peerId: string | null; muted: boolean }>
    >`
      SELECT r.id, r.name, r.kind::text AS kind, r.visibility::text AS visibility, r.topic, r."archivedAt", r."createdAt",
             m."lastReadMessageId", m.notify::text AS notify,
             c.unread, c.mentions,
             CASE WHEN r.kind = 'dm' THEN COALESCE(
               (SELECT o."userId" FROM "Membership" o WHERE o."roomId" = r.id AND o."userId" <> ${actor.id} LIMIT 1),
               ${actor.id}) END AS "peerId",
             EXISTS (SELECT 1 FROM "RoomMute" x WHERE x."roomId" = r.id AND x."userId" = ${actor.id}) AS muted
      FROM "Membership" m JOIN "Room" r ON r.id = m."roomId"
      -- One walk over the messages after the read marker (up to UNREAD_CAP) counts both:
      -- unread (the room's timeline: no thread-only replies) and the mentions of the member.
      CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE x."threadId" IS NULL OR x."alsoInRoom")::int AS unread,
               count(*) FILTER (WHERE x."deletedAt" IS NULL
                 AND x.mentions && ARRAY[${actor.username.toLowerCase()}, ${ROOM_MENTION}]::text[])::int AS mentions
        FROM (SELECT x."threadId", x."alsoInRoom", x."deletedAt", x.mentions FROM "Message" x
              WHERE x."roomId" = r.id AND x.id > COALESCE(m."lastReadMessageId", 0) AND x."authorId" <> ${actor.id}
              LIMIT ${UNREAD_CAP}) x
      ) c
      WHERE m."userId" = ${actor.id}
        AND (${from}::timestamptz IS NULL OR (r."createdAt", r.id) > (${from}::timestamptz, ${afterId ?? ""}))
        -- A DM the member hid is back once a newer message arrived.
        AND (m."hiddenThrough" IS NULL
             OR EXISTS (SELECT 1 FROM "Message" x WHERE x."roomId" = r.id AND x.id > m."hiddenThrough"))
      ORDER BY r."createdAt", r.id
      LIMIT ${limit + 1}`;
    const more = rows.length > limit;
    rows.splice(limit);
    const peerIds = [...new Set(rows.flatMap((r) => (r.peerId ? [r.peerId] : [])))];
    const peers = new Map(
      (await this.db.user.findMany({ where: { id: { in: peerIds } } })).map((u) => [u.id, toUser(u)]),
    );
    const rooms = rows.map((r) => {
      const summary: RoomSummary = {
        ...toRoom({ ...r, createdAt: new Date(r.createdAt) }),
        unread: Number(r.unread),
        mentions: Number(r.mentions),
        notifications: r.notify,
        lastReadMessageId: r.lastReadMessageId === null ? null : r.lastReadMessageId.toString(),
      };
      const peer = r.peerId ? peers.get(r.peerId) : undefined;
      if (peer) summary.peer = peer;
      if (r.muted) summary.muted = true;
      return summary;
    });
    const last = rooms.at(-1);
    return more && last ? { rooms, nextCursor: encodeCursor([last.createdAt, last.id]) } : { rooms };
  }

  /** Public group rooms, by name (case-insensitive substring), with member counts. */
  async browse(actor: User, { query }: RoomBrowse): Promise<PublicRoom[]> {
    const rows = await this.db.room.findMany({
      where: {
        kind: "group",
        visibility: "public",
        ...(query ? { name: { contains: query, mode: "insensitive" as const } } : {}),
      },
      orderBy: [{ name: "asc" }, { id: "asc" }],
      take: 50,
      include: {
        _count: { select: { memberships: true } },
        memberships: { where: { userId: actor.id }, select: { userId: true } },
      },
    });
    return rows.map((r) => ({ ...toRoom(r), memberCount: r._count.memberships, joined: r.memberships.length > 0 }));
  }

  /** A page of the members of a room the actor can see (a member, or any public room), in joining order, with presence. */
  async members(actor: User, { roomId, limit, after }: RoomMembersPage): Promise<{ members: Member[]; nextCursor?: string }> {
    await this.assertReadable(actor, roomId);
    const [afterTime, afterId] = after ? decodeCursor(after, 2) : [];
    const joined = afterTime === undefined ? null : cursorTime(afterTime);
    const rows = await this.db.membership.findMany({
      where: {
        roomId,
        ...(joined ? { OR: [{ joinedAt: { gt: joined } }, { joinedAt: joined, userId: { gt: afterId! } }] } : {}),
      },
      include: { user: true },
      orderBy: [{ joinedAt: "asc" }, { userId: "asc" }],
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    const ids = page.map((r) => r.userId);
    const [online, mutes] = await Promise.all([
      this.presence.online(ids),
      this.db.roomMute.findMany({ where: { roomId, userId: { in: ids } }, select: { userId: true } }),
    ]);
    const muted = new Set(mutes.map((m) => m.userId));
    const members: Member[] = page.map((r) => ({
      user: toUser(r.user),
      role: r.role,
      online: online.has(r.userId),
      lastReadMessageId: r.lastReadMessageId?.toString() ?? null,
      ...(muted.has(r.userId) ? { muted: true as const } : {}),
    }));
    const last = page.at(-1);
    return rows.length > limit && last
      ? { members, nextCursor: encodeCursor([last.joinedAt.toISOString(), last.userId]) }
      : { members };
  }

  /**
   * Renames a group room or sets its topic: its owner and admins may (a
   * DM has neither). Every member's tabs get the room as it is now
   * (`room:updated`) and a timeline line for each change ("Ada renamed
   * the room to #ops", "Ada set the topic: …"); the same name and topic
   * again change nothing.
   */
  async update(actor: User, input: RoomUpdate): Promise<Room> {
    await this.moderatorOf(actor, input.roomId);
    return this.change(input, actor.id);
  }

  /** A backend renames a group room or sets its topic; the lines name `byId` (the system, a bot or a user it acts as). */
  async updateForBackend(input: RoomUpdate, byId: string): Promise<Room> {
    if ((await this.db.room.count({ where: { id: input.roomId } })) === 0) throw new AppError("not_found", "no such room");
    return this.change(input, byId);
  }

  private async change({ roomId, name, topic }: RoomUpdate, byId: string): Promise<Room> {
    const events = await this.events.rename(roomId, name ?? null, topic ?? null, byId);
    const room = toRoom(await this.db.room.findUniqueOrThrow({ where: { id: roomId } }));
    if (room.kind === "dm") throw new AppError("forbidden", "a direct message has no name or topic to change");
    if (events.length > 0) {
      this.delivery.toRoom(roomId, "room:updated", [room]);
      for (const event of events) this.delivery.toRoom(roomId, "room:event", [event]);
    }
    return room;
  }

  /**
   * The owner makes a member an admin, or an admin a member again; the
   * members' tabs are told (`member:role`). The owner's own role stays.
   */
  async setRole(actor: User, input: RoomRoleChange): Promise<void> {
    if ((await this.roleOf(actor, input.roomId)) !== "owner") throw new AppError("forbidden", "only the room's owner can name admins");
    return this.assignRole(input);
  }

  /** A backend makes a member an admin, or a member again. */
  async setRoleForBackend(input: RoomRoleChange): Promise<void> {
    if ((await this.db.room.count({ where: { id: input.roomId } })) === 0) throw new AppError("not_found", "no such room");
    return this.assignRole(input);
  }

  private async assignRole({ roomId, userId, role }: RoomRoleChange): Promise<void> {
    const member = await this.db.membership.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { role: true, room: { select: { kind: true } } } });
    if (!member) throw new AppError("not_found", "no such member in this room");
    if (member.room.kind === "dm") throw new AppError("forbidden", "a direct message has no admins");
    if (member.role === "owner") throw new AppError("forbidden", "the owner's role does not change");
    if (member.role === role) return;
    await this.db.membership.update({ where: { roomId_userId: { roomId, userId } }, data: { role } });
    this.delivery.toRoom(roomId, "member:role", [{ roomId, userId, role }]);
  }

  /** What the actor is notified of in a room; every tab of theirs hears it (`room:notifications`). */
  async setNotifications(actor: User, { roomId, level }: RoomNotifications): Promise<void> {
    const { count } = await this.db.membership.updateMany({ where: { roomId, userId: actor.id }, data: { notify: level } });
    if (count === 0) await this.roleOf(actor, roomId); // says why: no such room, or not a member
    this.delivery.toUser(actor.id, "room:notifications", [{ roomId, level }]);
  }

  /** Moves the actor's read marker forward (never back) and tells their other tabs. */
  async markRead(actor: User, { roomId, messageId }: RoomRead): Promise<void> {
    const id = BigInt(messageId);
    const { count } = await this.db.membership.updateMany({
      where: {
        roomId,
        userId: actor.id,
        OR: [{ lastReadMessageId: null }, { lastReadMessageId: { lt: id } }],
        // Only to a message of the room: the marker is shown to the other members as a read receipt.
        room: { messages: { some: { id } } },
      },
      data: { lastReadMessageId: id },
    });
    if (count === 0) {
      // Why not (only when nothing moved): not a member, no such message, or already read further.
      const member = await this.db.membership.count({ where: { roomId, userId: actor.id } });
      if (member === 0) throw new AppError("not_found", "you are not a member of this room");
      if ((await this.db.message.count({ where: { id, roomId } })) === 0) throw new AppError("not_found", "no such message in this room");
      return;
    }
    this.delivery.toUser(actor.id, "room:read", [{ roomId, messageId }]);
    this.delivery.toRoom(roomId, "member:read", [{ roomId, userId: actor.id, messageId }]);
  }

  /** Opens the DM between the actor and another user, creating it once. */
  async openDm(actor: User, { userId }: DmOpen): Promise<Room> {
    const peer = await this.db.user.findUnique({ where: { id: userId }, select: { id: true } });
    if (!peer) throw new AppError("not_found", "no such user");
    // Someone who blocked the actor takes no direct messages from them (the blocker may still open theirs, to read it).
    if ((await this.db.userBlock.count({ where: { userId, blockedId: actor.id } })) > 0) {
      throw new AppError("forbidden", "this person does not take direct messages from you");
    }
    const dmKey = dmKeyOf(actor.id, userId);
    const existing = await this.db.room.findUnique({ where: { dmKey } });
    if (existing) {
      const room = toRoom(existing);
      // Opening a DM one hid shows it again, in every tab.
      const { count } = await this.db.membership.updateMany({ where: { roomId: room.id, userId: actor.id, hiddenThrough: { not: null } }, data: { hiddenThrough: null } });
      if (count > 0) this.delivery.toUser(actor.id, "room:joined", [room]);
      return room;
    }
    const participants = [...new Set([actor.id, userId])];
    try {
      const row = await this.db.room.create({
        data: {
          id: randomUUID(),
          name: "Direct message",
          kind: "dm",
          visibility: "private",
          dmKey,
          createdById: actor.id,
          memberships: { create: participants.map((id) => ({ userId: id, role: "member" as const })) },
        },
      });
      const room = toRoom(row);
      for (const id of participants) this.announceJoin(id, room);
      return room;
    } catch (err) {
      // Both users opened the DM at once: the unique dmKey let one win.
      if (isUniqueViolation(err)) return toRoom(await this.db.room.findUniqueOrThrow({ where: { dmKey } }));
      throw err;
    }
  }

  /**
   * Hides a DM from the actor's list (Slack's "close"): it stays hidden
   * until a newer message arrives in it or they open it again. Every tab of
   * theirs is told (`room:hidden`); they still receive its messages.
   */
  async hideDm(actor: User, { roomId }: RoomRef): Promise<void> {
    const room = await this.db.room.findUnique({ where: { id: roomId }, select: { kind: true } });
    if (!room) throw new AppError("not_found", "no such room");
    if (room.kind !== "dm") throw new AppError("forbidden", "only a direct message can be hidden: leave a room instead");
    const newest = await this.db.message.findFirst({ where: { roomId }, orderBy: { id: "desc" }, select: { id: true } });
    const { count } = await this.db.membership.updateMany({ where: { roomId, userId: actor.id }, data: { hiddenThrough: newest?.id ?? 0n } });
    if (count === 0) throw new AppError("not_found", "you are not in this conversation");
    this.delivery.toUser(actor.id, "room:hidden", [{ roomId }]);
  }

  /** Throws unless the actor may read the room: members always, anyone for public groups. */
  async assertReadable(actor: User, roomId: string): Promise<void> {
    await this.readable(actor, roomId);
  }

  /** Throws unless the actor may react in the room: read it (a public room's, even before joining) and not be muted there. */
  async assertCanReact(actor: User, roomId: string): Promise<void> {
    const { muted, archived } = await this.readable(actor, roomId);
    if (archived) throw archivedError();
    if (muted) throw mutedError();
  }

  /** Whether the actor may read the room (throws otherwise), and whether they are muted there: one query. */
  private async readable(actor: User, roomId: string): Promise<{ muted: boolean; archived: boolean }> {
    const row = await this.db.room.findUnique({
      where: { id: roomId },
      select: {
        visibility: true,
        archivedAt: true,
        memberships: { where: { userId: actor.id }, select: { userId: true } },
        mutes: { where: { userId: actor.id }, select: { userId: true } },
      },
    });
    if (!row) throw new AppError("not_found", "no such room");
    if (row.visibility === "private" && row.memberships.length === 0) {
      throw new AppError("forbidden", "this room is private");
    }
    return { muted: row.mutes.length > 0, archived: row.archivedAt !== null };
  }

  /**
   * Throws unless the actor may write in the room (edit, pin, show typing):
   * a member who is not muted there. One query when they may.
   */
  async assertCanWrite(actor: User, roomId: string): Promise<void> {
    const [row] = await this.db.$queryRaw<Array<{ muted: boolean; archived: boolean; blocked: boolean }>>`
      SELECT EXISTS (SELECT 1 FROM "RoomMute" x WHERE x."roomId" = ${roomId} AND x."userId" = ${actor.id}) AS muted,
             r."archivedAt" IS NOT NULL AS archived,
             (r.kind = 'dm' AND EXISTS (SELECT 1 FROM "Membership" o JOIN "UserBlock" b
                ON (b."userId" = o."userId" AND b."blockedId" = ${actor.id}) OR (b."userId" = ${actor.id} AND b."blockedId" = o."userId")
              WHERE o."roomId" = r.id AND o."userId" <> ${actor.id})) AS blocked
      FROM "Membership" m JOIN "Room" r ON r.id = m."roomId" WHERE m."roomId" = ${roomId} AND m."userId" = ${actor.id}`;
    if (!row) await this.roleOf(actor, roomId); // says why: no such room, or not a member
    else if (row.archived) throw archivedError();
    else if (row.blocked) throw new AppError("forbidden", "you cannot write in this conversation");
    else if (row.muted) throw mutedError();
  }

  /** Throws unless the actor is a member (needed to send or show typing). */
  async assertMember(actor: User, roomId: string): Promise<void> {
    await this.roleOf(actor, roomId);
  }

  /** The actor's role in the room; throws unless a member (as assertMember does). */
  async roleOf(actor: User, roomId: string): Promise<Member["role"]> {
    const member = await this.db.membership.findUnique({
      where: { roomId_userId: { roomId, userId: actor.id } },
      select: { role: true },
    });
    if (member) return member.role;
    const exists = await this.db.room.count({ where: { id: roomId } });
    if (exists === 0) throw new AppError("not_found", "no such room");
    throw new AppError("forbidden", "join the room first");
  }

  /**
   * Tells a room's members who joined, and gives their timelines the lines
   * saying so (after the new members were subscribed: their own tabs hear it too).
   */
  private async announceMembers(roomId: string, users: User[], events: RoomEvent[]): Promise<void> {
    if (users.length === 0) return;
    const online = await this.presence.online(users.map((u) => u.id));
    for (const user of users) {
      const member = { user, role: "member" as const, online: online.has(user.id), lastReadMessageId: null };
      this.delivery.toRoom(roomId, "member:joined", [{ roomId, member }]);
    }
    for (const event of events) this.delivery.toRoom(roomId, "room:event", [event]);
  }

  /**
   * The owner or an admin archives a group room (read-only for everyone:
   * no messages, reactions, pins or uploads; still readable) or brings it
   * back; the members get `room:updated`.
   */
  async archive(actor: User, { roomId, archived }: RoomArchive): Promise<Room> {
    await this.moderatorOf(actor, roomId);
    return this.setArchived(roomId, archived);
  }

  async archiveForBackend({ roomId, archived }: RoomArchive): Promise<Room> {
    return this.setArchived(roomId, archived);
  }

  private async setArchived(roomId: string, archived: boolean): Promise<Room> {
    const current = await this.db.room.findUnique({ where: { id: roomId } });
    if (!current) throw new AppError("not_found", "no such room");
    if (current.kind === "dm") throw new AppError("forbidden", "a direct message cannot be archived");
    if ((current.archivedAt !== null) === archived) return toRoom(current);
    const row = await this.db.room.update({ where: { id: roomId }, data: { archivedAt: archived ? new Date() : null } });
    const room = toRoom(row);
    this.delivery.toRoom(roomId, "room:updated", [room]);
    return room;
  }

  /**
   * The owner deletes a group room: its messages, files and members go, and
   * every member's tabs get `room:left` with `reason: "deleted"`.
   */
  async delete(actor: User, { roomId }: RoomRef): Promise<void> {
    const room = await this.db.room.findUnique({ where: { id: roomId }, select: { kind: true } });
    if (!room) throw new AppError("not_found", "no such room");
    if (room.kind === "dm") throw new AppError("forbidden", "a direct message cannot be deleted: hide it instead");
    if ((await this.roleOf(actor, roomId)) !== "owner") throw new AppError("forbidden", "only the room's owner can delete it");
    await this.deleteRoom(roomId);
  }

  /** A backend deletes any room (a DM too). */
  async deleteForBackend({ roomId }: RoomRef): Promise<void> {
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    await this.deleteRoom(roomId);
  }

  private async deleteRoom(roomId: string): Promise<void> {
    const members = await this.db.membership.findMany({ where: { roomId }, select: { userId: true } });
    // Files first (their bytes live outside the row the room's deletion cascades to).
    await this.files.discardRoom(roomId);
    // Messages, memberships, reactions, threads, bans and lines go with the room (foreign keys cascade).
    const { count } = await this.db.room.deleteMany({ where: { id: roomId } });
    if (count === 0) return; // deleted meanwhile: that deletion announced it
    for (const { userId } of members) {
      this.delivery.removeUserFromRoom(userId, roomId);
      this.delivery.toUser(userId, "room:left", [{ roomId, reason: "deleted" }]);
    }
  }

  /** The user's tabs stop hearing the room and are told; the members who stay are told too, and get the line. */
  private announceLeave(userId: string, roomId: string, event: RoomEvent): void {
    this.delivery.removeUserFromRoom(userId, roomId);
    this.delivery.toUser(userId, "room:left", [{ roomId }]);
    this.delivery.toRoom(roomId, "member:left", [{ roomId, userId }]);
    this.delivery.toRoom(roomId, "room:event", [event]);
  }

  private announceJoin(userId: string, room: Room): void {
    this.delivery.addUserToRoom(userId, room.id);
    this.delivery.toUser(userId, "room:joined", [room]);
  }
}

/** What a muted member hears when they try to write. */
export function mutedError(): AppError {
  return new AppError("forbidden", "you are muted in this room");
}

export function archivedError(): AppError {
  return new AppError("forbidden", "this room is archived: it is read-only");
}

/**
 * The key naming the DM between two users: both ids in code-point order as a
 * JSON array. Unambiguous whatever the ids contain (joining with a space made
 * "a b"+"c" and "a"+"b c" one DM); the order is the database's "C" collation,
 * which the migration that introduced this form used.
 */
export function dmKeyOf(a: string, b: string): string {
  return JSON.stringify(Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a]);
}
