import type { Core } from "../core";
import type { Logger } from "../logger";
import { authMiddleware } from "./auth";
import { clientEvents } from "./events";
import { dispatch } from "./handle";
import { TokenBucket } from "./rate-limit";
import { socketRooms } from "./socket-rooms";
import type { IoServer } from "./types";

export interface RealtimeOptions {
  corsOrigins: string[];
  rateLimitPerSecond: number;
}

/** Wires namespace `/` (chat, contract v1): authentication, subscriptions, presence, events. */
export function attachRealtime(io: IoServer, core: Core, log: Logger, options: RealtimeOptions): void {
  const chat = io.of("/");
  chat.use(authMiddleware(core, options.corsOrigins, log.child({ part: "auth" })));

  chat.on("connection", async (socket) => {
    // The chat namespace never admits anonymous connections (see authMiddleware).
    const user = socket.data.user!;
    const limiter = new TokenBucket(options.rateLimitPerSecond);
    const deps = { log, limiter, events: clientEvents, context: { core, user, connectionId: socket.id } };
    // Listeners go on before any await so no early event is missed; events
    // for rooms arrive once the subscriptions below are in place.
    socket.onAny((event: string, ...args: unknown[]) => dispatch(socket, deps, event, args));
    // Count the connection before any await, so that its close (which may
    // come at any moment) is always processed after it was counted.
    core.presence
      .connected(user.id, socket.id)
      .catch((err: unknown) => log.warn({ err, userId: user.id }, "presence update failed"));
    socket.on("disconnect", () => {
      core.presence
        .disconnected(user.id, socket.id)
        .catch((err: unknown) => log.warn({ err, userId: user.id }, "presence update failed"));
    });
    socket.join(socketRooms.user(user.id));
    try {
      const roomIds = await core.rooms.idsOf(user.id);
      if (socket.connected) socket.join(roomIds.map(socketRooms.room));
    } catch (err) {
      log.error({ err, userId: user.id }, "could not subscribe connection to its rooms");
      socket.disconnect(true);
    }
  });
}
