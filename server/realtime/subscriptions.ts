/**
 * A chat connection's room subscriptions follow the database's memberships.
 * Joins and leaves travel to every instance through the adapter, and two
 * things can make a connection miss one: a removal landing while the
 * connection is still subscribing (it read its rooms, then joined them after
 * an await), and a Redis outage (nothing broadcast meanwhile reached the
 * other instances). Both are made to converge here: the first by reading
 * again once subscribed, the second by re-checking every connection when
 * Redis is back — rooms, and sessions signed out meanwhile.
 */
import type { Core } from "../core";
import type { Logger } from "../logger";
import { socketRooms } from "./socket-rooms";
import type { IoServer, IoSocket } from "./types";

/** Users per membership query when re-checking many connections. */
const CHUNK = 500;

/**
 * Subscribes a new connection to its user's rooms. The user's own room was
 * joined before (so a room added meanwhile reaches it); a room removed while
 * the first read was in flight is left after the second.
 */
export async function subscribeToRooms(socket: IoSocket, core: Core): Promise<void> {
  const userId = socket.data.user!.id;
  const first = await core.rooms.idsOf(userId);
  if (!socket.connected) return;
  socket.join(first.map(socketRooms.room));
  // A removal committed after the first read may have sent its leave before
  // these joins: read again now that they are in place, and leave what is gone.
  const again = new Set(await core.rooms.idsOf(userId));
  for (const roomId of first) if (!again.has(roomId)) socket.leave(socketRooms.room(roomId));
}

/**
 * Returns a function that re-checks every connection of this instance
 * (coalescing calls that arrive while it runs): each chat connection's
 * rooms against the memberships, telling it `room:left` / `room:joined` for
 * what changed, and every connection's session, closing those signed out.
 */
export function resyncer(io: IoServer, core: Core, log: Logger, namespaces: readonly string[]): () => void {
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        await resyncRooms(io, core);
        await resyncSessions(io, core, namespaces);
      } catch (err) {
        log.warn({ err }, "re-checking connections after a Redis outage failed");
      }
    })().finally(() => {
      running = null;
      if (again) {
        again = false;
        run();
      }
    });
  };
  return run;
}

async function resyncRooms(io: IoServer, core: Core): Promise<void> {
  const byUser = groupBy(io.of("/").sockets.values(), (socket) => socket.data.user?.id);
  const users = [...byUser.keys()];
  for (let i = 0; i < users.length; i += CHUNK) {
    const chunk = users.slice(i, i + CHUNK);
    const joined = new Map<IoSocket, string[]>();
    for (const [userId, roomIds] of await core.rooms.idsOfMany(chunk)) {
      const expected = new Set(roomIds);
      for (const socket of byUser.get(userId) ?? []) {
        if (!socket.connected) continue;
        const current = new Set(socketRooms.roomsOf(socket.rooms));
        for (const roomId of current) if (!expected.has(roomId)) leave(socket, roomId);
        const missing = roomIds.filter((id) => !current.has(id));
        if (missing.length === 0) continue;
        socket.join(missing.map(socketRooms.room));
        joined.set(socket, missing);
        for (const room of await core.rooms.byIds(missing)) socket.emit("room:joined", room);
      }
    }
    if (joined.size === 0) continue;
    // As on connect: a removal that landed between the read and the joins is
    // undone by reading again.
    const again = await core.rooms.idsOfMany(chunk);
    for (const [socket, roomIds] of joined) {
      const still = new Set(again.get(socket.data.user!.id) ?? []);
      for (const roomId of roomIds) if (!still.has(roomId)) leave(socket, roomId);
    }
  }
}

function leave(socket: IoSocket, roomId: string): void {
  socket.leave(socketRooms.room(roomId));
  socket.emit("room:left", { roomId });
}

async function resyncSessions(io: IoServer, core: Core, namespaces: readonly string[]): Promise<void> {
  const bySession = groupBy(
    namespaces.flatMap((name) => [...io.of(name).sockets.values()]),
    (socket) => socket.data.sessionId,
  );
  const sessions = [...bySession.keys()];
  for (let i = 0; i < sessions.length; i += CHUNK) {
    const chunk = sessions.slice(i, i + CHUNK);
    const live = await core.accounts.liveSessions(chunk);
    for (const sessionId of chunk) {
      if (live.has(sessionId)) continue;
      for (const socket of bySession.get(sessionId) ?? []) {
        socket.emit("session:ended", { reason: "signed_out" });
        socket.disconnect(true);
      }
    }
  }
}

/** Items by a key of theirs; those without one are left out. */
function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string | null | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (!key) continue;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
