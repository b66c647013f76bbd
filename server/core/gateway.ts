/**
 * The gateway for backends: one method per operation of the HTTP API v1 (and
 * the queue inlet). Seed 004's 21 connection operations, publish, and
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
import type { Rooms } from "./rooms";

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

  listClients(namespace: string): Promise<ClientInfo[]> {
    return this.connections.find(this.namespace(namespace), {});
  }

  async countClients(namespace: string): Promise<number> {
    return (await this.listClients(namespace)).length;
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

  async listUsers(namespace: string): Promise<string[]> {
    const clients = await this.listClients(namespace);
    return [...new Set(clients.flatMap((c) => (c.userId ? [c.userId] : [])))].sort();
  }

  async countUsers(namespace: string): Promise<number> {
    return (await this.listUsers(namespace)).length;
  }

  async isUserOnline(namespace: string, userId: string): Promise<boolean> {
    return (await this.listUserClients(namespace, userId)).length > 0;
  }

  listUserClients(namespace: string, userId: string): Promise<ClientInfo[]> {
    return this.connections.find(this.namespace(namespace), { user: userId });
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

  /** Dissolves a group: every member leaves it (seed 004's "ungroup"). */
  dissolveGroup(namespace: string, group: string): Promise<void> {
    return this.connections.dissolveGroup(this.namespace(namespace), group);
  }

  listGroupClients(namespace: string, group: string): Promise<ClientInfo[]> {
    return this.connections.find(this.namespace(namespace), { group });
  }

  async countGroupClients(namespace: string, group: string): Promise<number> {
    return (await this.listGroupClients(namespace, group)).length;
  }

  /** Groups with at least one connection. */
  async listGroups(namespace: string): Promise<string[]> {
    const clients = await this.listClients(namespace);
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
