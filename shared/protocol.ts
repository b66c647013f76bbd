/**
 * Realtime contract v1: the wire shapes and event maps shared by the server
 * (`new Server<ClientToServerEvents, ServerToClientEvents, …>`) and the web UI
 * (`io() as Socket<ServerToClientEvents, ClientToServerEvents>`).
 * Names here are relied on by clients in other languages: add, never rename.
 * Documented for humans in docs/protocol.md.
 */
import type { z } from "zod";
import type { ChannelHistoryInput, ChannelInput, ChannelPresenceInput, ChannelPublishInput, Publication } from "./channels";
import type { ErrorBody } from "./errors";
export { MAX_BODY_LENGTH, MAX_PINS_PER_ROOM, MAX_REACTIONS_PER_MESSAGE, REACTION_USERS_LISTED, UNREAD_CAP } from "./limits";
import type { attachmentShape, followedThreadShape, memberShape, pinShape, roomBanShape, messageShape, notifyLevel, publicRoomShape, reactionShape, roomEventShape, roomShape, roomSummaryShape, searchHitShape, userShape } from "./shapes";
import type {
  DmOpenInput,
  MessageDeleteInput,
  MessageAroundInput,
  MessageEditInput,
  MessageHistoryInput,
  MessageNewerInput,
  MessagePinInput,
  ThreadListInput,
  ThreadReadInput,
  MessageSearchInput,
  MessageThreadInput,
  MessageSendInput,
  PresenceQueryInput,
  ReactionInput,
  RoomBrowseInput,
  RoomCreateInput,
  RoomIdInput,
  RoomMemberInput,
  RoomRemoveInput,
  RoomMuteInput,
  RoomRoleInput,
  RoomUpdateInput,
  RoomInviteInput,
  RoomListInput,
  RoomMembersInput,
  RoomNotificationsInput,
  RoomReadInput,
  TypingInput,
  UserSearchInput,
  ProfileUpdateInput,
  UserGetInput,
  RoomArchiveInput,
  UserBlockInput,
  EmptyInput,
} from "./schemas";

// The shapes themselves are schemas (shared/shapes.ts), which also describe them in the OpenAPI document.
export type User = z.output<typeof userShape>;
export type Room = z.output<typeof roomShape>;
export type RoomKind = Room["kind"];
export type RoomVisibility = Room["visibility"];
/** What a member is notified of in a room. */
export type NotifyLevel = z.output<typeof notifyLevel>;
/** A room as its member sees it in `room:list`: with `unread`, `lastReadMessageId` and, for DMs, `peer`. */
export type RoomSummary = z.output<typeof roomSummaryShape>;
export type Message = z.output<typeof messageShape>;
/** A public room as `room:browse` lists it: with `memberCount` and whether the asker has `joined`. */
export type PublicRoom = z.output<typeof publicRoomShape>;
export type Member = z.output<typeof memberShape>;
/** A message found by `message:search`, with the room it is in. */
export type SearchHit = z.output<typeof searchHitShape>;
/** One emoji's reactions on a message, as history carries them. */
export type Reaction = z.output<typeof reactionShape>;
export type Attachment = z.output<typeof attachmentShape>;
/** A reaction added or removed, as `reaction:added` / `reaction:removed` carry it. */
export interface ReactionEvent {
  roomId: string;
  messageId: string;
  emoji: string;
  userId: string;
}

/** Who pinned a message, and when (`message.pinned`). */
export type Pin = z.output<typeof pinShape>;
/** A message pinned, as `message:pinned` carries it. */
export interface PinEvent {
  roomId: string;
  messageId: string;
  pinned: Pin;
}
/** A message unpinned, as `message:unpinned` carries it: `by` is who unpinned it. */
export interface UnpinEvent {
  roomId: string;
  messageId: string;
  by: { id: string; displayName: string };
}

/** Someone banned from a group room, as `room:bans` lists them. */
export type RoomBanEntry = z.output<typeof roomBanShape>;
/** A thread the user takes part in (started it, or replied in it), as `thread:list` lists it. */
export type FollowedThread = z.output<typeof followedThreadShape>;

/**
 * A change of a group room's members ("Ada joined", "Bob left"), shown as a
 * line in its timeline: history pages carry those of their span of time,
 * `room:event` the new ones.
 */
export type RoomEvent = z.output<typeof roomEventShape>;

/** Every acknowledgement is one of these two shapes. */
export type Ack<T extends object = Record<string, never>> =
  | ({ ok: true } & T)
  | { ok: false; error: ErrorBody };

export type AckFn<T extends object = Record<string, never>> = (response: Ack<T>) => void;

export interface ClientToServerEvents {
  "room:create": (payload: RoomCreateInput, ack: AckFn<{ room: Room }>) => void;
  "room:join": (payload: RoomIdInput, ack: AckFn<{ room: Room }>) => void;
  "room:leave": (payload: RoomIdInput, ack: AckFn) => void;
  /** Renames a group room or sets its topic (its owner and admins); the members get `room:updated`. */
  "room:update": (payload: RoomUpdateInput, ack: AckFn<{ room: Room }>) => void;
  /** The owner or an admin removes someone from a group room (an admin: members only); their tabs get `room:left`. */
  "room:remove": (payload: RoomRemoveInput, ack: AckFn) => void;
  /** The owner or an admin mutes a member of a group room (read-only there), or lets them write again (an admin: members only; never the owner); the members get `member:muted`. */
  "room:mute": (payload: RoomMuteInput, ack: AckFn) => void;
  /** The owner or an admin lifts a ban. */
  "room:unban": (payload: RoomMemberInput, ack: AckFn) => void;
  /** Who is banned from a group room, the latest first (for its owner and admins). */
  "room:bans": (payload: RoomIdInput, ack: AckFn<{ bans: RoomBanEntry[] }>) => void;
  /** Makes a member an admin, or a member again (the owner); the members get `member:role`. */
  "room:role": (payload: RoomRoleInput, ack: AckFn) => void;
  /** A page of the user's rooms; `nextCursor` (as `after`) fetches the next one. */
  "room:list": (payload: RoomListInput, ack: AckFn<{ rooms: RoomSummary[]; nextCursor?: string }>) => void;
  /** A page of a room's members; `nextCursor` (as `after`) fetches the next one. */
  "room:members": (payload: RoomMembersInput, ack: AckFn<{ members: Member[]; nextCursor?: string }>) => void;
  "room:read": (payload: RoomReadInput, ack: AckFn) => void;
  /** What the user is notified of in a room they are a member of: every message, mentions only, or nothing. */
  "room:notifications": (payload: RoomNotificationsInput, ack: AckFn) => void;
  "dm:open": (payload: DmOpenInput, ack: AckFn<{ room: Room }>) => void;
  /** Hides a DM from the user's list until a newer message arrives or they open it again; their tabs get `room:hidden`. */
  "dm:hide": (payload: RoomIdInput, ack: AckFn) => void;
  /** The owner deletes a group room with its messages and files; every member's tabs get `room:left` with `reason: "deleted"`. */
  "room:delete": (payload: RoomIdInput, ack: AckFn) => void;
  "message:send": (payload: MessageSendInput, ack: AckFn<{ message: Message }>) => void;
  "message:history": (
    payload: MessageHistoryInput,
    ack: AckFn<{ messages: Message[]; hasMore: boolean; events: RoomEvent[] }>,
  ) => void;
  /** A page of a thread's replies, oldest first, with its first message; `before` pages back. */
  "message:thread": (payload: MessageThreadInput, ack: AckFn<{ root: Message; replies: Message[]; hasMore: boolean }>) => void;
  /** The threads the user takes part in, latest reply first, with their unread replies; `nextCursor` (as `before`) pages on. */
  "thread:list": (payload: ThreadListInput, ack: AckFn<{ threads: FollowedThread[]; nextCursor?: string }>) => void;
  /** Marks a thread read up to a reply; the user's tabs get `thread:read`. */
  "thread:read": (payload: ThreadReadInput, ack: AckFn) => void;
  /** The messages around one, oldest first: where a search result or a link to a message opens. */
  "message:around": (
    payload: MessageAroundInput,
    ack: AckFn<{ messages: Message[]; hasMore: boolean; hasNewer: boolean; events: RoomEvent[] }>,
  ) => void;
  /** The messages after one, oldest first: reading forward from a jump. */
  "message:newer": (payload: MessageNewerInput, ack: AckFn<{ messages: Message[]; hasNewer: boolean; events: RoomEvent[] }>) => void;
  /** Full-text search over every message the user may read, newest first; `nextCursor` (as `before`) pages on. */
  "message:search": (payload: MessageSearchInput, ack: AckFn<{ hits: SearchHit[]; terms: string[]; nextCursor?: string }>) => void;
  /** The author changes a message's text; the room gets `message:updated`. */
  "message:edit": (payload: MessageEditInput, ack: AckFn<{ message: Message }>) => void;
  /** The author, or the room's owner, deletes a message; the room gets `message:deleted`. */
  "message:delete": (payload: MessageDeleteInput, ack: AckFn) => void;
  /** Reacts to a message of a room the user may read with one emoji; again changes nothing. The room gets `reaction:added`. */
  "reaction:add": (payload: ReactionInput, ack: AckFn) => void;
  /** Takes the user's reaction back; one that is not there changes nothing. The room gets `reaction:removed`. */
  "reaction:remove": (payload: ReactionInput, ack: AckFn) => void;
  /** Pins a message of the room's timeline (any member who is not muted; at most MAX_PINS_PER_ROOM); again changes nothing. The room gets `message:pinned`. */
  "message:pin": (payload: MessagePinInput, ack: AckFn) => void;
  /** Unpins it (any member who is not muted); one not pinned changes nothing. The room gets `message:unpinned`. */
  "message:unpin": (payload: MessagePinInput, ack: AckFn) => void;
  /** The room's pinned messages, newest pin first, each with `pinned`. */
  "room:pins": (payload: RoomIdInput, ack: AckFn<{ pins: Message[] }>) => void;
  typing: (payload: TypingInput, ack?: AckFn) => void;
  "room:invite": (payload: RoomInviteInput, ack: AckFn<{ added: string[] }>) => void;
  "room:browse": (payload: RoomBrowseInput, ack: AckFn<{ rooms: PublicRoom[] }>) => void;
  "user:search": (payload: UserSearchInput, ack: AckFn<{ users: User[] }>) => void;
  /** One person and whether they are online (a user card); `not_found` for an unknown id. */
  "user:get": (payload: UserGetInput, ack: AckFn<{ user: User; online: boolean }>) => void;
  /** Changes your display name; everyone who shares a room with you, and your tabs, get `user:updated`. */
  "user:update": (payload: ProfileUpdateInput, ack: AckFn<{ user: User }>) => void;
  /** Blocks someone (or stops): no writing in your DM with them, they cannot open one; your tabs get `user:blocked`. */
  "user:block": (payload: UserBlockInput, ack: AckFn) => void;
  /** The people you block, the latest first. */
  "user:blocks": (payload: EmptyInput, ack: AckFn<{ users: User[] }>) => void;
  /** Archives a group room (read-only for everyone) or brings it back (its owner and admins); the members get `room:updated`. */
  "room:archive": (payload: RoomArchiveInput, ack: AckFn<{ room: Room }>) => void;
  "presence:query": (payload: PresenceQueryInput, ack: AckFn<{ online: string[] }>) => void;
}

export interface ServerToClientEvents {
  "message:new": (message: Message) => void;
  /** A message was edited: the whole message, with its new body and `editedAt`. */
  "message:updated": (message: Message) => void;
  /** A message was deleted: what is left of it (its body empty, `deletedAt` set), to show in its place. */
  "message:deleted": (message: Message) => void;
  /** Someone reacted to a message of the room (sent once per new reaction). */
  "reaction:added": (payload: ReactionEvent) => void;
  /** Someone took their reaction back; deleting a message drops its reactions without this event. */
  "reaction:removed": (payload: ReactionEvent) => void;
  /** Someone pinned a message of the room: its id, who and when (`pinned`). */
  "message:pinned": (payload: PinEvent) => void;
  /** Someone unpinned a message (`by`: who); deleting a message unpins it without this event. */
  "message:unpinned": (payload: UnpinEvent) => void;
  "room:joined": (room: Room) => void;
  /** To the room's members (the new one's tabs included) when someone joins, is invited or added to a group room. */
  "member:joined": (payload: { roomId: string; member: Member }) => void;
  /** To the room's members when one of them moves their read marker forward (read receipts). */
  "member:read": (payload: { roomId: string; userId: string; messageId: string }) => void;
  /** To the room's remaining members when someone leaves or is removed. */
  "member:left": (payload: { roomId: string; userId: string }) => void;
  /** To the room's members: a line for its timeline when someone joins, is added, leaves or is removed. */
  "room:event": (event: RoomEvent) => void;
  /** To everyone who shares a room with a person, and to their own tabs, when their name or picture changed: who they are now. */
  "user:updated": (user: User) => void;
  /** To every tab of a user who blocked someone, or stopped. */
  "user:blocked": (payload: { userId: string; blocked: boolean }) => void;
  /** To the room's members when its name or topic changed: the room as it is now. */
  "room:updated": (room: Room) => void;
  /** To the room's members when one of them became an admin, or a member again. */
  "member:role": (payload: { roomId: string; userId: string; role: Member["role"] }) => void;
  /** To the room's members when one of them was muted (read-only there) or may write again; `by`: who did it (absent for a backend). */
  "member:muted": (payload: { roomId: string; userId: string; muted: boolean; by?: { id: string; displayName: string } }) => void;
  /** Sent to every tab of a user who hid a DM (`dm:hide`): drop it from the list; its messages still come, and bring it back. */
  "room:hidden": (payload: { roomId: string }) => void;
  /** Sent to every tab of a user who left (or was removed from) a room. */
  "room:left": (payload: { roomId: string; reason?: "deleted" }) => void;
  /** Sent to every tab of a user when one of them changes what they are notified of in a room. */
  "room:notifications": (payload: { roomId: string; level: NotifyLevel }) => void;
  /** To every tab of the users who take part in a thread (its author excepted): a new reply in it (the room gets `message:new` too). */
  "thread:reply": (message: Message) => void;
  /** Sent to every tab of a user when one of them marks a thread read. */
  "thread:read": (payload: { roomId: string; threadId: string; messageId: string }) => void;
  /** Sent to every tab of a user when one of them marks a room read. */
  "room:read": (payload: { roomId: string; messageId: string }) => void;
  typing: (payload: { roomId: string; userId: string; typing: boolean }) => void;
  presence: (payload: { userId: string; online: boolean }) => void;
  /**
   * The connection's session ended: signed out (here or everywhere), the
   * password changed elsewhere, or the token expired. The server closes the
   * connection right after; reconnecting needs a new token.
   */
  "session:ended": (payload: { reason: SessionEndReason }) => void;
  /** An event that had no acknowledgement callback to carry its error. */
  "protocol:error": (payload: { event: string; error: ErrorBody }) => void;
}

export type SessionEndReason = "signed_out" | "password_changed" | "expired";

/** The channel events every non-chat namespace serves (which of them a namespace allows is its settings'). */
export interface ChannelClientToServerEvents {
  "channel:subscribe": (payload: ChannelInput, ack: AckFn) => void;
  "channel:unsubscribe": (payload: ChannelInput, ack: AckFn) => void;
  "channel:publish": (payload: ChannelPublishInput, ack: AckFn<{ publication: Publication }>) => void;
  /** A page of the channel's history, oldest first; `before` (a publication id) pages back. */
  "channel:history": (payload: ChannelHistoryInput, ack: AckFn<{ publications: Publication[]; hasMore: boolean }>) => void;
  /** A page of the channel's subscribers, by client id; `nextCursor` (as `after`) fetches the next one. */
  "channel:presence": (
    payload: ChannelPresenceInput,
    ack: AckFn<{ clients: Array<{ clientId: string; userId: string | null }>; nextCursor?: string }>,
  ) => void;
}

/** What a non-chat namespace sends on its own (besides whatever events backends send to its clients). */
export interface ChannelServerToClientEvents {
  /** The first event after connecting: the id a backend reaches this client by. */
  "client:hello": (payload: { clientId: string; userId: string | null }) => void;
  /** Something a client published to a channel this connection is subscribed to. */
  publication: (publication: Publication) => void;
  /** With `onConnectionLimit: "replace-oldest"`: a newer connection of the same user took this one's place; it is closed next. */
  "connection:replaced": (payload: { by: string }) => void;
  "session:ended": ServerToClientEvents["session:ended"];
  "protocol:error": ServerToClientEvents["protocol:error"];
}

/** Server-to-server events (through the adapter once several instances run). */
export interface InterServerEvents {
  /** An instance's Redis came back after an outage: every instance re-checks its connections' rooms and sessions. */
  "sb:resync": () => void;
  /** A person's profile changed: each instance updates its connections of theirs. */
  "sb:user": (user: User) => void;
}

/** What the server keeps on each socket (`socket.data`): the user, or null for an anonymous connection. */
export interface SocketData {
  user: User | null;
  /** The Switchboard session the connection's token belongs to (null: anonymous or a host-application token). */
  sessionId?: string | null;
  /** When the connection's token expires (ms since the epoch); the server closes the connection then. */
  expiresAt?: number;
}
