/**
 * Payload schemas for every client event and HTTP body of contract v1.
 * The server validates with them; the UI may reuse them for forms.
 */
import { z } from "zod";
import { MAX_ATTACHMENTS_PER_MESSAGE, MAX_BODY_LENGTH } from "./limits";
import { notifyLevel } from "./shapes";
import { cleanDisplayName, displayName, emoji, identifier, text } from "./text";

/** Ids the server hands out: UUIDs for users and rooms, but host apps choose
 * their own user ids, so accept any short printable string. */
const id = identifier();
/** The largest id PostgreSQL's bigint holds (2^63 - 1). */
const MAX_BIGINT_ID = 2n ** 63n - 1n;

/** Whether a string is an id the database can hold: a positive decimal integer up to 2^63 - 1. */
export function isMessageId(s: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(s) && BigInt(s) <= MAX_BIGINT_ID;
}

/** Message ids are positive integers sent as decimal strings (bigints: a larger one could not be compared in the database). */
export const messageId = z.string().refine(isMessageId, "expected a message id");

export const usernameSchema = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[a-zA-Z0-9_.-]+$/, "letters, digits, '_', '.', '-' only");
export const passwordSchema = text().min(8).max(256);

/** A message body: 1–4,000 characters, not only spaces. */
export function messageBody() {
  return text().max(MAX_BODY_LENGTH).refine((s) => s.trim().length > 0, "body is empty");
}

export const registerInput = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  displayName: displayName().optional(),
});
export const loginInput = z.strictObject({
  username: text().min(1).max(64),
  password: text().min(1).max(256),
});

export const passwordChangeInput = z.strictObject({
  currentPassword: text().min(1).max(256),
  newPassword: passwordSchema,
});
/** `POST /api/auth/logout`: this session, or `everywhere` (every session of the account). */
export const logoutInput = z.strictObject({ everywhere: z.boolean().default(false) }).default({ everywhere: false });

/** A group room's name: cleaned as display names are, then 1–80 characters. */
const roomName = text().transform(cleanDisplayName).pipe(z.string().min(1, "name is empty").max(80));
/** A room's topic: one line (cleaned as names are), at most 250 characters; "" clears it. */
const roomTopic = text().transform(cleanDisplayName).pipe(z.string().max(250));
export const roomCreateInput = z.strictObject({
  name: roomName,
  visibility: z.enum(["public", "private"]).default("public"),
  memberIds: z.array(id).max(100).default([]),
});
export const roomIdInput = z.strictObject({ roomId: id });
/** A group room archived (read-only) or brought back, by its owner or an admin (a backend too). */
export const roomArchiveInput = z.strictObject({ roomId: id, archived: z.boolean() });
/** An event that takes nothing: `{}`, or no payload at all. */
export const emptyInput = z.strictObject({}).default({});
/** Someone blocked or unblocked. */
export const userBlockInput = z.strictObject({ userId: id, blocked: z.boolean() });
/** What changes in a group room: its name, its topic, or both (its owner and admins may; a backend too). */
export const roomSettings = z
  .strictObject({ name: roomName.optional(), topic: roomTopic.optional() })
  .refine((u) => u.name !== undefined || u.topic !== undefined, "give name, topic or both");
export const roomUpdateInput = roomSettings.safeExtend({ roomId: id });
/** A member of a room, named by its owner or an admin (`room:unban`). */
export const roomMemberInput = z.strictObject({ roomId: id, userId: id });
/** Someone removed from a room by its owner or an admin, and with `ban` kept out of it. */
export const roomRemoveInput = roomMemberInput.extend({ ban: z.boolean().optional().describe("also ban them: no joining or invitation until unbanned") });
/** Whether a member may only read a group room (muted) or write again; its owner and admins decide (a backend too). */
export const muteState = z.strictObject({ muted: z.boolean().describe("true mutes them (read-only in this room), false lets them write again") });
export const roomMuteInput = muteState.extend({ roomId: id, userId: id });
/** A member made an admin of a group room, or a member again (its owner may; a backend too). */
export const memberRole = z.strictObject({ role: z.enum(["admin", "member"]) });
export const roomRoleInput = memberRole.extend({ roomId: id, userId: id });
/** A position in a paged list: the `nextCursor` of the previous page. */
const cursor = text().min(1).max(400);
/** `room:list` takes `{}` (the first page); a client may also send no payload at all. */
export const roomListInput = z
  .strictObject({ limit: z.number().int().min(1).max(500).default(200), after: cursor.optional() })
  .default({ limit: 200 });
export const roomMembersInput = z.strictObject({
  roomId: id,
  limit: z.number().int().min(1).max(500).default(100),
  after: cursor.optional(),
});
export const roomReadInput = z.strictObject({ roomId: id, messageId });
export const roomNotificationsInput = z.strictObject({ roomId: id, level: notifyLevel });
export const dmOpenInput = z.strictObject({ userId: id });
/** Where a message goes: the room, or a thread of it (and then, with `alsoToRoom`, the room too). */
const threadTarget = {
  threadId: messageId.optional().describe("reply in the thread of this message of the room"),
  alsoToRoom: z.boolean().optional().describe("a reply also shown in the room's timeline"),
};
/** Files uploaded into the room (`POST /api/rooms/{roomId}/files`) that the message carries; its body is then a caption and may be empty. */
const withFiles = {
  attachmentIds: z
    .array(z.uuid())
    .min(1)
    .max(MAX_ATTACHMENTS_PER_MESSAGE)
    .refine((ids) => new Set(ids).size === ids.length, "an attachment is given twice")
    .optional()
    .describe("uploads of the sender's in this room, not yet sent"),
};
/** A body, or files with an optional caption. */
const bodyOrFiles = [
  (m: { body: string; attachmentIds?: string[] }) => m.body.trim().length > 0 || (m.attachmentIds?.length ?? 0) > 0,
  { message: "body is empty", path: ["body"] as string[] },
] as const;
/** Text sent with files: may be empty. */
const caption = () => text().max(MAX_BODY_LENGTH).default("");
const alsoNeedsThread = [(m: { threadId?: string; alsoToRoom?: boolean }) => !m.alsoToRoom || m.threadId !== undefined, "alsoToRoom is for replies (give threadId)"] as const;
export const messageSendInput = z
  .strictObject({
    roomId: id,
    body: caption(),
    clientMsgId: identifier(64).optional(),
    ...threadTarget,
    ...withFiles,
  })
  .refine(...bodyOrFiles)
  .refine(...alsoNeedsThread);
export { alsoNeedsThread, bodyOrFiles, caption, threadTarget, withFiles };
/** The message a change names, in its room. */
const messageRef = { roomId: id, messageId };
export const messageEditInput = z.strictObject({ ...messageRef, body: messageBody() });
export const messageDeleteInput = z.strictObject(messageRef);
/** `message:pin` / `message:unpin`: a message of the room's timeline. */
export const messagePinInput = z.strictObject(messageRef);
/** `reaction:add` / `reaction:remove`: one emoji on one message. */
export const reactionInput = z.strictObject({ ...messageRef, emoji: emoji() });
/** A thread's replies, oldest first, paged back with `before`. */
export const messageThreadInput = z.strictObject({
  roomId: id,
  threadId: messageId,
  before: messageId.optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export const messageHistoryInput = z.strictObject({
  roomId: id,
  before: messageId.optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
/** Messages around one (a jump to a search result or a shared link): `limit` in all, half of them before it. */
export const messageAroundInput = z.strictObject({
  roomId: id,
  messageId,
  limit: z.number().int().min(2).max(100).default(50),
});
/** The threads the user takes part in, latest reply first; `before` is the previous page's `nextCursor`. */
export const threadListInput = z
  .strictObject({ before: messageId.optional(), limit: z.number().int().min(1).max(50).default(20) })
  .default({ limit: 20 });
/** How far the user has read a thread: up to this reply (markers only move forward). */
export const threadReadInput = z.strictObject({ roomId: id, threadId: messageId, messageId });
/** Newer messages than `after`, oldest first (reading forward from a jump). */
export const messageNewerInput = z.strictObject({
  roomId: id,
  after: messageId,
  limit: z.number().int().min(1).max(100).default(50),
});
/** A point in time for search filters: ISO-8601 with a time zone, or a day (`2026-12-05`, from its start in UTC). */
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).refine((s) => !Number.isNaN(Date.parse(s)), "not a date");
export const messageSearchInput = z.strictObject({
  query: text().trim().min(1).max(200),
  roomId: id.optional(),
  authorId: id.optional(),
  since: instant.optional().describe("only messages sent at or after this time"),
  until: instant.optional().describe("only messages sent before this time"),
  before: messageId.optional().describe("the `nextCursor` of the previous page"),
  limit: z.number().int().min(1).max(50).default(20),
});
export const typingInput = z.strictObject({ roomId: id, typing: z.boolean() });
export const roomInviteInput = z.strictObject({ roomId: id, userIds: z.array(id).min(1).max(100) });
export const userSearchInput = z.strictObject({ query: text().trim().min(1).max(64) });
/** What a person changes of how they show (their picture goes over HTTP: `PUT /api/me/avatar`). */
export const profileUpdateInput = z.strictObject({ displayName: displayName() });
/** One person, by id (a user card). */
export const userGetInput = z.strictObject({ userId: id });
export const roomBrowseInput = z.strictObject({ query: text().trim().max(80).default("") }).default({ query: "" });
export const presenceQueryInput = z.strictObject({ userIds: z.array(id).max(500) });

export type RegisterInput = z.input<typeof registerInput>;
export type LoginInput = z.input<typeof loginInput>;
export type RoomCreateInput = z.input<typeof roomCreateInput>;
export type RoomIdInput = z.input<typeof roomIdInput>;
export type RoomUpdateInput = z.input<typeof roomUpdateInput>;
export type RoomRoleInput = z.input<typeof roomRoleInput>;
export type RoomMemberInput = z.input<typeof roomMemberInput>;
export type RoomRemoveInput = z.input<typeof roomRemoveInput>;
export type RoomMuteInput = z.input<typeof roomMuteInput>;
export type RoomListInput = z.input<typeof roomListInput>;
export type RoomMembersInput = z.input<typeof roomMembersInput>;
export type RoomReadInput = z.input<typeof roomReadInput>;
export type RoomNotificationsInput = z.input<typeof roomNotificationsInput>;
export type DmOpenInput = z.input<typeof dmOpenInput>;
export type MessageSendInput = z.input<typeof messageSendInput>;
export type MessageHistoryInput = z.input<typeof messageHistoryInput>;
export type MessageThreadInput = z.input<typeof messageThreadInput>;
export type MessageAroundInput = z.input<typeof messageAroundInput>;
export type MessageNewerInput = z.input<typeof messageNewerInput>;
export type ThreadListInput = z.input<typeof threadListInput>;
export type ThreadReadInput = z.input<typeof threadReadInput>;
export type MessageSearchInput = z.input<typeof messageSearchInput>;
export type MessageEditInput = z.input<typeof messageEditInput>;
export type MessageDeleteInput = z.input<typeof messageDeleteInput>;
export type ReactionInput = z.input<typeof reactionInput>;
export type MessagePinInput = z.input<typeof messagePinInput>;
export type TypingInput = z.input<typeof typingInput>;
export type RoomInviteInput = z.input<typeof roomInviteInput>;
export type UserSearchInput = z.input<typeof userSearchInput>;
export type ProfileUpdateInput = z.input<typeof profileUpdateInput>;
export type UserGetInput = z.input<typeof userGetInput>;
export type RoomArchiveInput = z.input<typeof roomArchiveInput>;
export type UserBlockInput = z.input<typeof userBlockInput>;
export type EmptyInput = z.input<typeof emptyInput>;
export type RoomBrowseInput = z.input<typeof roomBrowseInput>;
export type PresenceQueryInput = z.input<typeof presenceQueryInput>;

/** Validated shapes (defaults applied), as the core receives them. */
export type Register = z.output<typeof registerInput>;
export type Login = z.output<typeof loginInput>;
export type PasswordChange = z.output<typeof passwordChangeInput>;
export type RoomCreate = z.output<typeof roomCreateInput>;
export type RoomRef = z.output<typeof roomIdInput>;
export type RoomUpdate = z.output<typeof roomUpdateInput>;
export type RoomRoleChange = z.output<typeof roomRoleInput>;
export type RoomMemberRef = z.output<typeof roomMemberInput>;
export type RoomRemoval = z.output<typeof roomRemoveInput>;
export type RoomMuteChange = z.output<typeof roomMuteInput>;
export type RoomListPage = z.output<typeof roomListInput>;
export type RoomMembersPage = z.output<typeof roomMembersInput>;
export type RoomRead = z.output<typeof roomReadInput>;
export type RoomNotifications = z.output<typeof roomNotificationsInput>;
export type DmOpen = z.output<typeof dmOpenInput>;
export type MessageSend = z.output<typeof messageSendInput>;
export type MessageHistory = z.output<typeof messageHistoryInput>;
export type MessageThread = z.output<typeof messageThreadInput>;
export type MessageAround = z.output<typeof messageAroundInput>;
export type MessageNewer = z.output<typeof messageNewerInput>;
export type ThreadList = z.output<typeof threadListInput>;
export type ThreadRead = z.output<typeof threadReadInput>;
export type MessageSearch = z.output<typeof messageSearchInput>;
export type MessageEdit = z.output<typeof messageEditInput>;
export type MessageDelete = z.output<typeof messageDeleteInput>;
export type ReactionChange = z.output<typeof reactionInput>;
export type MessagePin = z.output<typeof messagePinInput>;
export type Typing = z.output<typeof typingInput>;
export type RoomInvite = z.output<typeof roomInviteInput>;
export type UserSearch = z.output<typeof userSearchInput>;
export type ProfileUpdate = z.output<typeof profileUpdateInput>;
export type RoomArchive = z.output<typeof roomArchiveInput>;
export type UserBlockChange = z.output<typeof userBlockInput>;
export type RoomBrowse = z.output<typeof roomBrowseInput>;
export type PresenceQuery = z.output<typeof presenceQueryInput>;
