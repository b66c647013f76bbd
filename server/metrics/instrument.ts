/**
 * Where the running server meets {@link Metrics}: a connection middleware
 * that counts its refusals, a {@link Delivery} that counts broadcasts, and
 * what a scrape reads from Socket.IO.
 */
import type { Delivery, EventArgs, ServerEvent } from "../core/delivery";
import { socketRooms } from "../realtime/socket-rooms";
import type { IoServer } from "../realtime/types";
import type { Metrics, MetricSources } from "./metrics";

type Middleware<S> = (socket: S, next: (err?: Error) => void) => void;

/** `middleware`, counting the connections it refuses by the error code it refuses them with. */
export function countRefusals<S>(namespace: string, metrics: Metrics, middleware: Middleware<S>): Middleware<S> {
  return (socket, next) =>
    middleware(socket, (err) => {
      // Refusals carry the catalogue's code in `data` (realtime/admission.ts).
      if (err) metrics.refused(namespace, String((err as { data?: { code?: unknown } }).data?.code ?? "internal"));
      next(err);
    });
}

/** `delivery`, counting each broadcast by its event. */
export function countedDelivery(delivery: Delivery, metrics: Metrics): Delivery {
  return {
    toRoom<E extends ServerEvent>(roomId: string, event: E, args: EventArgs<E>, except?: string) {
      metrics.delivered(event);
      delivery.toRoom(roomId, event, args, except);
    },
    toRooms<E extends ServerEvent>(roomIds: string[], event: E, args: EventArgs<E>, userIds?: string[]) {
      metrics.delivered(event);
      delivery.toRooms(roomIds, event, args, userIds);
    },
    toUser<E extends ServerEvent>(userId: string, event: E, args: EventArgs<E>) {
      metrics.delivered(event);
      delivery.toUser(userId, event, args);
    },
    userChanged: (user) => delivery.userChanged(user),
    addUserToRoom: (userId, roomId) => delivery.addUserToRoom(userId, roomId),
    removeUserFromRoom: (userId, roomId) => delivery.removeUserFromRoom(userId, roomId),
  };
}

/** This instance's connections by namespace and transport, read at scrape time. */
export function socketSources(io: IoServer, namespaces: string[]): Pick<MetricSources, "connections" | "usersConnected"> {
  return {
    connections: () =>
      namespaces.flatMap((namespace) =>
        [...io.of(namespace).sockets.values()].map((socket) => ({ namespace, transport: socket.conn.transport.name })),
      ),
    usersConnected: () => {
      // Every chat connection is in its user's room: count the user rooms this instance holds.
      let users = 0;
      for (const room of io.of("/").adapter.rooms.keys()) if (socketRooms.isUserRoom(room)) users += 1;
      return users;
    },
  };
}
