/**
 * HTTP API v1 (the gateway for backends): request and response schemas.
 * They validate requests AND generate /api/v1/openapi.json, so the document
 * cannot drift from what the server accepts. Documented in docs/api.md.
 */
import { z } from "zod";
import { errorBodyShape } from "./errors";
import { alsoNeedsThread, bodyOrFiles, caption, messageBody, messageHistoryInput, messageSearchInput, roomCreateInput, threadTarget, withFiles } from "./schemas";
import { displayName, identifier, jsonData, text } from "./text";

/** Names Socket.IO reserves on the client side; a backend may not emit them. */
const RESERVED_EVENTS = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

export const id = identifier().describe("an id");
export const eventName = text()
  .min(1)
  .max(100)
  .refine((e) => !RESERVED_EVENTS.includes(e), "this event name is reserved by Socket.IO")
  .describe("the Socket.IO event name clients listen to");
export const namespaceName = z
  .string()
  .regex(/^\/([a-z0-9][a-z0-9_-]{0,39})?$/, "a namespace is '/' or '/' followed by a lowercase name")
  .default("/")
  .describe("Socket.IO namespace; `/` is the chat namespace");
export const channelName = text().min(1).max(200);
const ids = (what: string) => z.array(id).max(1000).describe(what);

export const emitBody = z.strictObject({
  event: eventName,
  data: jsonData.optional().describe("any JSON value, delivered as the event's argument"),
});

export const publishBody = z
  .strictObject({
    event: eventName,
    data: jsonData.optional().describe("any JSON value, delivered as the event's argument"),
    rooms: ids("persistent room ids (their members' connections)").optional(),
    users: ids("user ids (every connection of each)").optional(),
    clients: ids("client (connection) ids").optional(),
    groups: z.array(channelName).max(1000).describe("ad-hoc connection groups").optional(),
    channels: z.array(channelName).max(1000).describe("channels clients subscribed to").optional(),
    all: z.boolean().optional().describe("every connection of the namespace"),
    namespace: namespaceName,
  })
  .refine(
    (b) => b.all || [b.rooms, b.users, b.clients, b.groups, b.channels].some((t) => t && t.length > 0),
    "name at least one target: rooms, users, clients, groups, channels or all",
  );

export const bindBody = z.strictObject({ userId: id });

export const createRoomBody = roomCreateInput;
export const addMembersBody = z.strictObject({ userIds: z.array(id).min(1).max(100) });
export const postMessageBody = z
  .strictObject({
    body: caption(),
    clientMsgId: identifier(64).optional().describe("makes the call idempotent, as for clients"),
    userId: id.optional().describe("post as this existing user"),
    bot: z
      .strictObject({ id: z.string().regex(/^[a-z0-9_-]{1,40}$/), name: displayName() })
      .optional()
      .describe("post as a named bot (created on first use); neither userId nor bot: as the system"),
    ...threadTarget,
    ...withFiles,
  })
  .refine(...bodyOrFiles)
  .refine((b) => !(b.userId && b.bot), "give userId or bot, not both")
  .refine(...alsoNeedsThread);
export const editMessageBody = z.strictObject({ body: messageBody() });
/** Who a backend reacts as (`userId` or `bot`, not both): neither is the system, as for posts. */
export const reactorQuery = z.strictObject({
  userId: id.optional().describe("react as this existing user"),
  bot: z.string().regex(/^[a-z0-9_-]{1,40}$/).optional().describe("react as this bot (`bot:<id>`; created on first use, named by its id until it posts)"),
});
/** Whom a backend acts for in a room's moderation (neither: the backend itself, which may do anything but change the owner). */
export const moderatorQuery = z.strictObject({
  by: id
    .optional()
    .describe("act as this member of the room (a moderator of your application): their rights are checked as for the client event (`room:update`, `room:remove`, `room:mute`…), and events and timeline lines name them"),
});
/** Who a backend uploads a file as (`userId` or `bot`, not both; neither: the system) — the message carrying it must post as the same. */
export const uploaderQuery = z
  .strictObject({
    userId: id.optional().describe("upload as this existing user"),
    bot: z.string().regex(/^[a-z0-9_-]{1,40}$/).optional().describe("upload as this bot (`bot:<id>`)"),
  })
  .refine((q) => !(q.userId && q.bot), "give userId or bot, not both");
export const historyQuery = messageHistoryInput.omit({ roomId: true }).extend({
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
/** `message:search`'s filters, from a query string. */
export const searchQuery = messageSearchInput.extend({
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export const namespaceQuery = z.strictObject({ namespace: namespaceName });
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe("at most this many items"),
  after: text().min(1).max(400).optional().describe("the `nextCursor` of the previous page"),
});

// ---- responses ----
export const clientInfo = z.object({
  id: z.string(),
  userId: z.string().nullable(),
  groups: z.array(z.string()),
});
export type ClientInfo = z.output<typeof clientInfo>;

export type PublishBody = z.output<typeof publishBody>;
export type EmitBody = z.output<typeof emitBody>;
export type PostMessageBody = z.output<typeof postMessageBody>;

export const errorSchema = z.object({ error: errorBodyShape });
