/**
 * The wire shapes of the realtime contract v1 and the HTTP API, as schemas:
 * the one description from which shared/protocol.ts takes its types and the
 * OpenAPI document its response schemas. Add fields, never rename them.
 */
import { z } from "zod";

export const userShape = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  avatar: z.string().optional().describe("URL path of their picture, 256×256 (absent: none; show their initials)"),
});

/** Who wrote a message, as it carries them. */
const authorShape = z.object({
  id: z.string(),
  displayName: z.string(),
  avatar: z.string().optional().describe("URL path of their picture when the message was read or sent (absent: none)"),
});

export const roomShape = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["group", "dm"]),
  visibility: z.enum(["public", "private"]),
  topic: z.string().optional().describe("what the room is for, set by its owner or admins (absent when none)"),
  archived: z.boolean().optional().describe("archived by its owner or an admin: read-only for everyone (absent when not)"),
  createdAt: z.string().describe("ISO-8601"),
});

export const notifyLevel = z.enum(["all", "mentions", "none"]);

export const roomSummaryShape = roomShape.extend({
  unread: z.number().int().describe("messages after the member's read marker, counted up to UNREAD_CAP"),
  mentions: z.number().int().describe("messages after the read marker that mention the member (by username or @room; thread replies included), up to UNREAD_CAP"),
  notifications: notifyLevel.describe("what the member is notified of here: every message, mentions only, or nothing"),
  lastReadMessageId: z.string().nullable(),
  peer: userShape.optional().describe("for DMs: the other participant (yourself for a DM with yourself)"),
  muted: z.literal(true).optional().describe("the member is muted here: they read, but cannot send, reply, react or pin (absent when not)"),
});

export const publicRoomShape = roomShape.extend({
  memberCount: z.number().int(),
  joined: z.boolean().describe("whether the asking user is already a member"),
});

export const memberShape = z.object({
  user: userShape,
  role: z.enum(["owner", "admin", "member"]).describe("the owner and admins change the room and delete any message in it"),
  online: z.boolean(),
  lastReadMessageId: z.string().nullable().describe("the member's read marker: they have read up to this message (read receipts)"),
  muted: z.literal(true).optional().describe("the owner or an admin muted them: they read, but cannot send, reply, react or pin here (absent when not)"),
});

export const reactionShape = z.object({
  emoji: z.string(),
  count: z.number().int().describe("how many people reacted with it"),
  userIds: z.array(z.string()).describe("who, in the order they reacted: up to REACTION_USERS_LISTED of them, the asker always among them"),
});

export const attachmentShape = z.object({
  id: z.string().describe("download it from /api/files/{id} (web UI and user tokens) or /api/v1/files/{id} (API keys)"),
  name: z.string().describe("the file's name as uploaded"),
  type: z.string().describe("MIME type: as uploaded, or what the server found an image to be"),
  size: z.number().int().describe("bytes"),
  image: z
    .object({ width: z.number().int(), height: z.number().int() })
    .optional()
    .describe("an image the server could read (JPEG, PNG, GIF, WebP, AVIF): its upright size; a thumbnail is at …/files/{id}/thumbnail"),
});

/** Who pinned a message, and when. */
export const pinShape = z.object({
  by: z.object({ id: z.string(), displayName: z.string() }).optional().describe("who pinned it (absent once that account is gone)"),
  at: z.string().describe("ISO-8601"),
});

export const messageShape = z.object({
  id: z.string().describe("decimal integer, ascending in sending order"),
  roomId: z.string(),
  authorId: z.string(),
  author: authorShape,
  body: z.string(),
  createdAt: z.string().describe("ISO-8601"),
  clientMsgId: z.string().optional(),
  editedAt: z.string().optional().describe("ISO-8601; present once the message was edited"),
  deletedAt: z.string().optional().describe("ISO-8601; present once the message was deleted (its body is then empty)"),
  threadId: z.string().optional().describe("a reply in a thread: the id of the thread's first message"),
  alsoInRoom: z.boolean().optional().describe("a reply also shown in the room's timeline"),
  thread: z
    .object({
      replies: z.number().int(),
      lastReplyAt: z.string().describe("ISO-8601"),
      lastReplier: z.object({ id: z.string(), displayName: z.string() }),
    })
    .optional()
    .describe("in history, on a message with replies: how many, and the latest"),
  mentions: z
    .array(z.string())
    .optional()
    .describe('who the body mentions: lower-case usernames, and "@room" for everyone in the room (absent when nobody)'),
  reactions: z
    .array(reactionShape)
    .optional()
    .describe("in history: the message's reactions, oldest emoji first (absent when none; a new message has none)"),
  attachments: z.array(attachmentShape).optional().describe("files sent with the message, in the order given (absent when none; gone once it is deleted)"),
  pinned: pinShape.optional().describe("in history and `room:pins`: who pinned the message to the room, and when (absent when not pinned)"),
});

export const roomBanShape = z.object({
  user: userShape,
  by: z.object({ id: z.string(), displayName: z.string() }).optional().describe("who banned them (absent once that account is gone)"),
  at: z.string().describe("ISO-8601"),
});

export const followedThreadShape = z.object({
  root: messageShape.describe("the thread's first message, with its `thread` summary (replies, the latest)"),
  unread: z.number().int().describe("replies by others after the user's read marker, counted up to UNREAD_CAP"),
  lastReadMessageId: z.string().nullable().describe("the last reply the user has read (null: none)"),
});

export const roomEventShape = z.object({
  id: z.string().describe("decimal integer, ascending in order of happening"),
  roomId: z.string(),
  kind: z
    .enum(["created", "joined", "left", "removed", "renamed", "topic"])
    .describe("`user` created the room, joined it (or was added), left it, was removed, renamed the room (to `value`), set its topic (to `value`)"),
  user: z.object({ id: z.string(), displayName: z.string() }),
  by: z.object({ id: z.string(), displayName: z.string() }).optional().describe("who added or removed the user, when a person did (not themselves, not a backend)"),
  value: z.string().optional().describe('renamed: the new name; topic: the new topic ("" when cleared); absent for the other kinds'),
  at: z.string().describe("ISO-8601"),
});

export const searchHitShape = z.object({
  message: messageShape,
  room: z.object({ id: z.string(), name: z.string(), kind: z.enum(["group", "dm"]) }),
});
