/**
 * Names of the Socket.IO rooms Switchboard uses. Always build (and read) them
 * here, never by concatenating in place: they are shared by every instance
 * and by the gateway's operations.
 */
const USER = "user:";
const GROUP = "group:";
const CHANNEL = "channel:";
const ROOM = "room:";

export const socketRooms = {
  /** Every connection (tab) of one user. */
  user: (userId: string) => `${USER}${userId}`,
  /** Every connection of every member of a persistent room. */
  room: (roomId: string) => `${ROOM}${roomId}`,
  /** An ad-hoc connection group, managed by backends. */
  group: (name: string) => `${GROUP}${name}`,
  /** Every connection opened with one session's token. */
  session: (sessionId: string) => `session:${sessionId}`,
  /** Every connection from one client address (anonymous namespaces count them). */
  address: (ip: string) => `ip:${ip}`,
  /** A channel clients subscribe to in a non-chat namespace. */
  channel: (name: string) => `${CHANNEL}${name}`,

  /** Whether a room is one user's (every connection of theirs is in it). */
  isUserRoom: (room: string) => room.startsWith(USER),
  /** The user a connection belongs to, from its rooms. */
  userOf(rooms: Iterable<string>): string | null {
    for (const r of rooms) if (r.startsWith(USER)) return r.slice(USER.length);
    return null;
  },
  /** The groups a connection is in, from its rooms. */
  groupsOf(rooms: Iterable<string>): string[] {
    return [...rooms].filter((r) => r.startsWith(GROUP)).map((r) => r.slice(GROUP.length));
  },
  /** The persistent rooms a connection is subscribed to, from its rooms. */
  roomsOf(rooms: Iterable<string>): string[] {
    return [...rooms].filter((r) => r.startsWith(ROOM)).map((r) => r.slice(ROOM.length));
  },
  /** The channels a connection is subscribed to, from its rooms. */
  channelsOf(rooms: Iterable<string>): string[] {
    return [...rooms].filter((r) => r.startsWith(CHANNEL)).map((r) => r.slice(CHANNEL.length));
  },
} as const;
