/**
 * Names of the Socket.IO rooms Switchboard uses. Always build them here,
 * never by concatenating in place: they are part of the contract with the
 * gateway API and with other instances.
 */
export const socketRooms = {
  /** Every connection (tab) of one user. */
  user: (userId: string) => `user:${userId}`,
  /** Every connection of every member of a persistent room. */
  room: (roomId: string) => `room:${roomId}`,
} as const;
