import type { ServerToClientEvents, User } from "../../shared/protocol";

export type ServerEvent = keyof ServerToClientEvents;
export type EventArgs<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>;

/**
 * How the core reaches connected clients, without knowing about sockets.
 * The realtime layer implements it with Socket.IO rooms (and, with several
 * instances, through the adapter), so the HTTP API and queue inlet deliver
 * exactly as socket handlers do.
 */
export interface Delivery {
  /** To every connection of every member of a room; `except` skips one connection. */
  toRoom<E extends ServerEvent>(roomId: string, event: E, args: EventArgs<E>, except?: string): void;
  /** To several rooms (and every tab of `userIds`) at once; a connection in more than one of them gets the event once. */
  toRooms<E extends ServerEvent>(roomIds: string[], event: E, args: EventArgs<E>, userIds?: string[]): void;
  /** To every connection (every tab) of a user. */
  toUser<E extends ServerEvent>(userId: string, event: E, args: EventArgs<E>): void;
  /** The user's profile changed: their connections, on every instance, act with it from now on. */
  userChanged(user: User): void;
  /** Subscribes every current connection of a user to a room's events. */
  addUserToRoom(userId: string, roomId: string): void;
  /** Unsubscribes every current connection of a user from a room's events. */
  removeUserFromRoom(userId: string, roomId: string): void;
}
