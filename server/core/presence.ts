import type { Delivery } from "./delivery";

/**
 * Who is online, counted by connection so that only a user's first tab
 * connecting and last tab closing change their presence. Shared state: one
 * instance keeps it in memory; several instances share it through Redis.
 */
export interface PresenceStore {
  /** Records a connection; true if it is the user's first. */
  add(userId: string, connectionId: string): Promise<boolean>;
  /** Forgets a connection; true if it was the user's last. */
  remove(userId: string, connectionId: string): Promise<boolean>;
  /** Which of these users have at least one connection. */
  online(userIds: string[]): Promise<Set<string>>;
}

/** Presence for a single instance, held by this object (not by the module). */
export class MemoryPresenceStore implements PresenceStore {
  private readonly connections = new Map<string, Set<string>>();

  async add(userId: string, connectionId: string): Promise<boolean> {
    let set = this.connections.get(userId);
    if (!set) this.connections.set(userId, (set = new Set()));
    set.add(connectionId);
    return set.size === 1;
  }

  async remove(userId: string, connectionId: string): Promise<boolean> {
    const set = this.connections.get(userId);
    if (!set?.delete(connectionId)) return false;
    if (set.size > 0) return false;
    this.connections.delete(userId);
    return true;
  }

  async online(userIds: string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.connections.has(id)));
  }
}

/** Announces presence changes to the rooms a user shares with others. */
export class Presence {
  constructor(
    private readonly store: PresenceStore,
    private readonly delivery: Delivery,
    private readonly roomIdsOf: (userId: string) => Promise<string[]>,
  ) {}

  async connected(userId: string, connectionId: string): Promise<void> {
    if (await this.store.add(userId, connectionId)) await this.announce(userId, true);
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    if (await this.store.remove(userId, connectionId)) await this.announce(userId, false);
  }

  online(userIds: string[]): Promise<Set<string>> {
    return this.store.online(userIds);
  }

  /** Users whose connections vanished with a dead instance: announce them offline. */
  async expired(userIds: string[]): Promise<void> {
    for (const userId of userIds) await this.announce(userId, false);
  }

  private async announce(userId: string, online: boolean): Promise<void> {
    const roomIds = await this.roomIdsOf(userId);
    if (roomIds.length > 0) this.delivery.toRooms(roomIds, "presence", [{ userId, online }]);
  }
}
