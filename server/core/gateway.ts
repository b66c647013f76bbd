/**
 * The gateway for backends: every operation described once — its name, input
 * and output schemas, what it does, and where it lives on the HTTP API v1.
 * Everything else is derived from this table: the HTTP routes
 * (http/api-v1.ts), the OpenAPI document (http/openapi.ts), the queue
 * inlet's commands (every operation that is not a GET, under its name:
 * inlet/commands.ts), the tables in docs/api.md (scripts/api-docs.ts) and
 * `core.gateway`, one typed method per operation for code inside the
 * process (plugins, tests).
 *
 * Connection ids are Socket.IO socket ids ("clients"), users are Switchboard
 * user ids, groups are ad-hoc connection groups, rooms are persistent.
 */
import { z } from "zod";
import {
  addMembersBody,
  bindBody,
  channelName,
  type ClientInfo,
  clientInfo,
  createRoomBody,
  editMessageBody,
  emitBody,
  historyQuery,
  id,
  moderatorQuery,
  namespaceQuery,
  pageQuery,
  postMessageBody,
  publishBody,
  reactorQuery,
  searchQuery,
} from "../../shared/gateway";
import { memberRole, messageId, muteState, roomSettings } from "../../shared/schemas";
import { emoji } from "../../shared/text";
import { MAX_PINS_PER_ROOM } from "../../shared/limits";
import { messageShape, roomBanShape, roomEventShape, roomShape, searchHitShape } from "../../shared/shapes";
import type { Channels } from "./channels";
import type { Connections, Selector } from "./connections";
import { AppError, parseInput } from "./errors";
import type { Messages } from "./messages";
import type { Pins } from "./pins";
import { pageOf } from "./paging";
import type { Reactions } from "./reactions";
import type { Rooms } from "./rooms";
import type { MessageSearcher } from "./search";

/** What the operations work on. */
export interface GatewayDeps {
  connections: Connections;
  rooms: Rooms;
  messages: Messages;
  reactions: Reactions;
  pins: Pins;
  search: MessageSearcher;
  channels: Channels;
}

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** The names in a path's braces: `"/groups/{group}/clients/{clientId}"` → `"group" | "clientId"`. */
export type PathParamName<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | PathParamName<Rest> : never;
type PathParams<P extends string> = { [K in PathParamName<P>]: string };

type BodySchema = z.ZodObject | undefined;
/** An object schema's fields (`z.strictObject({})`'s none: nothing, rather than an index signature of `never`). */
type Fields<T> = T extends Record<string, never> ? unknown : T;
type BodyOut<B extends BodySchema> = B extends z.ZodObject ? Fields<z.output<B>> : unknown;
type BodyIn<B extends BodySchema> = B extends z.ZodObject ? Fields<z.input<B>> : unknown;
/** What an operation answers: its output schema's value, or nothing (HTTP 204). */
type Answer<O extends z.ZodType | null> = O extends z.ZodType ? z.input<O> : void;

export interface Operation<
  P extends string = string,
  Q extends z.ZodObject = z.ZodObject,
  B extends BodySchema = BodySchema,
  O extends z.ZodType | null = z.ZodType | null,
> {
  tag: "Delivery" | "Clients" | "Users" | "Groups" | "Rooms";
  /** One line: the OpenAPI summary and the docs table's description. */
  summary: string;
  /** Where it lives on the HTTP API, under /api/v1 (OpenAPI-style path; its parameters are fields of the input). */
  http: { method: HttpMethod; path: P; status?: 200 | 201 };
  /** Fields that HTTP takes in the query string. */
  query: Q;
  /** Fields that HTTP takes in a JSON body. */
  body?: B;
  /** What it answers; null: nothing (HTTP 204). */
  output: O;
  /** Runs it on validated input: the path's parameters, the query's and the body's fields in one object. */
  run(deps: GatewayDeps, input: PathParams<P> & Fields<z.output<Q>> & BodyOut<B>): Promise<Answer<O>> | Answer<O>;
}

/** The input an operation takes from code inside the process, before validation (defaults may be left out). */
export type OperationInput<Op> = Op extends Operation<infer P, infer Q, infer B, z.ZodType | null> ? PathParams<P> & Fields<z.input<Q>> & BodyIn<B> : never;
export type OperationAnswer<Op> = Op extends Operation<string, z.ZodObject, BodySchema, infer O> ? Answer<O> : never;

function operation<P extends string, Q extends z.ZodObject, O extends z.ZodType | null, B extends BodySchema = undefined>(
  op: Operation<P, Q, B, O>,
): Operation<P, Q, B, O> {
  return op;
}

/**
 * Path parameters are input too, validated like the same fields in bodies and
 * queue commands (a U+0000 in `/rooms/%00/messages` reached the database and
 * failed as `internal`).
 */
const PATH_PARAMS: Record<string, z.ZodType<string>> = { clientId: id, userId: id, roomId: id, group: channelName, messageId, emoji: emoji() };

/** The schemas of a path's parameters, by name. */
export function pathParams(path: string): Record<string, z.ZodType<string>> {
  return Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, PATH_PARAMS[name!] ?? id]));
}

/**
 * All of an operation's input as one object (path parameters, query and body
 * fields side by side): what a queue command and `core.gateway` take.
 */
export function inputSchema(op: Operation): z.ZodType {
  const outer = { ...pathParams(op.http.path), ...op.query.shape };
  // safeExtend keeps the body's refinements (publish needs a target; a post is by a user or a bot).
  return op.body ? op.body.safeExtend(outer) : z.strictObject(outer);
}

const none = z.strictObject({});
const ns = namespaceQuery;
/** Lists that grow with the number of connections come in pages. */
const listQuery = namespaceQuery.extend(pageQuery.shape);
const nextCursor = z.string().optional().describe("present when there is more: pass it as `after` for the next page");
const count = z.object({ count: z.number().int() });
const online = z.object({ online: z.boolean() });
const clients = z.object({ clients: z.array(clientInfo), nextCursor });
const nothing = z.object({});

export const operations = {
  // ---- delivery ----
  publish: operation({
    tag: "Delivery", http: { method: "post", path: "/publish" }, query: none, body: publishBody,
    summary: "Deliver an event to any mix of rooms, users, clients, groups, channels or everyone; answers how many targets it addressed",
    output: z.object({ targets: z.number().int().describe("how many targets were addressed") }),
    async run({ connections, channels }, input) {
      const namespace = served(connections, input.namespace);
      const { rooms = [], users = [], clients = [], groups = [], channels: names = [], all = false, event, data = null } = input;
      connections.emit(namespace, all ? { all } : { rooms, users, clients, groups, channels: names }, event, data);
      // Channels of a namespace that keeps history also store it, as a publication whose data is `{event, data}`.
      for (const channel of names) await channels.record(namespace, channel, { event, data });
      return { targets: all ? 1 : rooms.length + users.length + clients.length + groups.length + names.length };
    },
  }),
  broadcast: operation({
    tag: "Delivery", http: { method: "post", path: "/broadcast" }, query: ns, body: emitBody,
    summary: "Broadcast an event to every connection of a namespace", output: nothing,
    run: ({ connections }, { namespace, event, data = null }) => (connections.emit(served(connections, namespace), { all: true }, event, data), {}),
  }),

  // ---- clients (connections) ----
  listClients: operation({
    tag: "Clients", http: { method: "get", path: "/clients" }, query: listQuery,
    summary: "List online clients (a page, by id)", output: clients,
    run: ({ connections }, { namespace, ...page }) => clientPage(connections, namespace, {}, page),
  }),
  countClients: operation({
    tag: "Clients", http: { method: "get", path: "/clients/count" }, query: ns,
    summary: "Count online clients", output: count,
    run: async ({ connections }, { namespace }) => ({ count: (await connections.find(served(connections, namespace), {})).length }),
  }),
  isClientOnline: operation({
    tag: "Clients", http: { method: "get", path: "/clients/{clientId}" }, query: ns,
    summary: "Is a client online?", output: online,
    run: async ({ connections }, { namespace, clientId }) => ({
      online: (await connections.find(served(connections, namespace), { client: clientId })).length > 0,
    }),
  }),
  sendToClient: operation({
    tag: "Clients", http: { method: "post", path: "/clients/{clientId}/send" }, query: ns, body: emitBody,
    summary: "Send an event to one client (404 if it is not connected)", output: nothing,
    async run({ connections }, { namespace, clientId, event, data = null }) {
      await connected(connections, namespace, clientId);
      connections.emit(namespace, { clients: [clientId] }, event, data);
      return {};
    },
  }),
  closeClient: operation({
    tag: "Clients", http: { method: "post", path: "/clients/{clientId}/close" }, query: ns,
    summary: "Close a client's connection (it may reconnect, with a new id)", output: null,
    async run({ connections }, { namespace, clientId }) {
      await connected(connections, namespace, clientId);
      await connections.disconnect(namespace, clientId);
    },
  }),
  userOfClient: operation({
    tag: "Clients", http: { method: "get", path: "/clients/{clientId}/user" }, query: ns,
    summary: "Get the user a client is bound to (`null` if unbound)", output: z.object({ userId: z.string().nullable() }),
    run: async ({ connections }, { namespace, clientId }) => ({ userId: (await connected(connections, namespace, clientId)).userId }),
  }),
  bindUser: operation({
    tag: "Clients", http: { method: "put", path: "/clients/{clientId}/user" }, query: ns, body: bindBody,
    summary: "Bind a client to a user id, replacing any previous one: it then gets what is sent to that user", output: null,
    async run({ connections }, { namespace, clientId, userId }) {
      const client = await connected(connections, namespace, clientId);
      if (client.userId !== userId) await connections.bindUser(namespace, clientId, userId, client.userId);
    },
  }),
  unbindUser: operation({
    tag: "Clients", http: { method: "delete", path: "/clients/{clientId}/user" }, query: ns,
    summary: "Unbind a client from its user", output: null,
    async run({ connections }, { namespace, clientId }) {
      const client = await connected(connections, namespace, clientId);
      if (client.userId) await connections.unbindUser(namespace, clientId, client.userId);
    },
  }),

  // ---- users ----
  listUsers: operation({
    tag: "Users", http: { method: "get", path: "/users" }, query: listQuery,
    summary: "List the ids of users with an online client (a page, sorted)", output: z.object({ users: z.array(z.string()), nextCursor }),
    async run({ connections }, { namespace, ...page }) {
      const { items, nextCursor } = pageOf(await onlineUsers(connections, namespace), (u) => u, page);
      return { users: items, ...(nextCursor ? { nextCursor } : {}) };
    },
  }),
  countUsers: operation({
    tag: "Users", http: { method: "get", path: "/users/count" }, query: ns,
    summary: "Count users with an online client", output: count,
    run: async ({ connections }, { namespace }) => ({ count: (await onlineUsers(connections, namespace)).length }),
  }),
  isUserOnline: operation({
    tag: "Users", http: { method: "get", path: "/users/{userId}" }, query: ns,
    summary: "Is a user online (any client)?", output: online,
    run: async ({ connections }, { namespace, userId }) => ({
      online: (await connections.find(served(connections, namespace), { user: userId })).length > 0,
    }),
  }),
  listUserClients: operation({
    tag: "Users", http: { method: "get", path: "/users/{userId}/clients" }, query: listQuery,
    summary: "List a user's online clients (a page, by id; none for a user id nobody is bound to)", output: clients,
    run: ({ connections }, { namespace, userId, ...page }) => clientPage(connections, namespace, { user: userId }, page),
  }),
  sendToUser: operation({
    tag: "Users", http: { method: "post", path: "/users/{userId}/send" }, query: ns, body: emitBody,
    summary: "Send an event to every client of a user (none online is no error)", output: nothing,
    run: ({ connections }, { namespace, userId, event, data = null }) => (connections.emit(served(connections, namespace), { users: [userId] }, event, data), {}),
  }),

  // ---- groups ----
  listGroups: operation({
    tag: "Groups", http: { method: "get", path: "/groups" }, query: listQuery,
    summary: "List groups that have online clients (a page, sorted)", output: z.object({ groups: z.array(z.string()), nextCursor }),
    async run({ connections }, { namespace, ...page }) {
      const { items, nextCursor } = pageOf(await liveGroups(connections, namespace), (g) => g, page);
      return { groups: items, ...(nextCursor ? { nextCursor } : {}) };
    },
  }),
  countGroups: operation({
    tag: "Groups", http: { method: "get", path: "/groups/count" }, query: ns,
    summary: "Count groups that have online clients", output: count,
    run: async ({ connections }, { namespace }) => ({ count: (await liveGroups(connections, namespace)).length }),
  }),
  listGroupClients: operation({
    tag: "Groups", http: { method: "get", path: "/groups/{group}/clients" }, query: listQuery,
    summary: "List a group's online clients (a page, by id)", output: clients,
    run: ({ connections }, { namespace, group, ...page }) => clientPage(connections, namespace, { group }, page),
  }),
  countGroupClients: operation({
    tag: "Groups", http: { method: "get", path: "/groups/{group}/clients/count" }, query: ns,
    summary: "Count a group's online clients", output: count,
    run: async ({ connections }, { namespace, group }) => ({ count: (await connections.find(served(connections, namespace), { group })).length }),
  }),
  sendToGroup: operation({
    tag: "Groups", http: { method: "post", path: "/groups/{group}/send" }, query: ns, body: emitBody,
    summary: "Send an event to every client in a group", output: nothing,
    run: ({ connections }, { namespace, group, event, data = null }) => (connections.emit(served(connections, namespace), { groups: [group] }, event, data), {}),
  }),
  joinGroup: operation({
    tag: "Groups", http: { method: "put", path: "/groups/{group}/clients/{clientId}" }, query: ns,
    summary: "Add a client to a group", output: null,
    async run({ connections }, { namespace, group, clientId }) {
      await connected(connections, namespace, clientId);
      await connections.joinGroup(namespace, clientId, group);
    },
  }),
  leaveGroup: operation({
    tag: "Groups", http: { method: "delete", path: "/groups/{group}/clients/{clientId}" }, query: ns,
    summary: "Remove a client from a group", output: null,
    async run({ connections }, { namespace, group, clientId }) {
      await connected(connections, namespace, clientId);
      await connections.leaveGroup(namespace, clientId, group);
    },
  }),
  dissolveGroup: operation({
    tag: "Groups", http: { method: "delete", path: "/groups/{group}" }, query: ns,
    summary: "Dissolve a group: every client leaves it", output: null,
    run: ({ connections }, { namespace, group }) => connections.dissolveGroup(served(connections, namespace), group),
  }),

  // ---- persistent rooms ----
  createRoom: operation({
    tag: "Rooms", http: { method: "post", path: "/rooms", status: 201 }, query: none, body: createRoomBody,
    summary: "Create a persistent room (members are created as users of your application if new; their open tabs get `room:joined`)",
    output: z.object({ room: roomShape }),
    run: async ({ rooms }, input) => ({ room: await rooms.createForBackend(input) }),
  }),
  addMembers: operation({
    tag: "Rooms", http: { method: "post", path: "/rooms/{roomId}/members" }, query: none, body: addMembersBody,
    summary: "Add members to a room; answers the ids that were not members yet", output: z.object({ added: z.array(z.string()) }),
    run: async ({ rooms }, { roomId, userIds }) => ({ added: await rooms.addMembersForBackend(roomId, userIds) }),
  }),
  updateRoom: operation({
    tag: "Rooms", http: { method: "patch", path: "/rooms/{roomId}" }, query: moderatorQuery, body: roomSettings,
    summary: "Rename a group room or set its topic (\"\" clears it); the members get `room:updated` and a timeline line (\"System renamed the room to #ops\", or the `by` member)",
    output: z.object({ room: roomShape }),
    run: async ({ rooms, messages }, { by, ...input }) => ({
      room: by ? await rooms.update(await rooms.userById(by, "by"), input) : await rooms.updateForBackend(input, (await messages.backendAuthor({})).id),
    }),
  }),
  setMemberRole: operation({
    tag: "Rooms", http: { method: "put", path: "/rooms/{roomId}/members/{userId}/role" }, query: none, body: memberRole,
    summary: "Make a member an admin of a group room, or a member again (the owner's role does not change); the members get `member:role`",
    output: null,
    run: ({ rooms }, input) => rooms.setRoleForBackend(input),
  }),
  setMemberMuted: operation({
    tag: "Rooms", http: { method: "put", path: "/rooms/{roomId}/members/{userId}/muted" }, query: moderatorQuery, body: muteState,
    summary: "Mute a member of a group room (they read, but cannot send, reply, react or pin there; never the owner), or let them write again; the members get `member:muted`",
    output: null,
    run: async ({ rooms }, { by, ...input }) => (by ? rooms.mute(await rooms.userById(by, "by"), input) : rooms.muteForBackend(input)),
  }),
  removeMember: operation({
    tag: "Rooms", http: { method: "delete", path: "/rooms/{roomId}/members/{userId}" }, query: moderatorQuery,
    summary: "Remove a member from a room (their tabs get `room:left`; with `by`, as that moderator: the timeline says who)", output: null,
    run: async ({ rooms }, { by, roomId, userId }) => (by ? rooms.remove(await rooms.userById(by, "by"), { roomId, userId }) : rooms.removeMember(roomId, userId)),
  }),
  banUser: operation({
    tag: "Rooms", http: { method: "put", path: "/rooms/{roomId}/bans/{userId}" }, query: moderatorQuery,
    summary: "Ban someone from a group room: removed if a member (their tabs get `room:left`), then no joining or invitation until unbanned; a ban may come before they ever joined",
    output: null,
    run: async ({ rooms }, { by, roomId, userId }) =>
      by ? rooms.remove(await rooms.userById(by, "by"), { roomId, userId, ban: true }) : rooms.banForBackend({ roomId, userId }),
  }),
  unbanUser: operation({
    tag: "Rooms", http: { method: "delete", path: "/rooms/{roomId}/bans/{userId}" }, query: moderatorQuery,
    summary: "Lift a ban (404 if there is none)", output: null,
    run: async ({ rooms }, { by, roomId, userId }) => (by ? rooms.unban(await rooms.userById(by, "by"), { roomId, userId }) : rooms.unbanForBackend({ roomId, userId })),
  }),
  listBans: operation({
    tag: "Rooms", http: { method: "get", path: "/rooms/{roomId}/bans" }, query: none,
    summary: "List who is banned from a room, the latest first (at most 500)",
    output: z.object({ bans: z.array(roomBanShape) }),
    run: ({ rooms }, input) => rooms.bansForBackend(input),
  }),
  archiveRoom: operation({
    tag: "Rooms", http: { method: "put", path: "/rooms/{roomId}/archived" }, query: none, body: z.strictObject({ archived: z.boolean() }),
    summary: "Archive a group room (read-only for everyone, backends included) or bring it back; the members get `room:updated`",
    output: z.object({ room: roomShape }),
    run: async ({ rooms }, input) => ({ room: await rooms.archiveForBackend(input) }),
  }),
  deleteRoom: operation({
    tag: "Rooms", http: { method: "delete", path: "/rooms/{roomId}" }, query: none,
    summary: "Delete a room with its messages and files (its members' tabs get `room:left` with `reason: \"deleted\"`)", output: null,
    run: ({ rooms }, input) => rooms.deleteForBackend(input),
  }),
  postMessage: operation({
    tag: "Rooms", http: { method: "post", path: "/rooms/{roomId}/messages", status: 201 }, query: none, body: postMessageBody,
    summary: "Post a message as a user, a named bot or the system (stored, and delivered live as `message:new`)",
    output: z.object({ message: messageShape }),
    run: async ({ messages }, { roomId, ...input }) => ({ message: await messages.post(roomId, input) }),
  }),
  editMessage: operation({
    tag: "Rooms", http: { method: "patch", path: "/rooms/{roomId}/messages/{messageId}" }, query: none, body: editMessageBody,
    summary: "Change any message's text (marked edited; the room gets `message:updated`)",
    output: z.object({ message: messageShape }),
    run: async ({ messages }, input) => ({ message: await messages.editForBackend(input) }),
  }),
  deleteMessage: operation({
    tag: "Rooms", http: { method: "delete", path: "/rooms/{roomId}/messages/{messageId}" }, query: none,
    summary: "Delete any message (its body is not kept; the room gets `message:deleted`)", output: null,
    run: ({ messages }, input) => messages.deleteForBackend(input),
  }),
  addReaction: operation({
    tag: "Rooms", http: { method: "put", path: "/rooms/{roomId}/messages/{messageId}/reactions/{emoji}" }, query: reactorQuery,
    summary: "React to a message with one emoji (URL-encoded) as a user, a bot or the system; again changes nothing (the room gets `reaction:added`)",
    output: null,
    run: async ({ messages, reactions }, input) => reactions.put(await reactor(messages, input), input),
  }),
  removeReaction: operation({
    tag: "Rooms", http: { method: "delete", path: "/rooms/{roomId}/messages/{messageId}/reactions/{emoji}" }, query: reactorQuery,
    summary: "Take that reaction back (the room gets `reaction:removed`; one not there changes nothing)",
    output: null,
    run: async ({ messages, reactions }, input) => reactions.take(await reactor(messages, input), input),
  }),
  pinMessage: operation({
    tag: "Rooms", http: { method: "put", path: "/rooms/{roomId}/messages/{messageId}/pin" }, query: reactorQuery,
    summary: `Pin a message of the room's timeline as a user, a bot or the system (at most ${MAX_PINS_PER_ROOM} per room); again changes nothing (the room gets \`message:pinned\`)`,
    output: null,
    run: async ({ messages, pins }, input) => pins.put(await actingAs(messages, input), input),
  }),
  unpinMessage: operation({
    tag: "Rooms", http: { method: "delete", path: "/rooms/{roomId}/messages/{messageId}/pin" }, query: reactorQuery,
    summary: "Unpin it, as a user, a bot or the system (the room gets `message:unpinned`; one not pinned changes nothing)",
    output: null,
    run: async ({ messages, pins }, input) => pins.take(await actingAs(messages, input), input),
  }),
  listPins: operation({
    tag: "Rooms", http: { method: "get", path: "/rooms/{roomId}/pins" }, query: none,
    summary: "List a room's pinned messages, newest pin first (each with `pinned`: who and when)",
    output: z.object({ pins: z.array(messageShape) }),
    run: ({ pins }, { roomId }) => pins.listOf(roomId),
  }),
  searchMessages: operation({
    tag: "Users", http: { method: "get", path: "/users/{userId}/messages/search" }, query: searchQuery,
    summary: "Search the messages a user may read (their rooms and DMs, and public rooms), newest first, as `message:search` does for them",
    output: z.object({
      hits: z.array(searchHitShape),
      terms: z.array(z.string()).describe("the words searched for (a client marks them in the results)"),
      nextCursor: z.string().optional().describe("present when there are more: pass it as `before` for the next page"),
    }),
    run: async ({ messages, search }, { userId, ...input }) => search.search((await messages.backendAuthor({ userId })).id, input),
  }),
  history: operation({
    tag: "Rooms", http: { method: "get", path: "/rooms/{roomId}/messages" }, query: historyQuery,
    summary: "Read a room's history, oldest first (page back with `before`), with the membership lines of its span of time",
    output: z.object({ messages: z.array(messageShape), hasMore: z.boolean(), events: z.array(roomEventShape) }),
    run: ({ messages }, input) => messages.historyForBackend(input),
  }),
};

/** The user a backend reacts as. */
async function reactor(messages: Messages, input: { userId?: string; bot?: string }): Promise<string> {
  return (await actingAs(messages, input)).id;
}

/** Who a backend acts as: a user, a bot (`bot:<id>`), or the system. */
async function actingAs(messages: Messages, { userId, bot }: { userId?: string; bot?: string }): Promise<{ id: string; displayName: string }> {
  if (userId && bot) throw new AppError("invalid_payload", "give userId or bot, not both");
  return messages.backendAuthor({ userId, bot: bot ? { id: bot } : undefined });
}

export type Operations = typeof operations;
export type OperationName = keyof Operations;

/** Every operation under its name; `run` takes input a transport has validated already. */
export type Gateway = { [K in OperationName]: (input: OperationInput<Operations[K]>) => Promise<OperationAnswer<Operations[K]>> } & {
  run<K extends OperationName>(name: K, input: unknown): Promise<OperationAnswer<Operations[K]>>;
};

/** The table as a list, for code that derives something from every operation. */
export function operationList(): Array<[OperationName, Operation]> {
  return Object.entries(operations) as Array<[OperationName, Operation]>;
}

/**
 * `core.gateway`: each operation as a method that validates its input (as
 * the transports do) and runs it. `run` is for the transports, which
 * validate on their own (each part of an HTTP request separately).
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const run = async (name: OperationName, input: unknown) => (operations[name] as Operation).run(deps, input as never);
  const methods = operationList().map(([name, op]) => {
    const schema = inputSchema(op);
    return [name, async (input: unknown) => run(name, parseInput(schema, input))];
  });
  return { ...Object.fromEntries(methods), run } as Gateway;
}

// ---- what the operations share ----

/** The namespace, if this server serves it; `not_found` otherwise. */
function served(connections: Connections, namespace: string): string {
  if (!connections.hasNamespace(namespace)) throw new AppError("not_found", `no namespace "${namespace}" on this server`);
  return namespace;
}

/** A connected client of a served namespace; `not_found` otherwise. */
async function connected(connections: Connections, namespace: string, clientId: string): Promise<ClientInfo> {
  const [client] = await connections.find(served(connections, namespace), { client: clientId });
  if (!client) throw new AppError("not_found", `client "${clientId}" is not connected`);
  return client;
}

/** A page of the connections a selector names, by id. */
async function clientPage(
  connections: Connections,
  namespace: string,
  selector: Selector,
  page: { limit: number; after?: string | undefined },
): Promise<{ clients: ClientInfo[]; nextCursor?: string }> {
  const { items, nextCursor } = pageOf(await connections.find(served(connections, namespace), selector), (c) => c.id, page);
  return { clients: items, ...(nextCursor ? { nextCursor } : {}) };
}

/** The distinct values (user ids, groups) the namespace's clients have, sorted. */
async function distinctOf(connections: Connections, namespace: string, valuesOf: (client: ClientInfo) => string[]): Promise<string[]> {
  const all = await connections.find(served(connections, namespace), {});
  return [...new Set(all.flatMap(valuesOf))].sort();
}

const onlineUsers = (connections: Connections, namespace: string) => distinctOf(connections, namespace, (c) => (c.userId ? [c.userId] : []));
const liveGroups = (connections: Connections, namespace: string) => distinctOf(connections, namespace, (c) => c.groups);
