/** Database rows to the wire shapes of contract v1 (ids as strings, times ISO-8601). */
import type { Message, Room, RoomEvent, User } from "../../shared/protocol";

export function toUser(row: { id: string; username: string; displayName: string; avatarKey?: string | null }): User {
  const user: User = { id: row.id, username: row.username, displayName: row.displayName };
  if (row.avatarKey) user.avatar = avatarUrl(row.avatarKey);
  return user;
}

/** Where a profile picture is served (its key changes with every new picture, so the URL can be cached for good). */
export function avatarUrl(key: string): string {
  return `/api/avatars/${key}`;
}

/** A message's author: as the database row holds them (`avatarKey`) or as a user (`avatar`). */
export interface AuthorRow {
  id: string;
  displayName: string;
  avatarKey?: string | null;
  avatar?: string;
}

function toAuthor(a: AuthorRow): Message["author"] {
  const avatar = a.avatar ?? (a.avatarKey ? avatarUrl(a.avatarKey) : undefined);
  return avatar ? { id: a.id, displayName: a.displayName, avatar } : { id: a.id, displayName: a.displayName };
}

export function toRoom(row: {
  id: string;
  name: string;
  kind: Room["kind"];
  visibility: Room["visibility"];
  topic?: string;
  archivedAt?: Date | null;
  createdAt: Date;
}): Room {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    visibility: row.visibility,
    ...(row.topic ? { topic: row.topic } : {}),
    ...(row.archivedAt ? { archived: true } : {}),
    createdAt: row.createdAt.toISOString(),
  };
}

/** A message as the database holds it (edit and deletion times where they were read). */
export interface MessageRow {
  id: bigint;
  roomId: string;
  authorId: string;
  body: string;
  clientMsgId: string | null;
  createdAt: Date;
  editedAt?: Date | null;
  deletedAt?: Date | null;
  mentions?: string[];
  threadId?: bigint | null;
  alsoInRoom?: boolean;
}

export function toMessage(row: MessageRow, author: AuthorRow): Message {
  const message: Message = {
    id: row.id.toString(),
    roomId: row.roomId,
    authorId: row.authorId,
    author: toAuthor(author),
    body: row.body,
    createdAt: row.createdAt.toISOString(),
  };
  if (row.clientMsgId !== null) message.clientMsgId = row.clientMsgId;
  if (row.editedAt) message.editedAt = row.editedAt.toISOString();
  if (row.deletedAt) message.deletedAt = row.deletedAt.toISOString();
  else if (row.mentions && row.mentions.length > 0) message.mentions = row.mentions;
  if (row.threadId) message.threadId = row.threadId.toString();
  if (row.alsoInRoom) message.alsoInRoom = true;
  return message;
}

/** A room event as read with its people's names (room-events.ts). */
export interface RoomEventRow {
  id: bigint;
  roomId: string;
  kind: RoomEvent["kind"];
  createdAt: Date;
  userId: string;
  userName: string;
  byId: string | null;
  byName: string | null;
  value: string | null;
}

export function toRoomEvent(row: RoomEventRow): RoomEvent {
  const event: RoomEvent = {
    id: row.id.toString(),
    roomId: row.roomId,
    kind: row.kind,
    user: { id: row.userId, displayName: row.userName },
    at: row.createdAt.toISOString(),
  };
  if (row.byId !== null && row.byName !== null) event.by = { id: row.byId, displayName: row.byName };
  if (row.value !== null) event.value = row.value;
  return event;
}
