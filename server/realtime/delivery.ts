import type { User } from "../../shared/protocol";
import type { Delivery, EventArgs, ServerEvent } from "../core/delivery";
import { socketRooms } from "./socket-rooms";
import type { IoServer } from "./types";

/**
 * {@link Delivery} over Socket.IO rooms. `io.to()`, `socketsJoin()` and
 * `socketsLeave()` go through the adapter, so with the Redis adapter they
 * reach connections on every instance.
 */
export class SocketDelivery implements Delivery {
  constructor(private readonly io: IoServer) {}

  toRoom<E extends ServerEvent>(roomId: string, event: E, args: EventArgs<E>, except?: string): void {
    const target = this.io.to(socketRooms.room(roomId));
    (except ? target.except(except) : target).emit(event, ...args);
  }

  toRooms<E extends ServerEvent>(roomIds: string[], event: E, args: EventArgs<E>, userIds: string[] = []): void {
    this.io.to([...roomIds.map(socketRooms.room), ...userIds.map(socketRooms.user)]).emit(event, ...args);
  }

  userChanged(user: User): void {
    updateConnections(this.io, user);
    // The other instances do the same for theirs (server/server.ts listens).
    this.io.serverSideEmit("sb:user", user);
  }

  toUser<E extends ServerEvent>(userId: string, event: E, args: EventArgs<E>): void {
    this.io.to(socketRooms.user(userId)).emit(event, ...args);
  }

  // The Redis adapter applies a join or leave only when its own message comes
  // back from Redis, even for this instance's connections: applied locally
  // first, they take effect at once here (and during a Redis outage).
  addUserToRoom(userId: string, roomId: string): void {
    for (const scope of [this.io.local, this.io]) scope.in(socketRooms.user(userId)).socketsJoin(socketRooms.room(roomId));
  }

  removeUserFromRoom(userId: string, roomId: string): void {
    for (const scope of [this.io.local, this.io]) scope.in(socketRooms.user(userId)).socketsLeave(socketRooms.room(roomId));
  }
}

/** This instance's chat connections of the user carry the changed profile (what their next messages show). */
export function updateConnections(io: IoServer, user: User): void {
  const ids = io.of("/").adapter.rooms.get(socketRooms.user(user.id)) ?? new Set<string>();
  for (const id of ids) {
    const socket = io.of("/").sockets.get(id);
    if (socket?.data.user?.id === user.id) socket.data.user = user;
  }
}
