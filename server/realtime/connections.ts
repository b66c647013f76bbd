import type { ClientInfo } from "../../shared/gateway";
import type { SessionEndReason } from "../../shared/protocol";
import type { Connections, Selector, Targets } from "../core/connections";
import { AppError } from "../core/errors";
import { socketRooms } from "./socket-rooms";
import type { IoServer } from "./types";

/**
 * {@link Connections} over Socket.IO: targets are rooms, queries are
 * `fetchSockets()`, changes are `socketsJoin/Leave` and `disconnectSockets`,
 * all of which the adapter carries to every instance. A change is a message
 * the adapter sends and forgets; `sent` resolves once the adapter's transport
 * has taken it (Redis: it answered a later command on the same connection),
 * so a query any instance sends afterwards is ordered after the change.
 */
export class SocketConnections implements Connections {
  constructor(
    private readonly io: IoServer,
    private readonly namespaces: ReadonlySet<string>,
    private readonly sent: () => Promise<void> = async () => {},
    /** Told when a cluster-wide query timed out (metrics). */
    private readonly onClusterTimeout: () => void = () => {},
  ) {}

  hasNamespace(namespace: string): boolean {
    return this.namespaces.has(namespace);
  }

  emit(namespace: string, t: Targets, event: string, data: unknown): void {
    const nsp = this.io.of(namespace);
    // Backends choose their own event names: the typed event map does not apply.
    const untyped = nsp as unknown as { emit(e: string, d: unknown): boolean; to(r: string[]): { emit(e: string, d: unknown): boolean } };
    if (t.all) {
      untyped.emit(event, data);
      return;
    }
    const rooms = [
      ...(t.rooms ?? []).map(socketRooms.room),
      ...(t.users ?? []).map(socketRooms.user),
      ...(t.groups ?? []).map(socketRooms.group),
      ...(t.channels ?? []).map(socketRooms.channel),
      ...(t.clients ?? []), // every socket is in a room named by its id
    ];
    if (rooms.length > 0) untyped.to(rooms).emit(event, data);
  }

  async find(namespace: string, selector: Selector): Promise<ClientInfo[]> {
    const nsp = this.io.of(namespace);
    const scope =
      "client" in selector
        ? nsp.in(selector.client)
        : "user" in selector
          ? nsp.in(socketRooms.user(selector.user))
          : "group" in selector
            ? nsp.in(socketRooms.group(selector.group))
            : "channel" in selector
              ? nsp.in(socketRooms.channel(selector.channel))
              : nsp;
    const sockets = await scope.fetchSockets().catch((err: unknown) => {
      if (isClusterTimeout(err)) {
        this.onClusterTimeout();
        throw new AppError("unavailable", "the cluster did not answer in time; try again");
      }
      throw err;
    });
    return sockets
      .map((s) => ({ id: s.id, userId: socketRooms.userOf(s.rooms), groups: socketRooms.groupsOf(s.rooms).sort() }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  joinGroup(namespace: string, clientId: string, group: string): Promise<void> {
    for (const scope of this.scopes(namespace)) scope.in(clientId).socketsJoin(socketRooms.group(group));
    return this.sent();
  }

  leaveGroup(namespace: string, clientId: string, group: string): Promise<void> {
    for (const scope of this.scopes(namespace)) scope.in(clientId).socketsLeave(socketRooms.group(group));
    return this.sent();
  }

  dissolveGroup(namespace: string, group: string): Promise<void> {
    const room = socketRooms.group(group);
    for (const scope of this.scopes(namespace)) scope.in(room).socketsLeave(room);
    return this.sent();
  }

  bindUser(namespace: string, clientId: string, userId: string, previous: string | null): Promise<void> {
    for (const scope of this.scopes(namespace)) {
      const client = scope.in(clientId);
      if (previous) client.socketsLeave(socketRooms.user(previous));
      client.socketsJoin(socketRooms.user(userId));
    }
    return this.sent();
  }

  unbindUser(namespace: string, clientId: string, userId: string): Promise<void> {
    for (const scope of this.scopes(namespace)) scope.in(clientId).socketsLeave(socketRooms.user(userId));
    return this.sent();
  }

  /**
   * This instance, then every instance: the Redis adapter applies a join or
   * leave only when its own message comes back from Redis, even for local
   * connections; applied locally first, it takes effect here at once (and
   * during a Redis outage). Applying it twice changes nothing.
   */
  private scopes(namespace: string) {
    const nsp = this.io.of(namespace);
    return [nsp.local, nsp] as const;
  }

  disconnect(namespace: string, clientId: string): Promise<void> {
    this.io.of(namespace).in(clientId).disconnectSockets(true);
    return this.sent();
  }

  closeSessions(sessionIds: string[], reason: SessionEndReason): Promise<void> {
    if (sessionIds.length === 0) return Promise.resolve();
    const rooms = sessionIds.map(socketRooms.session);
    for (const namespace of this.namespaces) {
      // Said once (a broadcast reaches this instance's connections at once), closed here first, then everywhere.
      (this.io.of(namespace).in(rooms) as unknown as { emit(e: string, p: unknown): boolean }).emit("session:ended", { reason });
      for (const scope of this.scopes(namespace)) scope.in(rooms).disconnectSockets(true);
    }
    return this.sent();
  }
}

/**
 * What Socket.IO's adapters (Redis, cluster) throw when another instance does
 * not answer a cluster-wide query in time: an outage, answered `unavailable`.
 */
function isClusterTimeout(err: unknown): boolean {
  return err instanceof Error && /^timeout reached\b/.test(err.message);
}
