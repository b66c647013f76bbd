/**
 * The gateway for backends: one method per operation of the HTTP API v1 (and
 * the queue inlet): the connection operations (clients, users, groups), publish, and
 * persistent rooms. Connection ids are Socket.IO socket ids ("clients"),
 * users are Switchboard user ids, groups are ad-hoc connection groups.
 */
import type { ClientInfo, EmitBody, PostMessageBody, PublishBody } from "../../shared/gateway";
import type { Message, Room } from "../../shared/protocol";
import type { MessageHistory, RoomCreate } from "../../shared/schemas";
import type { Channels } from "./channels";
import type { Connections } from "./connections";
import { AppError } from "./errors";
import type { Messages } from "./messages";
import { pageOf } from "./paging";
import type { Rooms } from "./rooms";

/** Which part of a list to return: at most `limit` items after the cursor `after`. */
export interface PageRequest {
  limit: number;
  after?: string | undefined;
}

/** The lists below are kept in memory by every instance; without a limit they are returned whole. */
const WHOLE: PageRequest = { limit: Number.MAX_SAFE_INTEGER };

export class Gateway {
  constructor(
    private readonly connections: Connections,
    private readonly rooms: Rooms,
    private readonly messages: Messages,
    private readonly channels: Channels,
  ) {}

  // ---- delivery ----

  /**
   * Delivers an event to any mix of targets; answers how many targets it
   * addressed. Channels of a namespace that keeps history also store it (as a
   * publication whose data is `{event, data}`).
   */
  async publish(input: PublishBody): Promise<{ targets: number }> {
    const ns = this.namespace(input.namespace);
    const { rooms = [], users = [], clients = [], groups = [], channels = [], all = false } = input;
    this.connections.emit(ns, all ? { all } : { rooms, users, clients, groups, channels }, input.event, input.data ?? null);
    for (const channel of channels) await this.channels.record(ns, channel, { event: input.event, data: input.data ?? null });
    return { targets: all ? 1 : rooms.length + users.length + clients.length + groups.length + channels.length };
  }

  broadcast(namespace: string, { event, data }: EmitBody): void {
    this.connections.emit(this.namespace(namespace), { all: true }, event, data ?? null);
  }

  async sendToClient(namespace: string, clientId: string, { event, data }: EmitBody): Promise<void> {
    const ns = this.namespace(namespace);
    await this.client(ns, clientId);
    this.connections.emit(ns, { clients: [clientId] }, event, data ?? null);
  }

  sendToUser(namespace: string, userId: string, { event, data }: EmitBody): void {
    this.connections.emit(this.namespace(namespace), { users: [userId] }, event, data ?? null);
  }

  sendToGroup(namespace: string, group: string, { event, data }: EmitBody): void {
    this.connections.emit(this.namespace(namespace), { groups: [group] }, event, data ?? null);
  }

  // ---- clients ----

  /** A page of the namespace's connections, by id. */
  async listClients(namespace: string, page = WHOLE): Promise<{ clients: ClientInfo[]; nextCursor?: string }> {
    const { items, nextCursor } = pageOf(await this.allClients(namespace), (c) => c.id, page);
    return { clients: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async countClients(namespace: string): Promise<number> {
    return (await this.allClients(namespace)).length;
  }

  private allClients(namespace: string): Promise<ClientInfo[]> {
    return this.connections.find(this.namespace(namespace), {});
  }

  async isClientOnline(namespace: string, clientId: string): Promise<boolean> {
    return (await this.connections.find(this.namespace(namespace), { client: clientId })).length > 0;
  }

  async closeClient(namespace: string, clientId: string): Promise<void> {
    const ns = this.namespace(namespace);
    await this.client(ns, clientId);
    await this.connections.disconnect(ns, clientId);
  }

  // ---- users ----

  /** A page of the ids of users with a connection, sorted. */
  async listUsers(namespace: string, page = WHOLE): Promise<{ users: string[]; nextCursor?: string }> {
    const { items, nextCursor } = pageOf(await this.allUsers(namespace), (u) => u, page);
    return { users: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async countUsers(namespace: string): Promise<number> {
    return (await this.allUsers(namespace)).length;
  }

  private async allUsers(namespace: string): Promise<string[]> {
    const clients = await this.allClients(namespace);
    return [...new Set(clients.flatMap((c) => (c.userId ? [c.userId] : [])))].sort();
  }

  async isUserOnline(namespace: string, userId: string): Promise<boolean> {
    return (await this.connections.find(this.namespace(namespace), { user: userId })).length > 0;
  }

  /** A page of one user's connections, by id. */
  async listUserClients(namespace: string, userId: string, page = WHOLE): Promise<{ clients: ClientInfo[]; nextCursor?: string }> {
    const all = await this.connections.find(this.namespace(namespace), { user: userId });
    const { items, nextCursor } = pageOf(all, (c) => c.id, page);
    return { clients: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async userOfClient(namespace: string, clientId: string): Promise<string | null> {
    return (await this.client(this.namespace(namespace), clientId)).userId;
  }

  /** Binds a connection to a user id: it then receives what is sent to that user. */
  async bindUser(namespace: string, clientId: string, userId: string): Promise<void> {
    const ns = this.namespace(namespace);
    const client = await this.client(ns, clientId);
    if (client.userId === userId) return;
    await this.connections.bindUser(ns, clientId, userId, client.userId);
  }

  async unbindUser(namespace: string, clientId: string): Promise<void> {
    const ns = this.namespace(namespace);
    const client = await this.client(ns, clientId);
    if (client.userId) await this.connections.unbindUser(ns, clientId, client.userId);
  }

  // ---- groups ----

  async joinGroup(namespace: string, group: string, clientId: string): Promise<void> {
    const ns = this.namespace(namespace);
    await this.client(ns, clientId);
    await this.connections.joinGroup(ns, clientId, group);
  }

  async leaveGroup(namespace: string, group: string, clientId: string): Promise<void> {
    const ns = this.namespace(namespace);
    await this.client(ns, clientId);
    await this.connections.leaveGroup(ns, clientId, group);
  }

  /** Dissolves a group: every member leaves it ("ungroup"). */
  dissolveGroup(namespace: string, group: string): Promise<void> {
    return this.connections.dissolveGroup(this.namespace(namespace), group);
  }

  /** A page of a group's connections, by id. */
  async listGroupClients(namespace: string, group: string, page = WHOLE): Promise<{ clients: ClientInfo[]; nextCursor?: string }> {
    const all = await this.connections.find(this.namespace(namespace), { group });
    const { items, nextCursor } = pageOf(all, (c) => c.id, page);
    return { clients: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async countGroupClients(namespace: string, group: string): Promise<number> {
    return (await this.connections.find(this.namespace(namespace), { group })).length;
  }

  /** A page of the groups with at least one connection, sorted. */
  async listGroups(namespace: string, page = WHOLE): Promise<{ groups: string[]; nextCursor?: string }> {
    const { items, nextCursor } = pageOf(await this.allGroups(namespace), (g) => g, page);
    return { groups: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async countGroups(namespace: string): Promise<number> {
    return (await this.allGroups(namespace)).length;
  }

  private async allGroups(namespace: string): Promise<string[]> {
    const clients = await this.allClients(namespace);
    return [...new Set(clients.flatMap((c) => c.groups))].sort();
  }

  // ---- persistent rooms ----

  createRoom(input: RoomCreate): Promise<Room> {
    return this.rooms.createForBackend(input);
  }

  addMembers(roomId: string, userIds: string[]): Promise<string[]> {
    return this.rooms.addMembersForBackend(roomId, userIds);
  }

  removeMember(roomId: string, userId: string): Promise<void> {
    return this.rooms.removeMember(roomId, userId);
  }

  postMessage(roomId: string, input: PostMessageBody): Promise<Message> {
    return this.messages.post(roomId, input);
  }

  history(roomId: string, page: Omit<MessageHistory, "roomId">): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.messages.historyForBackend({ roomId, ...page });
  }

  // ----

  private namespace(name: string): string {
    if (!this.connections.hasNamespace(name)) throw new AppError("not_found", `no namespace "${name}" on this server`);
    return name;
  }

  private async client(namespace: string, clientId: string): Promise<ClientInfo> {
    const [client] = await this.connections.find(namespace, { client: clientId });
    if (!client) throw new AppError("not_found", `client "${clientId}" is not connected`);
    return client;
  }
}
